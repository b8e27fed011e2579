package models

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// valueAndGrads evaluates f on float64 inputs of the given shapes and returns f's output and the gradient of
// Σ f·r (r a fixed random tensor) with respect to every input.
func valueAndGrads(t *testing.T, f func(in []*graph.Node) *graph.Node, vals [][]float64, dims [][]int, r []float64) [][]float64 {
	t.Helper()
	var args []any
	for i, v := range vals {
		args = append(args, tensorOf(dtypes.Float64, v, dims[i]...))
	}
	outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		y := f(in)
		w := graph.Reshape(graph.Const(g, r), y.Shape().Dimensions...)
		return append([]*graph.Node{y}, graph.Gradient(graph.ReduceAllSum(graph.Mul(y, w)), in...)...)
	}, args...)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		res[i] = flat(o)
	}
	return res
}

// outSize evaluates f once to learn its output size.
func outSize(t *testing.T, f func(in []*graph.Node) *graph.Node, vals [][]float64, dims [][]int) int {
	t.Helper()
	var args []any
	for i, v := range vals {
		args = append(args, tensorOf(dtypes.Float64, v, dims[i]...))
	}
	outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node { return []*graph.Node{f(in)} }, args...)
	if err != nil {
		t.Fatal(err)
	}
	return outs[0].Shape().Size()
}

// TestConv2DMatchesStock: the substitute Conv2D (im2col) equals the stock one (graph.Convolve) in value and in
// gradient with respect to input and weights (the stock gradient runs on the Go backend in v0.28.2), for C = 1
// and 3, strides 1 and 2, padding 0–3 and kernels 1×1 to 7×7.
func TestConv2DMatchesStock(t *testing.T) {
	rng := newRand(7)
	for _, c := range []struct {
		x, w        []int
		stride, pad int
	}{
		{[]int{2, 5, 5, 1}, []int{3, 3, 1, 4}, 1, 1},
		{[]int{2, 7, 6, 3}, []int{3, 3, 3, 5}, 2, 1},
		{[]int{1, 9, 9, 3}, []int{7, 7, 3, 2}, 2, 3}, // ImageNet stem
		{[]int{3, 6, 6, 4}, []int{1, 1, 4, 6}, 2, 0}, // projection shortcut
		{[]int{2, 8, 7, 2}, []int{3, 3, 2, 3}, 1, 0}, // "valid"
		{[]int{1, 6, 5, 1}, []int{3, 3, 1, 2}, 2, 1}, // (stock gradient fails for even kernels with padding)
	} {
		name := fmt.Sprintf("x%v/w%v/s=%d/p=%d", c.x, c.w, c.stride, c.pad)
		vals := [][]float64{randn(rng, prod(c.x)), randn(rng, prod(c.w))}
		dims := [][]int{c.x, c.w}
		conv := func(in []*graph.Node) *graph.Node { return ops.Conv2D(in[0], in[1], c.stride, c.pad) }
		r := randn(rng, outSize(t, conv, vals, dims))
		got := withSubstitutes(true, func() [][]float64 { return valueAndGrads(t, conv, vals, dims, r) })
		want := withSubstitutes(false, func() [][]float64 { return valueAndGrads(t, conv, vals, dims, r) })
		for i, what := range []string{"y", "∂x", "∂w"} {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("%s: %s has %d values, stock %d", name, what, len(got[i]), len(want[i]))
			}
			if e := relNorm(got[i], want[i]); e > 1e-12 || math.IsNaN(e) {
				t.Errorf("%s: %s differs from stock by %.3g", name, what, e)
			}
		}
	}
}

// TestMaxPoolMatchesStock: the substitute MaxPool (2×2 by reshape and ReduceMax, even and odd sizes with odd
// edges dropped; 3×3 with stride 2 and padding 1 by shifted slices) equals graph.MaxPool's values; its gradient
// passes a central finite-difference check in float64 and, where the backend can differentiate graph.MaxPool
// (not the Go backend: no SelectAndScatterMax), equals the stock gradient (random inputs: no ties).
func TestMaxPoolMatchesStock(t *testing.T) {
	rng := newRand(8)
	canPoolGrad := testBackend.Capabilities().Operations[compute.OpTypeSelectAndScatterMax]
	for _, c := range []struct {
		x         []int
		k, s, pad int
	}{
		{[]int{2, 4, 6, 3}, 2, 2, 0},
		{[]int{1, 7, 5, 2}, 2, 2, 0},
		{[]int{2, 7, 8, 2}, 3, 2, 1},
		{[]int{1, 6, 6, 1}, 3, 2, 1},
	} {
		name := fmt.Sprintf("x%v/k=%d/s=%d/p=%d", c.x, c.k, c.s, c.pad)
		pool := func(in []*graph.Node) *graph.Node { return ops.MaxPool(in[0], c.k, c.s, c.pad) }
		x := randn(rng, prod(c.x))
		vals, dims := [][]float64{x}, [][]int{c.x}
		r := randn(rng, outSize(t, pool, vals, dims))
		got := withSubstitutes(true, func() [][]float64 { return valueAndGrads(t, pool, vals, dims, r) })
		want := withSubstitutes(false, func() []float64 { return evalOnce(t, pool, vals, dims) })
		if e := relNorm(got[0], want); len(got[0]) != len(want) || e != 0 {
			t.Errorf("%s: values differ from graph.MaxPool (%d vs %d values, error %.3g)", name, len(got[0]), len(want), e)
		}
		fd := withSubstitutes(true, func() []float64 { return finiteDiff(t, pool, vals, dims, r, 0) })
		if e := relNorm(got[1], fd); e > 1e-8 || math.IsNaN(e) {
			t.Errorf("%s: gradient differs from finite differences by %.3g", name, e)
		}
		if canPoolGrad {
			stock := withSubstitutes(false, func() [][]float64 { return valueAndGrads(t, pool, vals, dims, r) })
			if e := relNorm(got[1], stock[1]); e != 0 {
				t.Errorf("%s: gradient differs from graph.MaxPool's by %.3g", name, e)
			}
		}
	}
}

