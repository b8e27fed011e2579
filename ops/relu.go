package ops

import (
	"github.com/gomlx/gomlx/core/graph"
)

// ReLU is max(x, 0) element-wise. On XLA it is the stock graph.Max(x, 0) (activation.Relu), whose gradient
// at x = 0 is 1 (GoMLX's convention for a tie of Max). On the Go backend it is x·[x > 0] with the indicator
// outside autodiff, so that its gradient is one multiplication by the same mask, v·[x > 0], 0 at x = 0 as in
// PyTorch and ref; graph.Max's gradient builds the indicator from two Signs, an Add and a Sub: five passes over
// the data instead of one.
func ReLU(x *graph.Node) *graph.Node {
	if !Substitute(x.Graph()) {
		return graph.Max(x, graph.ZerosLike(x))
	}
	mask := graph.StopGradient(graph.ConvertDType(graph.GreaterThan(x, graph.ScalarZero(x.Graph(), x.DType())), x.DType()))
	return graph.Mul(x, mask)
}
