package ops

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gosimclr/gosimclr/internal/backendtest"
)

var testBackend compute.Backend

// TestMain runs the tests on the Go backend and on xla:cpu where its plugin is installed (TestStockGraphs then
// checks the backend's own choice); GOMLX_BACKEND=xla:… runs them on that backend alone.
func TestMain(m *testing.M) {
	os.Exit(backendtest.Main(m, func(b compute.Backend, _ string) { testBackend = b }, ""))
}

// bothForms runs test twice, as subtests with the substitutes forced on and off.
func bothForms(t *testing.T, test func(t *testing.T)) {
	t.Helper()
	for _, sub := range []bool{true, false} {
		t.Run(fmt.Sprintf("substitutes=%v", sub), func(t *testing.T) {
			defer ForceSubstitutes(sub)()
			test(t)
		})
	}
}

// TestForceSubstitutes: without an override Substitute answers by backend (the Go backend only); the override
// answers for every graph and restore puts back the previous setting, nested overrides included.
func TestForceSubstitutes(t *testing.T) {
	g := graph.NewGraph(testBackend, "probe")
	natural := strings.HasPrefix(strings.ToLower(testBackend.Name()), "go")
	if Substitute(g) != natural {
		t.Fatalf("Substitute on %q = %v, want %v", testBackend.Name(), Substitute(g), natural)
	}
	outer := ForceSubstitutes(!natural)
	if Substitute(g) != !natural {
		t.Errorf("ForceSubstitutes(%v) ignored", !natural)
	}
	inner := ForceSubstitutes(natural)
	if Substitute(g) != natural {
		t.Errorf("nested ForceSubstitutes(%v) ignored", natural)
	}
	inner()
	if Substitute(g) != !natural {
		t.Errorf("restore of the nested override did not restore the outer one")
	}
	outer()
	if Substitute(g) != natural {
		t.Errorf("restore did not return to the backend's choice")
	}
}

// stockCase is one exported graph function next to its plain stock GoMLX expression.
type stockCase struct {
	name  string
	dims  [][]int // the inputs' shapes (float32)
	fn    func(in []*graph.Node) []*graph.Node
	stock func(in []*graph.Node) []*graph.Node
	// skip reports why the case cannot be built on this backend with the stock ops ("" if it can), and
	// noGrad why its gradient cannot.
	skip, noGrad func(g *graph.Graph) string
}

// tools are the exported functions that build no graph of their own: the decision and its diagnostics.
var tools = []string{"Substitute", "ForceSubstitutes", "Hazards", "RNGState"}

