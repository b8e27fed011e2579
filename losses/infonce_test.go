package losses

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/internal/backendtest"
	"github.com/gosimclr/gosimclr/ref"
)

var testBackend compute.Backend

// TestMain runs the tests on the Go backend and on xla:cpu where its plugin is installed; GOMLX_BACKEND=xla:cuda
// (or a plugin path) runs them on that backend alone: the GPU check.
func TestMain(m *testing.M) {
	os.Exit(backendtest.Main(m, func(b compute.Backend, _ string) { testBackend = b }, ""))
}

func randomZ(r *rand.Rand, n2, k int) []float64 {
	z := make([]float64, n2*k)
	for i := range z {
		z[i] = r.NormFloat64()
	}
	return z
}

func toF64[T float32 | float64](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// graphLoss evaluates Loss and its gradient with respect to z on the test backend.
func graphLoss(t *testing.T, z []float64, n2, k int, cfg Config, dt dtypes.DType) (loss, align, unif float64, dz []float64) {
	t.Helper()
	var zt *tensors.Tensor
	if dt == dtypes.Float64 {
		zt = tensors.FromFlatDataAndDimensions(append([]float64(nil), z...), n2, k)
	} else {
		f := make([]float32, len(z))
		for i, x := range z {
			f[i] = float32(x)
		}
		zt = tensors.FromFlatDataAndDimensions(f, n2, k)
	}
	outs, err := graph.CallOnceN(testBackend, func(z *graph.Node) []*graph.Node {
		terms := Loss(z, cfg)
		return []*graph.Node{terms.Loss, terms.Align, terms.Unif, graph.Gradient(terms.Loss, z)[0]}
	}, zt)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float64, 3)
	for i := range vals {
		vals[i] = toF64(flat(outs[i]))[0]
	}
	return vals[0], vals[1], vals[2], flat(outs[3])
}

func flat(t *tensors.Tensor) []float64 {
	if t.DType() == dtypes.Float64 {
		v, _ := tensors.CopyFlatData[float64](t)
		return v
	}
	v, _ := tensors.CopyFlatData[float32](t)
	return toF64(v)
}

// TestLossMatchesReference is acceptance point 1 of the core issue for the loss: the GoMLX loss, its parts and
// ∂L/∂z equal the reference's for N ∈ {1, 4, 64}, k ∈ {2, 16, 128}, τ ∈ {0.05, 0.5, 2}, every kernel and part,
// within 1e-9 (float64) and 1e-4 (float32) relative error.
//
// On XLA, where each of the grid's 486 graphs is compiled (~0.15 s each on 2 cores), the grid keeps
// N ∈ {1, 64}, k = 128, τ ∈ {0.05, 2}, every kernel and part.
func TestLossMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ns, ks, taus := []int{1, 4, 64}, []int{2, 16, 128}, []float64{0.05, 0.5, 2}
	if backendtest.XLA() {
		ns, ks, taus = []int{1, 64}, []int{128}, []float64{0.05, 2}
	}
	for _, n := range ns {
		for _, k := range ks {
			z := randomZ(r, 2*n, k)
			z32 := make([]float32, len(z))
			for i, x := range z {
				z32[i] = float32(x)
			}
			for _, tau := range taus {
				for _, kernel := range Kernels {
					for _, part := range Parts {
						cfg := Config{Kernel: kernel, Part: part, Temperature: tau}
						rcfg := ref.LossConfig{Kernel: kernel, Part: part, Temperature: tau}
						name := fmt.Sprintf("n=%d/k=%d/tau=%g/%s/%s", n, k, tau, kernel, part)
						want := ref.Loss(z, 2*n, k, rcfg)
						l, a, u, dz := graphLoss(t, z, 2*n, k, cfg, dtypes.Float64)
						check(t, name+"/float64", []float64{l, a, u}, []float64{want.Loss, want.Align, want.Unif}, dz, want.DZ, 1e-9, gradFloor(1e-6, tau, 2*n, k))
						want32 := ref.Loss(z32, 2*n, k, rcfg)
						l, a, u, dz = graphLoss(t, z, 2*n, k, cfg, dtypes.Float32)
						check(t, name+"/float32", []float64{l, a, u}, []float64{want32.Loss, want32.Align, want32.Unif}, dz, toF64(want32.DZ), 1e-4, gradFloor(1e-2, tau, 2*n, k))
					}
				}
			}
		}
	}
}

// gradFloor is the smallest gradient norm a relative error is taken against. ∂L/∂z is a sum of terms of size
// about (1+1/τ)/2N per element that can cancel (for N = 1 the Gaussian loss's gradient is ~1e-8), leaving only
// rounding error; measuring against max(‖∇‖, frac·(1+1/τ)·√(2Nk)/2N) keeps the test strict where the gradient
// is not such a cancellation, with frac chosen from the dtype's epsilon over the tolerance.
func gradFloor(frac, tau float64, n2, k int) float64 {
	return frac * (1 + 1/tau) * math.Sqrt(float64(n2*k)) / float64(n2)
}

