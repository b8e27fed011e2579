package ops

import (
	"github.com/gomlx/gomlx/core/graph"
)

// Mode chooses between GoMLX's stock convolution, max-pool and batch norm and this package's substitutes
// built from simpler stock ops (Conv2D, MaxPool2x2, MaxPool, BatchNorm). The Go backend needs the substitutes:
// its ConvGeneral is a slow naive loop, it cannot differentiate graph.MaxPool (no SelectAndScatterMax) and it
// has no BatchNormForTraining. XLA runs the stock ops well.
type Mode int

const (
	Auto        Mode = iota // substitutes on the Go backend, stock ops elsewhere (decided at graph-build time)
	Stock                   // always the stock ops
	Substitutes             // always the substitutes
	General                 // the general substitutes only, never the small CNN's fast path (for tests)
)

// UseStock reports whether graphs built on g use the stock ops.
func (m Mode) UseStock(g *graph.Graph) bool {
	switch m {
	case Stock:
		return true
	case Substitutes, General:
		return false
	}
	return !Substitute(g)
}

// ReLU is max(x, 0), written as x·[x > 0] with the indicator outside autodiff, so that its gradient is one
// multiplication by the same mask, v·[x > 0]. (graph.Max's gradient builds the indicator from two Signs, an
// Add and a Sub: five passes over the data instead of one.) At x = 0 the gradient is 0, as PyTorch's.
func ReLU(x *graph.Node) *graph.Node {
	mask := graph.StopGradient(graph.ConvertDType(graph.GreaterThan(x, graph.ScalarZero(x.Graph(), x.DType())), x.DType()))
	return graph.Mul(x, mask)
}
