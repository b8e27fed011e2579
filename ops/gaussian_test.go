package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// hostGaussianRowMean is r_i = (1/M) Σ_j exp(−‖a_i − b_j‖²/(2τ)) and, for the cotangent w, ∂(Σ w_i r_i)/∂a and
// ∂/∂b, in float64 straight from the definition.
func hostGaussianRowMean(a, b, w []float64, n, m, k int, tau float64) (r, da, db []float64) {
	r, da, db = make([]float64, n), make([]float64, n*k), make([]float64, m*k)
	for i := range n {
		for j := range m {
			d2 := 0.0
			for q := range k {
				d := a[i*k+q] - b[j*k+q]
				d2 += d * d
			}
			e := math.Exp(-d2/(2*tau)) / float64(m)
			r[i] += e
			for q := range k {
				g := w[i] * e * (a[i*k+q] - b[j*k+q]) / tau
				da[i*k+q] -= g
				db[j*k+q] += g
			}
		}
	}
	return r, da, db
}

// TestGaussianRowMean: values and gradients of the float32 fused form and the float64 form built from Exp (and,
// with the stock ops, of both dtypes' stock forms) against the float64 definition, for points near each other, far apart (every e_ij below 1e-30 but r_i still a normal
// float), where every e_ij underflows (r = 0 and a zero gradient, not 0/0), at a large scale (‖a‖²/2τ ~ 1e3,
// where s_ij cancels), N ≠ M, and N large enough to be split in row blocks of unequal size.
func TestGaussianRowMean(t *testing.T) { bothForms(t, testGaussianRowMean) }

func testGaussianRowMean(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		name       string
		n, m, k    int
		tau, scale float64
		shift      float64 // added to every b: pushes the two sets apart
	}{{"near", 40, 40, 1, 0.1, 0.3, 0}, {"k=3", 23, 31, 3, 0.5, 1, 0}, {"far", 30, 30, 1, 0.1, 0.2, 3.5},
		{"large", 30, 30, 2, 0.1, 10, 0}, {"one", 1, 1, 1, 0.1, 1, 0},
		{"underflow", 12, 9, 2, 0.05, 0.1, 40}, {"blocks", 601, 500, 1, 0.1, 1, 0}} {
		a, b := make([]float64, c.n*c.k), make([]float64, c.m*c.k)
		for i := range a {
			a[i] = c.scale * r.NormFloat64()
		}
		for i := range b {
			b[i] = c.scale*r.NormFloat64() + c.shift
		}
		if c.name == "large" { // b_j near a_j, so that some e_ij are not negligible at this scale
			for i := range b {
				b[i] = a[i] + 0.2*r.NormFloat64()
			}
		}
		w := make([]float64, c.n)
		for i := range w {
			w[i] = r.Float64() + 0.5
		}
		want, wantDA, wantDB := hostGaussianRowMean(a, b, w, c.n, c.m, c.k, c.tau)
		x := append(append([]float64(nil), a...), b...)
		fn := func(x *graph.Node) *graph.Node {
			return GaussianRowMean(graph.SliceAxis(x, 0, graph.AxisRange(0, c.n)), graph.SliceAxis(x, 0, graph.AxisRange(c.n)), c.tau)
		}
		check := func(dt string, y, dx []float64, tol float64) {
			t.Helper()
			for i := range c.n {
				if relErr(y[i], want[i]) > tol {
					t.Errorf("%s/%s: r_%d = %.9g, want %.9g", c.name, dt, i, y[i], want[i])
				}
			}
			wantDX := append(append([]float64(nil), wantDA...), wantDB...)
			var num, den float64
			for i := range dx {
				num += (dx[i] - wantDX[i]) * (dx[i] - wantDX[i])
				den += wantDX[i] * wantDX[i]
			}
			if den == 0 { // every e_ij underflowed: r and its gradient are exactly 0, not NaN
				if num != 0 || math.IsNaN(num) {
					t.Errorf("%s/%s: gradient %v, want 0", c.name, dt, dx)
				}
				return
			}
			if e := math.Sqrt(num / den); e > tol || math.IsNaN(e) {
				t.Errorf("%s/%s: gradient relative error %.3g > %g (‖∇‖ = %.3g)", c.name, dt, e, tol, math.Sqrt(den))
			}
		}
		y64, dx64 := runRowFn(t, fn, x, w, c.n+c.m, c.k)
		check("float64", y64, dx64, 1e-12)
		x32, w32 := make([]float32, len(x)), make([]float32, len(w))
		for i, v := range x {
			x32[i] = float32(v)
		}
		for i, v := range w {
			w32[i] = float32(v)
		}
		// The float32 inputs are the float64 ones rounded; at the "large" scale that rounding alone moves
		// ‖a_i − b_j‖²/2τ by ~1e-4, hence the looser tolerance there.
		tol := 2e-4
		if c.name == "large" {
			tol = 2e-3
		}
		y32, dx32 := runRowFn(t, fn, x32, w32, c.n+c.m, c.k)
		check("float32", toF64(y32), toF64(dx32), tol)
	}
}

// runRowFn is run for a function with one output per leading row of its own (w has that many entries, not
// one per row of x).
func runRowFn[T float32 | float64](t *testing.T, fn func(*graph.Node) *graph.Node, x, w []T, rows, k int) (y, dx []T) {
	t.Helper()
	outs, err := graph.CallOnceN(testBackend, func(x, w *graph.Node) []*graph.Node {
		y := fn(x)
		return []*graph.Node{y, graph.Gradient(graph.ReduceAllSum(graph.Mul(y, w)), x)[0]}
	}, tensors.FromFlatDataAndDimensions(x, rows, k), tensors.FromFlatDataAndDimensions(w, len(w)))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[T](outs[0]), tensors.MustCopyFlatData[T](outs[1])
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// BenchmarkGaussianRowMean: r and its gradient for the authors' settings (a, b [N, 1], τ = 0.1: N = 1600 is
// authors-1d's 4 × 400 points, 900 mnist-012's), the Go backend's fused form against the stock form it
// replaces, in one run.
func BenchmarkGaussianRowMean(b *testing.B) {
	for _, n := range []int{900, 1600} {
		for _, form := range []struct {
			name string
			fn   func(a, b *graph.Node, tau float64) *graph.Node
		}{{"stock", gaussianRowMeanStock}, {"fused", gaussianRowMeanFused}} {
			b.Run(fmt.Sprintf("N=%d/%s", n, form.name), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				x, w := make([]float32, 2*n), make([]float32, n)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				for i := range w {
					w[i] = 1
				}
				exec, err := graph.NewExec(testBackend, func(x, w *graph.Node) []*graph.Node {
					y := form.fn(graph.SliceAxis(x, 0, graph.AxisRange(0, n)), graph.SliceAxis(x, 0, graph.AxisRange(n)), 0.1)
					return []*graph.Node{graph.Gradient(graph.ReduceAllSum(graph.Mul(y, w)), x)[0]}
				})
				if err != nil {
					b.Fatal(err)
				}
				xt, wt := tensors.FromFlatDataAndDimensions(x, 2*n, 1), tensors.FromFlatDataAndDimensions(w, n)
				for b.Loop() {
					outs, err := exec.Exec(xt, wt)
					if err != nil {
						b.Fatal(err)
					}
					outs[0].FinalizeAll()
				}
			})
		}
	}
}
