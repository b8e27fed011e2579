package hostmath

import (
	"testing"

	"github.com/gosimclr/gosimclr/internal/avx"
)

// TestKernelsLeaveExpFast runs each micro-kernel and times math.Exp right after it on the same thread against
// a clean thread: within 2×. On Intel hosts with the AVX→SSE penalty a kernel that left the upper bits dirty
// made math.Exp ~130× slower (internal/avx); AMD hosts pass either way, and the log shows which this was.
func TestKernelsLeaveExpFast(t *testing.T) {
	k32, k64 := kernelFor[float32](), kernelFor[float64]()
	const kc = 64
	a32, b32, c32 := make([]float32, k32.mr*kc), make([]float32, kc*k32.nr), make([]float32, k32.mr*k32.nr)
	a64, b64, c64 := make([]float64, k64.mr*kc), make([]float64, kc*k64.nr), make([]float64, k64.mr*k64.nr)
	for _, c := range []struct {
		name string
		run  func()
	}{
		{"float32 kernel", func() { k32.fn(kc, a32, b32, c32, k32.nr) }},
		{"float64 kernel", func() { k64.fn(kc, a64, b64, c64, k64.nr) }},
		{"bare AVX instruction (control, not checked)", func() { avx.Dirty() }},
	} {
		clean, after := avx.CostAfter(c.run, 50000)
		t.Logf("%s: math.Exp %.1f ns clean, %.1f ns after", c.name, clean, after)
		if after > 2*clean && c.name[0] != 'b' {
			t.Errorf("%s leaves math.Exp %.1f× slower (%.1f ns vs %.1f ns)", c.name, after/clean, after, clean)
		}
	}
}
