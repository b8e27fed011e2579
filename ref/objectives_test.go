package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// VICRegZ draws z [2N, d] for gradient checks: column j scaled by 0.3 or 3 in turn, so that each branch's
// standard deviations sit on both sides of the hinge γ = 1, and redrawn until every S_j is ≥ 0.02 away from
// it (a finite difference across the kink would not be a derivative).
func vicregZ(r *rand.Rand, n, d int, gamma float64) []float64 {
	for {
		z := randSlice[float64](r, 2*n*d)
		for i := range z {
			if (i%d)%2 == 0 {
				z[i] *= 0.3
			} else {
				z[i] *= 3
			}
		}
		ok := true
		for b := range 2 {
			x := centre(z[b*n*d:(b+1)*n*d], n, d)
			for j := range d {
				var v float64
				for i := range n {
					v += x[i*d+j] * x[i*d+j]
				}
				ok = ok && math.Abs(math.Sqrt(v/float64(n-1)+1e-4)-gamma) > 0.02
			}
		}
		if ok {
			return z
		}
	}
}

// fdCheck compares an analytic gradient with central finite differences of f at x, to 1e-6 relative.
func fdCheck(t *testing.T, name string, f func([]float64) float64, x, grad []float64) {
	t.Helper()
	fd := centralDiff(f, x, 1e-4)
	if e := relErrFloor(grad, fd, fdFloor(f(x), 1e-4, len(x))); e > 1e-6 || math.IsNaN(e) {
		t.Errorf("%s: gradient vs finite differences: relative error %.3g", name, e)
	}
}

// TestObjectiveGradients checks the gradients of VICReg (each term alone and the default weights), Barlow
// Twins (ε = 0 and 1e-5), BYOL and MoCo v3 against central finite differences, to 1e-6.
func TestObjectiveGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{2, 5} {
		for _, d := range []int{1, 3, 8} {
			sz := fmt.Sprintf("N=%d/d=%d", n, d)
			z := vicregZ(r, n, d, 1)
			for _, cfg := range []VICRegConfig{DefaultVICReg(), {1, 0, 0, 1, 1e-4}, {0, 1, 0, 1, 1e-4}, {0, 0, 1, 1, 1e-4}, {25, 25, 1, 2, 1e-4}} {
				fdCheck(t, fmt.Sprintf("VICReg/%s/%v", sz, cfg), func(z []float64) float64 { return VICReg(z, 2*n, d, cfg).Loss }, z, VICReg(z, 2*n, d, cfg).DZ)
			}
			z = randSlice[float64](r, 2*n*d)
			for _, cfg := range []BarlowConfig{DefaultBarlow(), {0, 0}, {0.3, 1e-5}} {
				fdCheck(t, fmt.Sprintf("Barlow/%s/%v", sz, cfg), func(z []float64) float64 { return Barlow(z, 2*n, d, cfg).Loss }, z, Barlow(z, 2*n, d, cfg).DZ)
			}
			p, k := randSlice[float64](r, 2*n*d), randSlice[float64](r, 2*n*d)
			_, dp := BYOL(p, k, 2*n, d)
			fdCheck(t, "BYOL/"+sz, func(p []float64) float64 { l, _ := BYOL(p, k, 2*n, d); return l }, p, dp)
			for _, tau := range []float64{0.2, 1} {
				_, dq := MoCoV3(p, k, 2*n, d, tau)
				fdCheck(t, fmt.Sprintf("MoCoV3/%s/tau=%g", sz, tau), func(q []float64) float64 { l, _ := MoCoV3(q, k, 2*n, d, tau); return l }, p, dq)
			}
		}
	}
}

// TestMomentumTau: τ_0 = τ_base, τ_{K/2} = (1 + τ_base)/2, τ_K = 1, increasing in between.
func TestMomentumTau(t *testing.T) {
	const base, total = 0.996, 100
	if got := MomentumTau(0, total, base); got != base {
		t.Errorf("τ_0 = %.17g, want %g", got, base)
	}
	if got := MomentumTau(total/2, total, base); math.Abs(got-(1+base)/2) > 1e-15 {
		t.Errorf("τ_K/2 = %.17g, want %.17g", got, (1+base)/2)
	}
	if got := MomentumTau(total, total, base); got != 1 {
		t.Errorf("τ_K = %.17g, want 1", got)
	}
	for k := 1; k <= total; k++ {
		if MomentumTau(k, total, base) <= MomentumTau(k-1, total, base) {
			t.Errorf("τ not increasing at k = %d", k)
		}
	}
}
