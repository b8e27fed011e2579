package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var allKernels, allParts = []string{KernelExp, KernelGaussian, KernelLinear}, []string{PartFull, PartAlign, PartUniform}

// lossZ draws z [2N, k]. For the Gaussian kernel it is scaled so that ‖z1_i − z2_j‖²/(2τ) is of order one;
// otherwise e_ij underflows and the test would compare zeros.
func lossZ(r *rand.Rand, n2, k int, cfg LossConfig) []float64 {
	z := randSlice[float64](r, n2*k)
	if cfg.Kernel == KernelGaussian {
		for i := range z {
			z[i] *= math.Sqrt(cfg.Temperature / float64(k))
		}
	}
	return z
}

// TestLossGradient checks DZ of every kernel × part against central finite differences of Loss.
func TestLossGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, kern := range allKernels {
		for _, part := range allParts {
			for _, n := range []int{1, 4} {
				for _, k := range []int{2, 16} {
					for _, tau := range []float64{0.05, 0.5, 2} {
						cfg := LossConfig{Kernel: kern, Part: part, Temperature: tau}
						t.Run(fmt.Sprintf("%s/%s/N=%d/k=%d/tau=%g", kern, part, n, k, tau), func(t *testing.T) {
							z := lossZ(r, 2*n, k, cfg)
							got := Loss(z, 2*n, k, cfg)
							fd := centralDiff(func(z []float64) float64 { return Loss(z, 2*n, k, cfg).Loss }, z, 1e-4)
							if e := relErrFloor(got.DZ, fd, fdFloor(got.Loss, 1e-4, len(z))); e > 1e-6 {
								t.Errorf("relative error %.3g\n got %.6g\nwant %.6g", e, got.DZ, fd)
							}
						})
					}
				}
			}
		}
	}
}

// TestLossParts checks that the ntxent part of the cosine kernels is the sum of the other two, and that each
// part's Loss is the matching field.
func TestLossParts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	z := randSlice[float64](r, 8*3)
	for _, kern := range allKernels {
		full := Loss(z, 8, 3, LossConfig{Kernel: kern, Temperature: 0.3})
		al := Loss(z, 8, 3, LossConfig{Kernel: kern, Part: PartAlign, Temperature: 0.3})
		un := Loss(z, 8, 3, LossConfig{Kernel: kern, Part: PartUniform, Temperature: 0.3})
		if al.Loss != full.Align || un.Loss != full.Unif {
			t.Errorf("%s: part losses %g, %g; fields %g, %g", kern, al.Loss, un.Loss, full.Align, full.Unif)
		}
		if kern != KernelGaussian && math.Abs(full.Loss-(full.Align+full.Unif)) > 1e-14 {
			t.Errorf("%s: L = %g, L_align + L_unif = %g", kern, full.Loss, full.Align+full.Unif)
		}
	}
}

// TestInfoNCECollinear: when every row is the same vector, all s_ij = 1/τ and
// ℓ_i = −1/τ + log((2N−1) e^{1/τ}) = log(2N−1); the gradient is parallel to z, so it vanishes after the
// normalisation's projection.
func TestInfoNCECollinear(t *testing.T) {
	for _, n := range []int{1, 2, 8, 50} {
		for _, tau := range []float64{0.05, 0.5, 10} {
			z := make([]float64, 2*n*3)
			for i := range 2 * n {
				copy(z[3*i:], []float64{1, -2, 0.5})
			}
			loss, dz := InfoNCE(z, 2*n, 3, tau)
			if want := math.Log(float64(2*n - 1)); math.Abs(loss-want) > 1e-12*math.Max(1, 1/tau) {
				t.Errorf("N=%d τ=%g: loss %.15g, want log(2N−1) = %.15g", n, tau, loss, want)
			}
			for _, v := range dz {
				if math.Abs(v) > 1e-12/tau {
					t.Fatalf("N=%d τ=%g: dz = %g, want 0", n, tau, dz)
				}
			}
		}
	}
}