// stockCases lists every exported graph function of the package with its stock expression.
func stockCases() []stockCase {
	one := func(f func(x *graph.Node) *graph.Node) func(in []*graph.Node) []*graph.Node {
		return func(in []*graph.Node) []*graph.Node { return []*graph.Node{f(in[0])} }
	}
	two := func(f func(a, b *graph.Node) *graph.Node) func(in []*graph.Node) []*graph.Node {
		return func(in []*graph.Node) []*graph.Node { return []*graph.Node{f(in[0], in[1])} }
	}
	lse := func(x *graph.Node) *graph.Node {
		m := graph.StopGradient(graph.ReduceAndKeep(x, graph.ReduceMax, -1))
		sum := graph.ReduceSum(graph.Exp(graph.Sub(x, m)), -1)
		return graph.Add(graph.Log(sum), graph.Reshape(m, sum.Shape().Dimensions...))
	}
	stockConv := func(x, w *graph.Node, s, p int) *graph.Node {
		return graph.Convolve(x, w).Strides(s).PaddingPerDim([][2]int{{p, p}, {p, p}}).Done()
	}
	stockPool := func(x *graph.Node, k, s, p int) *graph.Node {
		return graph.MaxPool(x).Window(k).Strides(s).PaddingPerDim([][2]int{{p, p}, {p, p}}).Done()
	}
	// The 2×2 pool is a reshape and a ReduceMax on every backend (XLA's SelectAndScatter is slow on the CPU).
	reshapePool := func(x *graph.Node) *graph.Node {
		d := x.Shape().Dimensions
		h, w := d[1]/2, d[2]/2
		if 2*h != d[1] || 2*w != d[2] {
			x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, 2*h), graph.AxisRange(0, 2*w))
		}
		return graph.ReduceMax(graph.Reshape(x, d[0], h, 2, w, 2, d[3]), 2, 4)
	}
	noPoolGrad := func(g *graph.Graph) string {
		if !hasOp(g, compute.OpTypeSelectAndScatterMax) {
			return "no gradient for graph.MaxPool (SelectAndScatterMax)"
		}
		return ""
	}
	goCumSumGrad := func(g *graph.Graph) string {
		if strings.HasPrefix(strings.ToLower(g.Backend().Name()), "go") {
			return "the gradient of graph.CumSum panics in the Go backend's Pad (compute v0.1.2)"
		}
		return ""
	}
	noFusedBN := func(g *graph.Graph) string {
		if !hasOp(g, compute.OpTypeBatchNormForTraining) || !hasOp(g, compute.OpTypeBatchNormForInference) {
			return "no fused batch norm: BatchNorm is its exact form on this backend"
		}
		return ""
	}
	stockBN := func(in []*graph.Node, training bool) []*graph.Node {
		x, scale, bias, rm, rv := in[0], in[1], in[2], in[3], in[4]
		if !training {
			return []*graph.Node{graph.InternalBatchNormForInference(x, scale, bias, rm, rv, BNEpsilon, 3), rm, rv}
		}
		y, mu, sigma2 := graph.InternalBatchNormForTraining(x, scale, bias, BNEpsilon, 3)
		n := float64(x.Shape().Size() / x.Shape().Dimensions[3])
		mu, sigma2 = graph.StopGradient(mu), graph.StopGradient(sigma2)
		newMean := graph.Add(graph.MulScalar(rm, BNMomentum), graph.MulScalar(mu, 1-BNMomentum))
		newVar := graph.Add(graph.MulScalar(rv, BNMomentum), graph.MulScalar(graph.MulScalar(sigma2, n/(n-1)), 1-BNMomentum))
		return []*graph.Node{y, newMean, newVar}
	}
	bn := func(training bool) func(in []*graph.Node) []*graph.Node {
		return func(in []*graph.Node) []*graph.Node {
			y, m, v := BatchNorm(in[0], in[1], in[2], in[3], in[4], training)
			return []*graph.Node{y, m, v}
		}
	}
	bnDims := [][]int{{4, 3, 3, 2}, {2}, {2}, {2}, {2}}
	diag := func(g *graph.Graph, n int) *graph.Node {
		m := make([]float32, n*n)
		for i := range n {
			m[i*n+i] = -maskNum
		}
		return graph.ConstTensor(g, tensors.FromFlatDataAndDimensions(m, n, n))
	}
	return []stockCase{
		{name: "Exp", dims: [][]int{{5, 4}}, fn: one(Exp), stock: one(graph.Exp)},
		{name: "LogSumExp", dims: [][]int{{5, 4}}, fn: one(LogSumExp), stock: one(lse)},
		{name: "Tanh", dims: [][]int{{5, 4}}, fn: one(Tanh), stock: one(graph.Tanh)},
		{name: "Softplus", dims: [][]int{{5, 4}}, fn: one(Softplus), stock: one(graph.Softplus)},
		{name: "ReLU", dims: [][]int{{5, 4}}, fn: one(ReLU), stock: one(activation.Relu)},
		{name: "Gram", dims: [][]int{{5, 3}, {4, 3}}, fn: two(Gram),
			stock: two(func(a, b *graph.Node) *graph.Node { return graph.DotGeneral(a, []int{1}, nil, b, []int{1}, nil) })},
		{name: "Partner", dims: [][]int{{6, 3}}, fn: one(Partner), stock: one(func(x *graph.Node) *graph.Node {
			return graph.Concatenate([]*graph.Node{graph.SliceAxis(x, 0, graph.AxisRange(3)), graph.SliceAxis(x, 0, graph.AxisRange(0, 3))}, 0)
		})},
		{name: "GramLogSumExp", dims: [][]int{{6, 3}}, fn: one(func(u *graph.Node) *graph.Node { return GramLogSumExp(u, 2) }),
			stock: one(func(u *graph.Node) *graph.Node {
				s := graph.MulScalar(graph.DotGeneral(u, []int{1}, nil, u, []int{1}, nil), 2)
				return lse(graph.Add(s, diag(u.Graph(), 6)))
			})},
		{name: "GaussianRowMean", dims: [][]int{{5, 3}, {4, 3}}, fn: two(func(a, b *graph.Node) *graph.Node { return GaussianRowMean(a, b, 0.5) }),
			stock: two(func(a, b *graph.Node) *graph.Node {
				sqa, sqb := graph.ReduceSum(graph.Square(a), -1), graph.ReduceSum(graph.Square(b), -1)
				ab := graph.DotGeneral(a, []int{1}, nil, b, []int{1}, nil)
				d2 := graph.Sub(graph.Add(graph.ExpandAxes(sqa, 1), graph.ExpandAxes(sqb, 0)), graph.MulScalar(ab, 2))
				return graph.ReduceMean(graph.Exp(graph.DivScalar(d2, -2*0.5)), -1)
			})},
		{name: "SpreadColumn", dims: [][]int{{5, 1}}, fn: one(func(x *graph.Node) *graph.Node { return SpreadColumn(x, 3) }),
			stock: one(func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 5, 3) })},
		{name: "SpreadRow", dims: [][]int{{4}}, fn: one(func(x *graph.Node) *graph.Node { return SpreadRow(x, 3) }),
			stock: one(func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(graph.ExpandAxes(x, 0), 3, 4) })},
		{name: "OuterSub", dims: [][]int{{1, 4}, {5, 1}}, fn: two(OuterSub), stock: two(graph.Sub)},
		{name: "RunningSum", dims: [][]int{{5, 4}}, fn: one(RunningSum), noGrad: goCumSumGrad,
			stock: one(func(x *graph.Node) *graph.Node { return graph.CumSum(x, 1) })},
		{name: "ColumnSums", dims: [][]int{{5, 4}}, fn: one(ColumnSums),
			stock: one(func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, 0) })},
		{name: "AddBias", dims: [][]int{{2, 3, 5, 4}, {4}}, fn: two(AddBias),
			stock: two(func(y, b *graph.Node) *graph.Node { return graph.Add(y, graph.ExpandLeftToRank(b, 4)) })},
		{name: "SumAll", dims: [][]int{{5, 4}}, fn: one(SumAll), stock: one(graph.ReduceAllSum)},
		{name: "Dense", dims: [][]int{{5, 4}, {4, 3}, {3}},
			fn: func(in []*graph.Node) []*graph.Node {
				return []*graph.Node{Dense(in[0], in[1], in[2]), Dense(in[0], in[1], nil)}
			},
			stock: func(in []*graph.Node) []*graph.Node {
				return []*graph.Node{graph.Add(graph.MatMul(in[0], in[1]), graph.ExpandLeftToRank(in[2], 2)), graph.MatMul(in[0], in[1])}
			}},
		{name: "Conv2D", dims: [][]int{{2, 7, 6, 3}, {3, 3, 3, 4}},
			fn: func(in []*graph.Node) []*graph.Node {
				return []*graph.Node{Conv2D(in[0], in[1], 1, 1), Conv2D(in[0], in[1], 2, 0)}
			},
			stock: func(in []*graph.Node) []*graph.Node {
				return []*graph.Node{stockConv(in[0], in[1], 1, 1), stockConv(in[0], in[1], 2, 0)}
			}},
		{name: "MaxPool", dims: [][]int{{2, 7, 6, 3}}, noGrad: noPoolGrad,
			fn: func(in []*graph.Node) []*graph.Node {
				return []*graph.Node{MaxPool(in[0], 2, 2, 0), MaxPool(in[0], 3, 2, 1)}
			},
			stock: func(in []*graph.Node) []*graph.Node {
				return []*graph.Node{reshapePool(in[0]), stockPool(in[0], 3, 2, 1)}
			}},
		{name: "BatchNorm/training", dims: bnDims, skip: noFusedBN, fn: bn(true),
			stock: func(in []*graph.Node) []*graph.Node { return stockBN(in, true) }},
		{name: "BatchNorm/evaluation", dims: bnDims, skip: noFusedBN, fn: bn(false),
			noGrad: func(*graph.Graph) string { return "GoMLX has no gradient for BatchNormForInference" },
			stock:  func(in []*graph.Node) []*graph.Node { return stockBN(in, false) }},
		{name: "ConvPoolStages", dims: [][]int{{2, 8, 8, 2}, {3, 3, 2, 3}, {3}, {3, 3, 3, 4}, {4}},
			fn: func(in []*graph.Node) []*graph.Node {
				return []*graph.Node{ConvPoolStages(in[0], []*graph.Node{in[1], in[3]}, []*graph.Node{in[2], in[4]})}
			},
			stock: func(in []*graph.Node) []*graph.Node {
				h := in[0]
				for l := range 2 {
					h = reshapePool(stockConv(h, in[1+2*l], 1, 1))
					h = activation.Relu(graph.Add(h, graph.ExpandLeftToRank(in[2+2*l], 4)))
				}
				return []*graph.Node{graph.Reshape(h, 2, -1)}
			}},
	}
}