// check compares the loss, its two parts and ∂L/∂z. Values are compared relative to the largest of the three
// (a loss can be 0 as the difference of two parts of size 1/τ, as for N = 1).
func check(t *testing.T, name string, got, want, dz, wantDZ []float64, tol, floor float64) {
	t.Helper()
	scale := math.Max(math.Max(math.Abs(want[0]), math.Abs(want[1])), math.Max(math.Abs(want[2]), 1e-3))
	for i := range got {
		if e := math.Abs(got[i]-want[i]) / scale; e > tol || math.IsNaN(got[i]) {
			t.Errorf("%s: value %d = %.12g, reference %.12g (rel err %.2g)", name, i, got[i], want[i], e)
		}
	}
	var num, den float64
	for i := range dz {
		num += (dz[i] - wantDZ[i]) * (dz[i] - wantDZ[i])
		den += wantDZ[i] * wantDZ[i]
	}
	if e := math.Sqrt(num) / math.Max(math.Sqrt(den), floor); e > tol || math.IsNaN(e) {
		t.Errorf("%s: ∂L/∂z relative error %.3g > %g (‖∇‖ = %.3g)", name, e, tol, math.Sqrt(den))
	}
}

// TestCollinear: when every row points the same way, every similarity is 1/τ and ℓ_i = log(2N−1).
func TestCollinear(t *testing.T) {
	for _, n := range []int{1, 3, 50} {
		z := make([]float64, 2*n*3)
		for i := range 2 * n {
			z[3*i], z[3*i+1], z[3*i+2] = 1*float64(i+1), 2*float64(i+1), -0.5*float64(i+1) // same direction, other lengths
		}
		l, _, _, _ := graphLoss(t, z, 2*n, 3, Config{Temperature: 0.5}, dtypes.Float64)
		if want := math.Log(float64(2*n - 1)); math.Abs(l-want) > 1e-12 {
			t.Errorf("N=%d: loss %.15g, want log(2N−1) = %.15g", n, l, want)
		}
	}
}

// TestInvariances: permuting the examples (the same permutation in both views) or swapping the views leaves
// the loss unchanged, for every kernel.
func TestInvariances(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n, k := 9, 5
	z := randomZ(r, 2*n, k)
	perm := r.Perm(n)
	permuted := make([]float64, len(z))
	swapped := make([]float64, len(z))
	for i := range n {
		copy(permuted[i*k:(i+1)*k], z[perm[i]*k:(perm[i]+1)*k])
		copy(permuted[(n+i)*k:(n+i+1)*k], z[(n+perm[i])*k:(n+perm[i]+1)*k])
		copy(swapped[i*k:(i+1)*k], z[(n+i)*k:(n+i+1)*k])
		copy(swapped[(n+i)*k:(n+i+1)*k], z[i*k:(i+1)*k])
	}
	for _, kernel := range Kernels {
		cfg := Config{Kernel: kernel, Temperature: 0.3}
		base, _, _, _ := graphLoss(t, z, 2*n, k, cfg, dtypes.Float64)
		p, _, _, _ := graphLoss(t, permuted, 2*n, k, cfg, dtypes.Float64)
		if math.Abs(p-base) > 1e-12 {
			t.Errorf("%s: permuting examples changed the loss %.15g → %.15g", kernel, base, p)
		}
		if kernel == KernelGaussian {
			continue // view-1 anchors only: swapping views is not a symmetry of the authors' loss
		}
		s, _, _, _ := graphLoss(t, swapped, 2*n, k, cfg, dtypes.Float64)
		if math.Abs(s-base) > 1e-12 {
			t.Errorf("%s: swapping views changed the loss %.15g → %.15g", kernel, base, s)
		}
	}
}

// TestLowTemperatureFinite: τ = 0.02 in float32 gives a finite loss and gradient.
func TestLowTemperatureFinite(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	z := randomZ(r, 128, 16)
	l, _, _, dz := graphLoss(t, z, 128, 16, Config{Temperature: 0.02}, dtypes.Float32)
	if math.IsNaN(l) || math.IsInf(l, 0) {
		t.Fatalf("loss %g", l)
	}
	for i, g := range dz {
		if math.IsNaN(g) || math.IsInf(g, 0) {
			t.Fatalf("dz[%d] = %g", i, g)
		}
	}
}

