// Package ops holds the graph operations that models and losses build from, and the one decision of which form
// each takes: Substitute(g), asked by each function once, when it builds its graph. On the Go backend (GoMLX's
// pure-Go backend, compute v0.1.2) they are substitutes for stock forms that are slow, missing or hazardous
// there; on XLA every function here is the stock op (TestStockGraphs checks each one against its plain stock
// expression, node types and bits). Models and losses never ask which backend they run on.
//
//   - Conv2D, MaxPool, BatchNorm: the Go backend's ConvGeneral is a naive single-threaded loop, it cannot
//     differentiate graph.MaxPool (no SelectAndScatterMax) and it has no fused batch norm. The substitutes are
//     im2col from slices and one product, max-pools from shifted slices or a reshape and ReduceMax, and batch
//     norm written out exactly (on any backend without the fused op too).
//   - ConvPoolStages: the small CNN's conv, 2×2 pool, bias and ReLU stages; on the Go backend a polyphase layout
//     where every step is a concatenation, a well-shaped product or an element-wise pass, with hand-written
//     gradients (conv_phase.go), or the general substitutes where the shapes do not allow it.
//   - Dense and ReLU: x w + b whose weight gradient transposes one operand by hand (the smaller side) instead of
//     the two the backend transposes when a product's left operand contracts its first axis; max(x, 0) as
//     x·[x > 0], a one-pass gradient.
//   - Exp and LogSumExp (and Tanh, Softplus): the Go backend's Exp op calls math.Exp, whose amd64 assembly mixes
//     SSE2 and VEX (FMA) instructions. On Intel hosts with the AVX→SSE transition penalty it costs ~1.8 µs
//     instead of ~7 ns per value on a thread where a SIMD matrix kernel ran just before (internal/avx). The
//     substitutes never call it: Exp is range reduction, a polynomial and an exponent-field scale written as
//     element-wise graph ops; LogSumExp uses the backend's fused softmax (float32: a polynomial exp of its own)
//     and hands its probabilities to the gradient, so the backward pass computes no exponential at all.
//   - GramLogSumExp, GaussianRowMean: NT-Xent's uniformity term and the Gaussian-kernel loss's repulsion term
//     as matrix products and the fused softmax (no Exp graph over [N, M], no reduction passes), with
//     hand-written gradients.
//   - SpreadColumn, SpreadRow, OuterSub, RunningSum, AddBias: broadcasts, a broadcasting difference and CumSum
//     as matrix products with exact sums (same bits); the backend runs broadcasts and CumSum through per-element
//     index iterators.
//   - ColumnSums, SumAll: ReduceSum over rows and over everything as products with ones (~8–10× faster; the
//     order of the sum differs).
//   - Gram and Partner are the same on every backend.
//
// ForceSubstitutes overrides the decision, for tests and benchmarks: both forms can then be built and compared
// on one backend. Hazards lists the math.Exp-based ops a graph would run.
package ops

import (
	"strings"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

// forced overrides Substitute's answer for every graph: 0 (decide by backend), forceOn or forceOff.
var forced atomic.Int32

const (
	forceOn int32 = iota + 1
	forceOff
)

// Substitute reports whether graphs built on g use this package's substitutes: on GoMLX's pure-Go backend
// (whose Name is "Go Backend"; XLA's is "xla"), unless ForceSubstitutes says otherwise. It is the one place that
// decides; every function of the package asks it once, when it builds its graph.
func Substitute(g *graph.Graph) bool {
	switch forced.Load() {
	case forceOn:
		return true
	case forceOff:
		return false
	}
	return strings.HasPrefix(strings.ToLower(g.Backend().Name()), "go")
}

// ForceSubstitutes makes Substitute answer on for every graph built until restore is called, whatever the
// backend, so that tests and benchmarks can build both forms on one backend. It is for tests and benchmarks
// only. The setting is process-wide (an atomic, safe to call from any goroutine): a test that uses it must not
// build graphs in parallel with other tests. It must be in force while the graph is built (for a graph.Exec, at
// its first call), as defer ops.ForceSubstitutes(true)() at the top of a test is. Forms that a backend cannot
// run stay unavailable: on the Go backend the stock max-pool has no gradient (no SelectAndScatterMax).
func ForceSubstitutes(on bool) (restore func()) {
	v := forceOff
	if on {
		v = forceOn
	}
	prev := forced.Swap(v)
	return func() { forced.Store(prev) }
}

// hasOp reports whether g's backend implements op.
func hasOp(g *graph.Graph, op compute.OpType) bool {
	return g.Backend().Capabilities().Operations[op]
}

// fusedSoftmax is the backend's fused softmax over axis (on the Go backend, float32, without math.Exp), or
// graph.Softmax where the backend has none: XLA, reached by the substitutes only under ForceSubstitutes.
func fusedSoftmax(x *graph.Node, axis int) *graph.Node {
	if hasOp(x.Graph(), compute.OpTypeFusedSoftmax) {
		return graph.BackendFusedSoftmax(x, axis)
	}
	return graph.Softmax(x, axis)
}

// Hazards lists the ops that the graph computing outs would run and that Substitute exists to avoid on the
// Go backend (Exp, Expm1, Logistic, Tanh, Erf: each calls math.Exp per value), with their counts. Nodes that
// no output depends on (autodiff's unused derivations) are not counted: backends never run them.
func Hazards(outs ...*graph.Node) map[string]int {
	hazard := map[graph.NodeType]bool{graph.NodeTypeExp: true, graph.NodeTypeExpm1: true,
		graph.NodeTypeLogistic: true, graph.NodeTypeTanh: true, graph.NodeTypeErf: true}
	found := map[string]int{}
	for t, n := range nodeTypes(outs) {
		if hazard[t] {
			found[t.String()] = n
		}
	}
	return found
}

// nodeTypes counts the types of the nodes that outs depend on (the nodes a backend runs).
func nodeTypes(outs []*graph.Node) map[graph.NodeType]int {
	types := map[graph.NodeType]int{}
	seen := map[*graph.Node]bool{}
	stack := append([]*graph.Node(nil), outs...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		types[n.Type()]++
		stack = append(stack, n.Inputs()...)
	}
	return types
}
