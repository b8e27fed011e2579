package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// run evaluates fn(x) and the gradient of Σ w·fn(x) with respect to x, for x as float32 or float64.
func run[T float32 | float64](t *testing.T, fn func(*graph.Node) *graph.Node, x, w []T, dims ...int) (y, dx []T) {
	t.Helper()
	outs, err := graph.CallOnceN(testBackend, func(x, w *graph.Node) []*graph.Node {
		y := fn(x)
		l := graph.ReduceAllSum(graph.Mul(y, w))
		return []*graph.Node{y, graph.Gradient(l, x)[0]}
	}, tensors.FromFlatDataAndDimensions(x, dims...), tensors.FromFlatDataAndDimensions(w, wDims(len(w), dims)...))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[T](outs[0]), tensors.MustCopyFlatData[T](outs[1])
}

func wDims(n int, dims []int) []int {
	if n == 1 {
		return nil
	}
	if len(dims) > 1 && n == dims[0] { // LogSumExp's output [B]
		return dims[:1]
	}
	return dims
}

func relErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Max(math.Abs(want), math.SmallestNonzeroFloat64)
}

// expPoints covers the whole float range in fine steps, the clamps, the ends of the reduced interval and the
// special values.
func expPoints(hi float64) []float64 {
	var xs []float64
	for x := -hi - 5; x <= hi+5; x += 0.0137 {
		xs = append(xs, x)
	}
	return append(xs, hi-0.3, hi-0.01, hi+0.01, -hi+0.3, 0, math.Ln2/2, -math.Ln2/2, 1e-10, -1e-10, 1, -1, -1e9, 1e9, math.Inf(1), math.Inf(-1))
}

// TestExpFloat64: the substitute (forced on any backend) against math.Exp over the whole range, subnormal
// results flushed to 0, and its gradient w·eˣ exactly. (The stock form is graph.Exp: TestStockGraphs.)
func TestExpFloat64(t *testing.T) {
	defer ForceSubstitutes(true)()
	xs := expPoints(709.78)
	w := make([]float64, len(xs))
	for i := range w {
		w[i] = 1 + float64(i%7)
	}
	y, dx := run(t, Exp, xs, w, len(xs))
	worst := 0.0
	for i, x := range xs {
		want := math.Exp(x)
		if x > 700 && x < 709.79 { // Go's amd64 math.Exp overflows early (+Inf from x ≈ 709.44 on)
			want = math.Exp(x-700) * math.Exp(700)
		}
		if want != 0 && want < 0x1p-1022 { // subnormal: the substitute flushes to 0
			want = 0
		}
		e := relErr(y[i], want)
		worst = max(worst, e)
		if !(e <= 8e-16) || (want == 0) != (y[i] == 0) {
			t.Fatalf("Exp(%g) = %g, math.Exp %g (rel. error %.2g)", x, y[i], want, e)
		}
		if relErr(dx[i], w[i]*y[i]) > 0 {
			t.Fatalf("∂Exp(%g) = %g, want w·eˣ = %g", x, dx[i], w[i]*y[i])
		}
	}
	t.Logf("float64: %d points, worst relative error %.2g", len(xs), worst)
	nan, _ := run(t, Exp, []float64{math.NaN()}, []float64{1}, 1)
	if !math.IsNaN(nan[0]) {
		t.Errorf("Exp(NaN) = %g", nan[0])
	}
}

// TestExpFloat32 is TestExpFloat64 in float32.
func TestExpFloat32(t *testing.T) {
	defer ForceSubstitutes(true)()
	xs64 := expPoints(88.72)
	xs, w := make([]float32, len(xs64)), make([]float32, len(xs64))
	for i, x := range xs64 {
		xs[i], w[i] = float32(x), 1
	}
	y, dx := run(t, Exp, xs, w, len(xs))
	worst := 0.0
	for i, x := range xs {
		want := math.Exp(float64(x))
		if want < 0x1p-126 {
			want = 0
		}
		if want > math.MaxFloat32 {
			want = math.Inf(1)
		}
		e := relErr(float64(y[i]), want)
		worst = max(worst, e)
		if !(e <= 3e-7) || (want == 0) != (y[i] == 0) {
			t.Fatalf("Exp(%g) = %g, math.Exp %g (rel. error %.2g)", x, y[i], want, e)
		}
		if dx[i] != y[i] {
			t.Fatalf("∂Exp(%g) = %g, want eˣ = %g", x, dx[i], y[i])
		}
	}
	t.Logf("float32: %d points, worst relative error %.2g", len(xs), worst)
}