// TestMetricsMatchReference: alignment and uniformity against ref.
func TestMetricsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 4, 32} {
		z := randomZ(r, 2*n, 6)
		zt := tensors.FromFlatDataAndDimensions(append([]float64(nil), z...), 2*n, 6)
		outs, err := graph.CallOnceN(testBackend, func(z *graph.Node) []*graph.Node {
			return []*graph.Node{Alignment(z), Uniformity(z)}
		}, zt)
		if err != nil {
			t.Fatal(err)
		}
		a, u := flat(outs[0])[0], flat(outs[1])[0]
		if wa := ref.Alignment(z, 2*n, 6); math.Abs(a-wa) > 1e-10 {
			t.Errorf("N=%d alignment %g, reference %g", n, a, wa)
		}
		if n > 0 {
			if wu := ref.Uniformity(z, 2*n, 6); math.Abs(u-wu) > 1e-10 {
				t.Errorf("N=%d uniformity %g, reference %g", n, u, wu)
			}
		}
	}
}

// TestGPUSubset is the short list of loss-vs-reference cases that scripts/gpu-check.sh runs on an accelerator
// (12 compiled graphs: each kernel and part once, the large size at two temperatures, float64 and float32),
// where TestLossMatchesReference's 486 graphs would not fit the check's budget.
func TestGPUSubset(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	graphs := 0
	for _, c := range []struct {
		n, k         int
		tau          float64
		kernel, part string
	}{{64, 128, 0.5, KernelExp, PartFull}, {64, 128, 0.05, KernelExp, PartFull}, {4, 16, 0.5, KernelGaussian, PartFull},
		{4, 16, 0.5, KernelLinear, PartFull}, {4, 16, 0.5, KernelExp, PartAlign}, {4, 16, 0.5, KernelExp, PartUniform}} {
		z := randomZ(r, 2*c.n, c.k)
		z32 := make([]float32, len(z))
		for i, x := range z {
			z32[i] = float32(x)
		}
		cfg := Config{Kernel: c.kernel, Part: c.part, Temperature: c.tau}
		rcfg := ref.LossConfig{Kernel: c.kernel, Part: c.part, Temperature: c.tau}
		name := fmt.Sprintf("n=%d/k=%d/tau=%g/%s/%s", c.n, c.k, c.tau, c.kernel, c.part)
		want := ref.Loss(z, 2*c.n, c.k, rcfg)
		l, a, u, dz := graphLoss(t, z, 2*c.n, c.k, cfg, dtypes.Float64)
		check(t, name+"/float64", []float64{l, a, u}, []float64{want.Loss, want.Align, want.Unif}, dz, want.DZ, 1e-9, gradFloor(1e-6, c.tau, 2*c.n, c.k))
		want32 := ref.Loss(z32, 2*c.n, c.k, rcfg)
		l, a, u, dz = graphLoss(t, z, 2*c.n, c.k, cfg, dtypes.Float32)
		check(t, name+"/float32", []float64{l, a, u}, []float64{want32.Loss, want32.Align, want32.Unif}, dz, toF64(want32.DZ), 1e-4, gradFloor(1e-2, c.tau, 2*c.n, c.k))
		graphs += 2
	}
	t.Logf("%d graphs compiled on %s", graphs, testBackend.Name())
}

// TestLocalLossMatchesReference: LocalLoss (local negatives) and its gradient equal ref.LocalLoss for 1, 2 and 4
// groups, every kernel (float64, 1e-9); one group is Loss itself, and more groups give another value.
func TestLocalLossMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n, k = 8, 5
	z := randomZ(r, 2*n, k)
	for _, kernel := range Kernels {
		for _, groups := range []int{1, 2, 4} {
			cfg := Config{Kernel: kernel, Temperature: 0.5}
			outs, err := graph.CallOnceN(testBackend, func(z *graph.Node) []*graph.Node {
				l := LocalLoss(z, groups, cfg)
				return []*graph.Node{l.Loss, l.Align, l.Unif, graph.Gradient(l.Loss, z)[0]}
			}, tensors.FromFlatDataAndDimensions(append([]float64(nil), z...), 2*n, k))
			if err != nil {
				t.Fatal(err)
			}
			want := ref.LocalLoss(z, 2*n, k, groups, ref.LossConfig{Kernel: kernel, Temperature: 0.5})
			got := []float64{outs[0].Value().(float64), outs[1].Value().(float64), outs[2].Value().(float64)}
			dz, _ := tensors.CopyFlatData[float64](outs[3])
			check(t, fmt.Sprintf("%s/groups=%d", kernel, groups), got, []float64{want.Loss, want.Align, want.Unif}, dz, want.DZ, 1e-9, 1e-9)
			global := ref.Loss(z, 2*n, k, ref.LossConfig{Kernel: kernel, Temperature: 0.5}).Loss
			if (groups == 1) != (math.Abs(want.Loss-global) < 1e-12) {
				t.Errorf("%s/groups=%d: local %.12g vs global %.12g", kernel, groups, want.Loss, global)
			}
		}
	}
}
