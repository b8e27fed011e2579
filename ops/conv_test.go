package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// convPoolGrads builds ConvPoolStages on x [b, h, w, c] with the kernels and biases of channels (ForceSubstitutes
// and forceGeneral as the caller set them) and returns its output, the gradients of Σ y·r with respect to x, every
// kernel and every bias (if grads), and the number of ReduceMax nodes the graph runs.
func convPoolGrads(t *testing.T, vals [][]float64, dims [][]int, r []float64, grads bool) ([][]float64, int) {
	t.Helper()
	var args []any
	for i, v := range vals {
		args = append(args, tensors.FromFlatDataAndDimensions(v, dims[i]...))
	}
	var reduceMax int
	outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		var kernels, biases []*graph.Node
		for l := 1; l < len(in); l += 2 {
			kernels, biases = append(kernels, in[l]), append(biases, in[l+1])
		}
		y := ConvPoolStages(in[0], kernels, biases)
		out := []*graph.Node{y}
		if grads {
			w := graph.Reshape(graph.Const(g, r), y.Shape().Dimensions...)
			out = append(out, graph.Gradient(graph.ReduceAllSum(graph.Mul(y, w)), in...)...)
		}
		reduceMax = nodeTypes(out)[graph.NodeTypeReduceMax]
		return out
	}, args...)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		res[i] = tensors.MustCopyFlatData[float64](o)
	}
	return res, reduceMax
}

// TestConvPoolStagesFastMatchesGeneral: the Go backend's fast path (polyphase layout, hand-written gradients),
// the general substitutes (Conv2D, MaxPool's reshape and ReduceMax, autodiff) and the stock ops (graph.Convolve,
// graph.MaxPool) give the same features and gradients with respect to x, kernels and biases in float64, to
// 1e-10 relative; the stock gradient where the backend has one (not the Go backend: no SelectAndScatterMax).
// The fast path builds no ReduceMax, the general one does.
func TestConvPoolStagesFastMatchesGeneral(t *testing.T) {
	defer ForceSubstitutes(true)()
	rng := rand.New(rand.NewPCG(5, 6))
	canPoolGrad := hasOp(graph.NewGraph(testBackend, "probe"), compute.OpTypeSelectAndScatterMax)
	for _, c := range []struct {
		b, h, w, c int
		channels   []int
	}{
		{3, 8, 8, 1, []int{4, 5}},
		{2, 12, 8, 3, []int{3}},
		{2, 16, 16, 2, []int{3, 4, 2}},
	} {
		name := fmt.Sprintf("x[%d,%d,%d,%d]/channels=%v", c.b, c.h, c.w, c.c, c.channels)
		vals := [][]float64{randF64(rng, c.b*c.h*c.w*c.c)}
		dims := [][]int{{c.b, c.h, c.w, c.c}}
		in := c.c
		for _, out := range c.channels {
			vals = append(vals, randF64(rng, 9*in*out), randF64(rng, out))
			dims = append(dims, []int{3, 3, in, out}, []int{out})
			in = out
		}
		p := 1 << len(c.channels)
		r := randF64(rng, c.b*(c.h/p)*(c.w/p)*in)
		fast, fastMax := convPoolGrads(t, vals, dims, r, true)
		general, generalMax := func() ([][]float64, int) {
			forceGeneral.Store(true)
			defer forceGeneral.Store(false)
			return convPoolGrads(t, vals, dims, r, true)
		}()
		stock, _ := func() ([][]float64, int) {
			defer ForceSubstitutes(false)()
			return convPoolGrads(t, vals, dims, r, canPoolGrad)
		}()
		if fastMax != 0 || generalMax == 0 {
			t.Errorf("%s: %d ReduceMax on the fast path, %d on the general one: not the paths meant", name, fastMax, generalMax)
		}
		what := func(i int) string {
			if i == 0 {
				return "features"
			}
			return fmt.Sprintf("gradient %d (x, then kernel and bias per stage)", i-1)
		}
		for i := range fast {
			if e := relDiff(fast[i], general[i]); e > 1e-10 || math.IsNaN(e) {
				t.Errorf("%s: %s: fast path and general substitutes differ by %.3g", name, what(i), e)
			}
			if i < len(stock) {
				if e := relDiff(fast[i], stock[i]); e > 1e-10 || math.IsNaN(e) {
					t.Errorf("%s: %s: fast path and stock ops differ by %.3g", name, what(i), e)
				}
			}
		}
	}
}

// typeNames is nodeTypes keyed by the types' names.
func typeNames(outs []*graph.Node) map[string]int {
	names := map[string]int{}
	for t, n := range nodeTypes(outs) {
		names[t.String()] = n
	}
	return names
}

// relDiff is ‖a − b‖/‖b‖ (‖a − b‖ when b = 0), +Inf if the lengths differ.
func relDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}
