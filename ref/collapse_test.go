package ref

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNormalizedStd checks the collapse measure's closed forms: 0 for rows of one direction (whatever their
// norms); rows 3e_1 and −e_1 in k = 2 give std 1 in dimension 1 and 0 in dimension 2,
// so s = 1/2; and Gaussian rows (isotropic directions) give s → 1/√k.
func TestNormalizedStd(t *testing.T) {
	if s := NormalizedStd([]float64{1, 2, 3, 2, 4, 6, 0.5, 1, 1.5}, 3, 3); s > 1e-12 {
		t.Errorf("one direction: s = %g, want 0", s)
	}
	if s := NormalizedStd([]float64{3, 0, -1, 0}, 2, 2); math.Abs(s-0.5) > 1e-12 {
		t.Errorf("±e_1: s = %g, want 0.5", s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const n, k = 20000, 16
	z := make([]float64, n*k)
	for i := range z {
		z[i] = r.NormFloat64()
	}
	if s, want := NormalizedStd(z, n, k), 1/math.Sqrt(k); math.Abs(s-want) > 0.01*want {
		t.Errorf("isotropic: s = %g, want 1/√k = %g within 1%%", s, want)
	}
}
