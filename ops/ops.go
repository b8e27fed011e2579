// Package ops holds the graph operations whose stock GoMLX form is slow, missing or hazardous on GoMLX's
// pure-Go backend (compute v0.1.2), and the one decision of when to use them: Substitute.
//
//   - Exp and LogSumExp: the Go backend's Exp op calls math.Exp, whose amd64 assembly mixes SSE2 and VEX
//     (FMA) instructions. On Intel hosts with the AVX→SSE transition penalty it costs ~1.8 µs instead of
//     ~7 ns per value on a thread where a SIMD matrix kernel ran just before (internal/avx). The substitutes
//     never call it: Exp is range reduction, a polynomial and an exponent-field scale written as element-wise
//     graph ops; LogSumExp uses the backend's fused softmax (float32: a polynomial exp of its own) and hands
//     its probabilities to the gradient, so the backward pass computes no exponential at all.
//   - CustomGradient: hand-written gradients where stock autodiff builds many more passes over the data.
//   - GaussianRowMean: the Gaussian-kernel loss's repulsion term as one matrix product and the fused softmax
//     (no Exp graph over [N, M], no reduction passes), with a hand-written gradient.
//   - Dense: x w + b whose weight gradient transposes one operand by hand (the smaller side) instead of the two
//     the backend transposes when a product's left operand contracts its first axis.
//   - SpreadColumn, SpreadRow, OuterSub, RunningSum, AddBias: broadcasts, a broadcasting difference and CumSum
//     as matrix products with exact sums (same bits); the backend runs broadcasts and CumSum through per-element
//     index iterators.
//   - ColumnSums, SumAll: ReduceSum over rows and over everything as products with ones (~8–10× faster; the
//     order of the sum differs).
//
// On XLA every function here is the stock op.
package ops

import (
	"strings"

	"github.com/gomlx/gomlx/core/graph"
)

// Substitute reports whether graphs built on g use this package's substitutes: on GoMLX's pure-Go backend
// (whose Name is "Go Backend"; XLA's is "xla"). It is the one place that decides.
func Substitute(g *graph.Graph) bool {
	return strings.HasPrefix(strings.ToLower(g.Backend().Name()), "go")
}

// Hazards lists the ops that the graph computing outs would run and that Substitute exists to avoid on the
// Go backend (Exp, Expm1, Logistic, Tanh, Erf: each calls math.Exp per value), with their counts. Nodes that
// no output depends on (autodiff's unused derivations) are not counted: backends never run them.
func Hazards(outs ...*graph.Node) map[string]int {
	hazard := map[graph.NodeType]bool{graph.NodeTypeExp: true, graph.NodeTypeExpm1: true,
		graph.NodeTypeLogistic: true, graph.NodeTypeTanh: true, graph.NodeTypeErf: true}
	found := map[string]int{}
	seen := map[*graph.Node]bool{}
	stack := append([]*graph.Node(nil), outs...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		if hazard[n.Type()] {
			found[n.Type().String()]++
		}
		stack = append(stack, n.Inputs()...)
	}
	return found
}