// hostLSE is log Σ_j exp(x_ij) and its softmax, in float64.
func hostLSE(x []float64, b, m int) (lse, p []float64) {
	lse, p = make([]float64, b), make([]float64, b*m)
	for i := range b {
		row := x[i*m : (i+1)*m]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = max(mx, v)
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(v - mx)
		}
		lse[i] = mx + math.Log(s)
		for j, v := range row {
			p[i*m+j] = math.Exp(v - lse[i])
		}
	}
	return lse, p
}

// TestLogSumExp: values and gradients (w_i·P_ij) against float64 host maths, with rows spread over ±30/τ,
// one masked entry (−1e9) per row as NT-Xent has, and a row where one entry dominates by far; both forms.
func TestLogSumExp(t *testing.T) { bothForms(t, testLogSumExp) }

func testLogSumExp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const b, m = 7, 33
	x := make([]float64, b*m)
	for i := range x {
		x[i] = r.NormFloat64() * 10 * float64(1+i/m)
	}
	for i := range b {
		x[i*m+i] = -1e9
	}
	x[3*m+5] = 500
	w := make([]float64, b)
	for i := range w {
		w[i] = r.Float64() + 0.5
	}
	lse, p := hostLSE(x, b, m)
	y, dx := run(t, LogSumExp, x, w, b, m)
	for i := range b {
		if e := relErr(y[i], lse[i]); e > 1e-14 {
			t.Errorf("float64 row %d: lse %g, want %g (rel. %.2g)", i, y[i], lse[i], e)
		}
		for j := range m {
			if d := math.Abs(dx[i*m+j] - w[i]*p[i*m+j]); d > 1e-14*math.Max(1e-3, w[i]*p[i*m+j]) {
				t.Fatalf("float64 ∂lse_%d/∂x_%d = %g, want %g", i, j, dx[i*m+j], w[i]*p[i*m+j])
			}
		}
	}
	x32, w32 := make([]float32, len(x)), make([]float32, len(w))
	for i := range x {
		x32[i] = float32(x[i])
	}
	for i := range w {
		w32[i] = float32(w[i])
	}
	x64 := make([]float64, len(x))
	for i, v := range x32 {
		x64[i] = float64(v)
	}
	lse, p = hostLSE(x64, b, m)
	y32, dx32 := run(t, LogSumExp, x32, w32, b, m)
	for i := range b {
		if d := math.Abs(float64(y32[i]) - lse[i]); d > 4e-6*math.Max(1, math.Abs(lse[i])) {
			t.Errorf("float32 row %d: lse %g, want %g", i, y32[i], lse[i])
		}
		for j := range m {
			want := float64(w32[i]) * p[i*m+j]
			if d := math.Abs(float64(dx32[i*m+j]) - want); d > 1e-6 {
				t.Fatalf("float32 ∂lse_%d/∂x_%d = %g, want %g", i, j, dx32[i*m+j], want)
			}
		}
		if dx32[i*m+i] != 0 {
			t.Errorf("float32 masked entry %d has gradient %g, want 0", i, dx32[i*m+i])
		}
	}
}

// TestTanhSoftplus: the substitutes' values against math.Tanh and log1p(eˣ), gradients against 1 − tanh² and
// σ(x), over ±30 with 0 and tiny values, in float64. (The stock forms are graph.Tanh and graph.Softplus:
// TestStockGraphs.)
func TestTanhSoftplus(t *testing.T) {
	defer ForceSubstitutes(true)()
	var xs []float64
	for x := -30.0; x <= 30; x += 0.173 {
		xs = append(xs, x)
	}
	xs = append(xs, 0, 1e-300, -1e-12, 5e-9, 800, -800)
	w := make([]float64, len(xs))
	for i := range w {
		w[i] = 1
	}
	y, dx := run(t, Tanh, xs, w, len(xs))
	for i, x := range xs {
		want, dwant := math.Tanh(x), 1-math.Tanh(x)*math.Tanh(x)
		if math.Abs(y[i]-want) > 1e-15*math.Max(math.Abs(want), 1e-300) && math.Abs(y[i]-want) > 1e-16 {
			t.Errorf("Tanh(%g) = %.17g, want %.17g", x, y[i], want)
		}
		if math.Abs(dx[i]-dwant) > 1e-15 {
			t.Errorf("Tanh'(%g) = %g, want %g", x, dx[i], dwant)
		}
	}
	y, dx = run(t, Softplus, xs, w, len(xs))
	for i, x := range xs {
		want := max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
		sig := 1 / (1 + math.Exp(-x))
		if relErr(y[i], want) > 1e-15 {
			t.Errorf("Softplus(%g) = %.17g, want %.17g", x, y[i], want)
		}
		if math.Abs(dx[i]-sig) > 1e-15 {
			t.Errorf("Softplus'(%g) = %g, want σ = %g", x, dx[i], sig)
		}
	}
}