// TestLossSymmetries: the same permutation applied to both views permutes ℓ_i, so leaves every kernel's loss
// unchanged; swapping the view blocks is a no-op for the symmetric cosine kernels (the Gaussian kernel
// anchors on view 1 only, so it is not).
func TestLossSymmetries(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	const n, k = 6, 5
	perm := r.Perm(n)
	for _, kern := range allKernels {
		for _, part := range allParts {
			cfg := LossConfig{Kernel: kern, Part: part, Temperature: 0.4}
			z := lossZ(r, 2*n, k, cfg)
			permuted, swapped := make([]float64, len(z)), make([]float64, len(z))
			for i := range n {
				copy(permuted[i*k:(i+1)*k], z[perm[i]*k:])
				copy(permuted[(n+i)*k:(n+i+1)*k], z[(n+perm[i])*k:])
				copy(swapped[i*k:(i+1)*k], z[(n+i)*k:])
				copy(swapped[(n+i)*k:(n+i+1)*k], z[i*k:])
			}
			base := Loss(z, 2*n, k, cfg)
			if p := Loss(permuted, 2*n, k, cfg); math.Abs(p.Loss-base.Loss) > 1e-13*math.Max(1, math.Abs(base.Loss)) {
				t.Errorf("%s/%s: permuting examples changes the loss %.15g → %.15g", kern, part, base.Loss, p.Loss)
			}
			if kern == KernelGaussian {
				continue
			}
			if s := Loss(swapped, 2*n, k, cfg); math.Abs(s.Loss-base.Loss) > 1e-13*math.Max(1, math.Abs(base.Loss)) {
				t.Errorf("%s/%s: swapping views changes the loss %.15g → %.15g", kern, part, base.Loss, s.Loss)
			}
		}
	}
}

// TestInfoNCEPointsOnCircle: K equally spaced points on S¹, each the embedding of r examples, both views equal
// (paper.md §4.2). Anchor i sees its partner and 2r−2 more copies of its own point at s = 1/τ, and 2r copies
// of every other point, so with M = (1/K) Σ_{m<K} exp(cos(2πm/K)/τ) the batch loss is exactly
//
//	L_batch = −1/τ + log(2N·M − e^{1/τ}) = L_pop + log(2N − e^{1/τ}/M),   L_pop = −1/τ + log M,
//
// and L_pop is the population value tabulated in paper.md §4.2 (checked here too, to its 6 decimals).
func TestInfoNCEPointsOnCircle(t *testing.T) {
	taus := []float64{0.05, 0.1, 0.2, 0.5, 1.0}
	table := map[int][]float64{ // paper.md §4.2, columns K=2, 3, 4, 8 pts
		2: {-0.693147, -0.693147, -0.693102, -0.674997, -0.566219},
		3: {-1.098612, -1.098612, -1.097507, -1.003689, -0.729631},
		4: {-1.386294, -1.386204, -1.372864, -1.132438, -0.759771},
		8: {-2.073743, -1.977789, -1.689891, -1.175982, -0.764085},
	}
	for _, kk := range []int{2, 3, 4, 8} {
		for ti, tau := range taus {
			var m float64
			for j := range kk {
				m += math.Exp(math.Cos(2*math.Pi*float64(j)/float64(kk)) / tau)
			}
			m /= float64(kk)
			pop := -1/tau + math.Log(m)
			if math.Abs(pop-table[kk][ti]) > 6e-7 {
				t.Errorf("K=%d τ=%g: population loss %.7f, paper.md table %.6f", kk, tau, pop, table[kk][ti])
			}
			const reps = 3
			n := kk * reps
			z := make([]float64, 2*n*2)
			for i := range n {
				a := 2 * math.Pi * float64(i%kk) / float64(kk)
				copy(z[2*i:], []float64{math.Cos(a), math.Sin(a)})
				copy(z[2*(n+i):], []float64{math.Cos(a), math.Sin(a)})
			}
			loss, _ := InfoNCE(z, 2*n, 2, tau)
			want := pop + math.Log(float64(2*n)-math.Exp(1/tau)/m)
			if math.Abs(loss-want) > 1e-11*math.Max(1, 1/tau) {
				t.Errorf("K=%d τ=%g: batch loss %.15g, want %.15g", kk, tau, loss, want)
			}
		}
	}
}

