package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestDense: y = x w + b and the gradients of L = Σ r ⊙ y (∂x = r wᵀ, ∂w = xᵀ r, ∂b = Σ_rows r) against host
// float64 sums, with the substitutes for shapes on both sides of denseWeightGrad's choice (transpose x, or v and
// the product), and with the stock ops, with and without bias.
func TestDense(t *testing.T) { bothForms(t, testDense) }

func testDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		b, f, d int
		bias    bool
	}{{3, 50, 2, true}, {3, 2, 5, true}, {7, 7, 7, false}, {2, 30, 1, true}, {40, 3, 9, false}} {
		if got := c.d*(c.b+c.f) < c.f*c.b; got != (c.f == 50 || c.f == 30) {
			t.Fatalf("%+v: case meant for the other branch of denseWeightGrad", c)
		}
		x, w, bb, r := randF64(rng, c.b*c.f), randF64(rng, c.f*c.d), randF64(rng, c.d), randF64(rng, c.b*c.d)
		wantY, wantDX, wantDW, wantDB := make([]float64, c.b*c.d), make([]float64, c.b*c.f), make([]float64, c.f*c.d), make([]float64, c.d)
		for i := range c.b {
			for j := range c.d {
				s := 0.0
				if c.bias {
					s = bb[j]
				}
				for k := range c.f {
					s += x[i*c.f+k] * w[k*c.d+j]
					wantDX[i*c.f+k] += r[i*c.d+j] * w[k*c.d+j]
					wantDW[k*c.d+j] += x[i*c.f+k] * r[i*c.d+j]
				}
				wantY[i*c.d+j] = s
				wantDB[j] += r[i*c.d+j]
			}
		}
		outs, err := graph.CallOnceN(testBackend, func(x, w, b, r *graph.Node) []*graph.Node {
			bias := b
			if !c.bias {
				bias = nil
			}
			y := Dense(x, w, bias)
			g := graph.Gradient(graph.ReduceAllSum(graph.Mul(y, r)), x, w, b)
			if !c.bias {
				g[2] = graph.ZerosLike(b)
			}
			return append([]*graph.Node{y}, g...)
		}, tensors.FromFlatDataAndDimensions(x, c.b, c.f), tensors.FromFlatDataAndDimensions(w, c.f, c.d),
			tensors.FromFlatDataAndDimensions(bb, c.d), tensors.FromFlatDataAndDimensions(r, c.b, c.d))
		if err != nil {
			t.Fatal(err)
		}
		if !c.bias {
			wantDB = make([]float64, c.d)
		}
		for i, want := range [][]float64{wantY, wantDX, wantDW, wantDB} {
			got := tensors.MustCopyFlatData[float64](outs[i])
			for j := range want {
				if math.Abs(got[j]-want[j]) > 1e-12*max(1, math.Abs(want[j])) {
					t.Errorf("%+v: output %d (y, ∂x, ∂w, ∂b) [%d] = %.15g, want %.15g", c, i, j, got[j], want[j])
					break
				}
			}
		}
	}
}

func randF64(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

// BenchmarkDenseWeightGrad: ∂w = xᵀ v in float32 as denseWeightGrad writes it against the plain product the
// backend transposes both operands for, in one run: mnist-012's first layer (1800 × 784 inputs, 100 units) and a
// hidden layer (1800 × 100, 100 units).
func BenchmarkDenseWeightGrad(b *testing.B) {
	for _, s := range []struct{ rows, f, d int }{{1800, 784, 100}, {1800, 100, 100}} {
		for _, form := range []struct {
			name string
			fn   func(x, v *graph.Node) *graph.Node
		}{{"backend", func(x, v *graph.Node) *graph.Node { return graph.DotGeneral(x, []int{0}, nil, v, []int{0}, nil) }},
			{"explicit", func(x, v *graph.Node) *graph.Node { return denseWeightGrad(x, v) }}} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s.rows, s.f, s.d, form.name), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				x, v := make([]float32, s.rows*s.f), make([]float32, s.rows*s.d)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				for i := range v {
					v[i] = float32(r.NormFloat64())
				}
				exec, err := graph.NewExec(testBackend, form.fn)
				if err != nil {
					b.Fatal(err)
				}
				xt, vt := tensors.FromFlatDataAndDimensions(x, s.rows, s.f), tensors.FromFlatDataAndDimensions(v, s.rows, s.d)
				for b.Loop() {
					outs, err := exec.Exec(xt, vt)
					if err != nil {
						b.Fatal(err)
					}
					outs[0].FinalizeAll()
				}
			})
		}
	}
}