// TestHazards: the stock ops are found, the substitutes' graphs (with their gradients) have none, and nodes
// that no output uses are not counted. On a backend without a fused softmax (XLA) LogSumExp's float32
// substitute falls back to graph.Softmax and its Exp, so it is left out there.
func TestHazards(t *testing.T) {
	defer ForceSubstitutes(true)()
	g := graph.NewGraph(testBackend, "hazards")
	x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, 4, 8))
	_ = graph.Exp(x) // unused: not run, not counted
	if h := Hazards(graph.Tanh(x), graph.Add(graph.Exp(x), graph.Erf(x))); h["Exp"] != 1 || h["Tanh"] != 1 || h["Erf"] != 1 || len(h) != 3 {
		t.Errorf("stock ops: Hazards = %v, want Exp, Tanh, Erf once each", h)
	}
	l := graph.Add(graph.Add(Exp(x), Tanh(x)), Softplus(x))
	if hasOp(g, compute.OpTypeFusedSoftmax) {
		l = graph.Add(l, graph.ExpandAxes(LogSumExp(x), -1))
	}
	l = graph.ReduceAllSum(l)
	if h := Hazards(append([]*graph.Node{l}, graph.Gradient(l, x)...)...); len(h) > 0 {
		t.Errorf("substitutes and their gradients run %v", h)
	}
}

// TestGramLogSumExp: lse_i = log Σ_{j≠i} exp(β u_i·u_j) and its gradient Σ_i w_i ∂lse_i/∂u against float64
// host maths, for unit rows, at β on both sides of the fast path's limit (2β + log 2N < 80), N = 1 and 37;
// both forms.
func TestGramLogSumExp(t *testing.T) { bothForms(t, testGramLogSumExp) }

func testGramLogSumExp(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		n, k int
		beta float64
	}{{1, 3, 2}, {37, 8, 2}, {37, 8, 20}, {37, 8, 50}} {
		n2 := 2 * c.n
		u := make([]float64, n2*c.k)
		for i := range n2 {
			var s float64
			for j := range c.k {
				u[i*c.k+j] = r.NormFloat64()
				s += u[i*c.k+j] * u[i*c.k+j]
			}
			for j := range c.k {
				u[i*c.k+j] /= math.Sqrt(s)
			}
		}
		w := make([]float64, n2)
		for i := range w {
			w[i] = r.Float64() + 0.5
		}
		// Host: s_ij = β u_i·u_j (s_ii masked), lse and P, then du = Σ_ij w_i P_ij β (u_j at row i, u_i at row j).
		s := make([]float64, n2*n2)
		for i := range n2 {
			for j := range n2 {
				s[i*n2+j] = -1e9
				if i != j {
					d := 0.0
					for q := range c.k {
						d += u[i*c.k+q] * u[j*c.k+q]
					}
					s[i*n2+j] = c.beta * d
				}
			}
		}
		lse, p := hostLSE(s, n2, n2)
		du := make([]float64, n2*c.k)
		for i := range n2 {
			for j := range n2 {
				gij := w[i] * p[i*n2+j] * c.beta
				for q := range c.k {
					du[i*c.k+q] += gij * u[j*c.k+q]
					du[j*c.k+q] += gij * u[i*c.k+q]
				}
			}
		}
		u32, w32 := make([]float32, len(u)), make([]float32, len(w))
		for i, v := range u {
			u32[i] = float32(v)
		}
		for i, v := range w {
			w32[i] = float32(v)
		}
		fn := func(x *graph.Node) *graph.Node { return GramLogSumExp(x, c.beta) }
		y, dx := run(t, fn, u32, w32, n2, c.k)
		for i := range n2 {
			if d := math.Abs(float64(y[i]) - lse[i]); d > 2e-5*math.Max(1, math.Abs(lse[i])) {
				t.Errorf("n=%d β=%g: lse_%d = %g, want %g", c.n, c.beta, i, y[i], lse[i])
			}
		}
		scale := 0.0
		for _, v := range du {
			scale = max(scale, math.Abs(v))
		}
		for i, v := range du {
			if d := math.Abs(float64(dx[i]) - v); d > 1e-4*math.Max(1, scale) {
				t.Fatalf("n=%d β=%g: ∂u[%d] = %g, want %g", c.n, c.beta, i, dx[i], v)
			}
		}
	}
}