// TestInfoNCEUniformCircle: N points drawn uniformly on S¹, both views equal, τ = 0.5. Anchor i sees its
// partner at s = 1/τ and the 2N−2 views of the other N−1 points, whose mean of exp(u_i·u_j/τ) tends to
// ∫ exp(cos θ/τ) dθ/2π = I₀(1/τ). So
//
//	L_batch ≈ −1/τ + log(e^{1/τ} + (2N−2) I₀(1/τ)) = L_pop + log(2N−2 + e^{1/τ}/I₀(1/τ)),
//	L_pop = −1/τ + log I₀(1/τ) = −1.176006 (paper.md §4.2),
//
// up to Monte Carlo error O(1/√N) per anchor, averaged over anchors.
func TestInfoNCEUniformCircle(t *testing.T) {
	const n, tau = 2000, 0.5
	pop := -1/tau + math.Log(besselI0(1/tau))
	if math.Abs(pop-(-1.176006)) > 6e-7 {
		t.Fatalf("L_pop = %.7f, paper.md says −1.176006", pop)
	}
	r := rand.New(rand.NewPCG(11, 12))
	z := make([]float64, 2*n*2)
	for i := range n {
		a := 2 * math.Pi * r.Float64()
		copy(z[2*i:], []float64{math.Cos(a), math.Sin(a)})
		copy(z[2*(n+i):], []float64{math.Cos(a), math.Sin(a)})
	}
	loss, _ := InfoNCE(z, 2*n, 2, tau)
	got := loss - math.Log(2*n-2+math.Exp(1/tau)/besselI0(1/tau))
	if math.Abs(got-pop) > 0.01 {
		t.Errorf("L_batch − correction = %.6f, want L_pop = %.6f ± 0.01", got, pop)
	}
	t.Logf("N=%d: L_batch = %.6f, corrected %.6f, L_pop %.6f", n, loss, got, pop)
}

// TestLossFloat32: the float32 evaluation agrees with float64 to 1e-4 relative, values and gradients.
func TestLossFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, kern := range allKernels {
		for _, part := range allParts {
			for _, tau := range []float64{0.05, 0.5} {
				cfg := LossConfig{Kernel: kern, Part: part, Temperature: tau}
				z := lossZ(r, 64, 16, cfg)
				r64, r32 := Loss(z, 64, 16, cfg), Loss(toF32(z), 64, 16, cfg)
				if d := math.Abs(r32.Loss - r64.Loss); d > 1e-4*math.Max(1, math.Abs(r64.Loss)) {
					t.Errorf("%s/%s/τ=%g: loss float32 %.8g, float64 %.8g", kern, part, tau, r32.Loss, r64.Loss)
				}
				if e := relErr(r32.DZ, r64.DZ); e > 1e-4 {
					t.Errorf("%s/%s/τ=%g: gradient relative difference %.3g", kern, part, tau, e)
				}
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	z := []float64{3, 4, 0, 0, 1e-3, 0}
	u := Normalize(nil, z, 3, 2)
	want := []float64{3 / (5 + 1e-12), 4 / (5 + 1e-12), 0, 0, 1e-3 / (1e-3 + 1e-12), 0}
	for i := range u {
		if math.Abs(u[i]-want[i]) > 1e-16 {
			t.Fatalf("Normalize = %v, want %v", u, want)
		}
	}
	if !slices.Equal(z, []float64{3, 4, 0, 0, 1e-3, 0}) {
		t.Errorf("Normalize modified its input")
	}
	// The backward at z = 0 is g/ε, finite.
	if g := NormalizeBackward(nil, []float64{0, 0}, []float64{1e-12, 0}, 1, 2); g[0] != 1e-12/normEps || g[1] != 0 {
		t.Errorf("NormalizeBackward at 0 = %v", g)
	}
}

func TestLossPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"odd rows":   func() { Loss(make([]float64, 6), 3, 2, LossConfig{Temperature: 1}) },
		"bad length": func() { Loss(make([]float64, 7), 2, 4, LossConfig{Temperature: 1}) },
		"bad kernel": func() { Loss(make([]float64, 8), 2, 4, LossConfig{Kernel: "cos", Temperature: 1}) },
		"zero tau":   func() { Loss(make([]float64, 8), 2, 4, LossConfig{}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			f()
		})
	}
}