// TestStockGraphs: where Substitute is false, as on XLA, every exported graph function of the package builds
// exactly its stock GoMLX expression: the graph computing its outputs and their gradients (of Σ r·y for fixed
// random r) holds the same node types in the same numbers, and its values are the stock ones bit for bit. On a
// non-Go backend (GOMLX_BACKEND=xla:…) this is the backend's own choice; on the Go backend the stock forms are
// forced (ForceSubstitutes(false)), and what that backend cannot build or differentiate is skipped. Every
// exported function of the package's source is in the table or among the tools (TestStockCasesComplete).
// Inputs are float32: the dtype matters only to substitutes.
func TestStockGraphs(t *testing.T) {
	if Substitute(graph.NewGraph(testBackend, "probe")) {
		defer ForceSubstitutes(false)()
		t.Logf("%s: the stock forms forced", testBackend.Name())
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range stockCases() {
		t.Run(c.name, func(t *testing.T) { checkStockCase(t, c, rng) })
	}
}

func checkStockCase(t *testing.T, c stockCase, rng *rand.Rand) {
	probe := graph.NewGraph(testBackend, "probe")
	if c.skip != nil && c.skip(probe) != "" {
		t.Skipf("on %s: %s", testBackend.Name(), c.skip(probe))
	}
	grad := c.noGrad == nil || c.noGrad(probe) == ""
	if !grad {
		t.Logf("values only on %s: %s", testBackend.Name(), c.noGrad(probe))
	}
	var args []any
	for _, d := range c.dims {
		n := 1
		for _, v := range d {
			n *= v
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		args = append(args, tensors.FromFlatDataAndDimensions(x, d...))
	}
	got, gotTypes := buildStockCase(t, c.fn, grad, args)
	want, wantTypes := buildStockCase(t, c.stock, grad, args)
	if !maps.Equal(gotTypes, wantTypes) {
		t.Errorf("node types %v, stock expression %v", gotTypes, wantTypes)
	}
	if len(got) != len(want) {
		t.Fatalf("%d outputs, stock %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("output %d (values, then gradients) differs from the stock expression's bits", i)
		}
	}
}

// buildStockCase evaluates f on args and, if grad, the gradients of Σ_k Σ r_k·y_k with respect to every input
// (r_k fixed pseudo-random); it returns the outputs' bits and the node types that compute them.
func buildStockCase(t *testing.T, f func(in []*graph.Node) []*graph.Node, grad bool, args []any) ([][]uint32, map[string]int) {
	t.Helper()
	var types map[string]int
	outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		ys := f(in)
		out := ys
		if grad {
			rng := rand.New(rand.NewPCG(23, 24))
			var loss *graph.Node
			for _, y := range ys {
				r := make([]float32, y.Shape().Size())
				for i := range r {
					r[i] = float32(rng.NormFloat64())
				}
				l := graph.ReduceAllSum(graph.Mul(y, graph.ConstTensor(g, tensors.FromFlatDataAndDimensions(r, y.Shape().Dimensions...))))
				if loss == nil {
					loss = l
				} else {
					loss = graph.Add(loss, l)
				}
			}
			out = append(slices.Clone(ys), graph.Gradient(loss, in...)...)
		}
		types = typeNames(out)
		return out
	}, args...)
	if err != nil {
		t.Fatal(err)
	}
	bits := make([][]uint32, len(outs))
	for i, o := range outs {
		v := tensors.MustCopyFlatData[float32](o)
		bits[i] = make([]uint32, len(v))
		for j, x := range v {
			bits[i][j] = math.Float32bits(x)
		}
	}
	return bits, types
}

// TestStockCasesComplete: every exported function in the package's source is a case of TestStockGraphs or one
// of the tools, so that a new function cannot skip the check.
func TestStockCasesComplete(t *testing.T) {
	covered := map[string]bool{}
	for _, name := range tools {
		covered[name] = true
	}
	for _, c := range stockCases() {
		covered[strings.Split(c.name, "/")[0]] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() {
				n++
				if !covered[fd.Name.Name] {
					t.Errorf("%s: exported %s has no case in TestStockGraphs", name, fd.Name.Name)
				}
			}
		}
	}
	if n < len(covered) {
		t.Errorf("found %d exported functions, fewer than the %d cases and tools", n, len(covered))
	}
}
