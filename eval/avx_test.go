package eval

import (
	"testing"

	"github.com/gosimclr/gosimclr/internal/avx"
)

// TestKernelsLeaveExpFast: after the probe's micro-kernels, math.Exp (which the probe's softmax calls right
// after them) costs what it costs on a clean thread, within 2× (see internal/avx and ref's twin test).
func TestKernelsLeaveExpFast(t *testing.T) {
	const dPad, cPad = 64, 2
	x, wt, z := make([]float32, 4*dPad), make([]float32, cPad*dPad), make([]float32, 4*cPad)
	g8 := make([]float32, 4*8*cPad)
	for name, run := range map[string]func(){
		"dot4x2":    func() { dot4x2(x, wt, dPad, z, cPad) },
		"outer2x32": func() { outer2x32(4, x, dPad, g8, cPad, wt) },
	} {
		clean, after := avx.CostAfter(run, 50000)
		t.Logf("%s: math.Exp %.1f ns clean, %.1f ns after", name, clean, after)
		if after > 2*clean {
			t.Errorf("%s leaves math.Exp %.1f× slower", name, after/clean)
		}
	}
}