// evalOnce returns f's output values.
func evalOnce(t *testing.T, f func(in []*graph.Node) *graph.Node, vals [][]float64, dims [][]int) []float64 {
	t.Helper()
	var args []any
	for i, v := range vals {
		args = append(args, tensorOf(dtypes.Float64, v, dims[i]...))
	}
	outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node { return []*graph.Node{f(in)} }, args...)
	if err != nil {
		t.Fatal(err)
	}
	return flat(outs[0])
}

// finiteDiff returns the central difference (h = 1e-6) of Σ f·r with respect to input which, all entries at
// once: one compiled graph evaluates f at every ±h perturbation (the batch of perturbed inputs is stacked).
func finiteDiff(t *testing.T, f func(in []*graph.Node) *graph.Node, vals [][]float64, dims [][]int, r []float64, which int) []float64 {
	t.Helper()
	const h = 1e-6
	x := vals[which]
	var args []any
	for i, v := range vals {
		if i != which {
			args = append(args, tensorOf(dtypes.Float64, v, dims[i]...))
		}
	}
	e := graph.MustNewExec(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		ins := make([]*graph.Node, len(vals))
		copy(ins, in[1:which+1])
		ins[which] = in[0]
		copy(ins[which+1:], in[which+1:])
		y := f(ins)
		w := graph.Reshape(graph.Const(g, r), y.Shape().Dimensions...)
		return []*graph.Node{graph.ReduceAllSum(graph.Mul(y, w))}
	})
	grad := make([]float64, len(x))
	for i := range x {
		var lr [2]float64
		for s, sign := range []float64{1, -1} {
			xp := append([]float64(nil), x...)
			xp[i] += sign * h
			out := e.MustExec(append([]any{tensorOf(dtypes.Float64, xp, dims[which]...)}, args...)...)
			lr[s] = flat(out[0])[0]
		}
		grad[i] = (lr[0] - lr[1]) / (2 * h)
	}
	return grad
}

func prod(d []int) int {
	n := 1
	for _, v := range d {
		n *= v
	}
	return n
}

// BenchmarkConv2D times the forward 3×3 convolution (stride 1, padding 1) of the small CNN's second layer,
// x [B, 14, 14, 32] * w [3, 3, 32, 64], as im2col (Conv2D with the substitutes), as graph.Convolve (Conv2D with
// the stock ops; on the Go backend a naive loop, so timed on fewer images) and as the CNN's fast path
// (impl=phased, ConvPoolStages with the substitutes: convolution, 2×2 max-pool, bias and ReLU from the
// polyphase layout), and reports GFLOP/s = 2·B·14·14·(9·32)·64 per second.
func BenchmarkConv2D(b *testing.B) {
	for _, c := range []struct {
		impl  string
		batch int
		sub   bool
		conv  func(x, w *graph.Node, stride, pad int) *graph.Node
	}{
		{"im2col", 512, true, ops.Conv2D},
		{"im2col", 64, true, ops.Conv2D},
		{"stock", 64, false, ops.Conv2D},
		{"phased", 512, true, func(x, w *graph.Node, _, _ int) *graph.Node {
			bias := graph.Zeros(x.Graph(), shapes.Make(x.DType(), 64))
			return ops.ConvPoolStages(x, []*graph.Node{w}, []*graph.Node{bias})
		}},
	} {
		b.Run(fmt.Sprintf("impl=%s/batch=%d", c.impl, c.batch), func(b *testing.B) {
			defer ops.ForceSubstitutes(c.sub)()
			rng := newRand(12)
			x := tensorOf(dtypes.Float32, randn(rng, c.batch*14*14*32), c.batch, 14, 14, 32)
			w := tensorOf(dtypes.Float32, randn(rng, 9*32*64), 3, 3, 32, 64)
			e := graph.MustNewExec(testBackend, func(x, w *graph.Node) *graph.Node { return c.conv(x, w, 1, 1) })
			e.MustExec(x, w)[0].FinalizeAll() // compile
			b.ResetTimer()
			for b.Loop() {
				e.MustExec(x, w)[0].FinalizeAll()
			}
			flops := 2 * float64(c.batch*14*14) * 9 * 32 * 64
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
