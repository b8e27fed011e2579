package models

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/ops"
)

// Activate applies the activation σ named by one of arch's constants:
//
//	relu max(x,0) (ops.ReLU); leaky_relu x if x ≥ 0 else 0.2x; tanh; gelu x·Φ(x) (exact); softplus log(1+eˣ); identity
//
// It panics on an unknown name (arch.MLP.Validate catches those first).
func Activate(name string, x *graph.Node) *graph.Node {
	switch name {
	case arch.ReLU:
		return ops.ReLU(x)
	case arch.LeakyReLU:
		return graph.Where(graph.GreaterOrEqual(x, graph.ZerosLike(x)), x, graph.MulScalar(x, arch.LeakySlope))
	case arch.Tanh:
		return ops.Tanh(x)
	case arch.GELU:
		// Known gap: the Go backend's Erf calls math.Exp, slow after SIMD code on Intel hosts (package ops).
		// Φ(x) = (1 + erf(x/√2))/2, written out so the Go backend and XLA run the same ops.
		return graph.Mul(x, graph.MulScalar(graph.AddScalar(graph.Erf(graph.DivScalar(x, math.Sqrt2)), 1), 0.5))
	case arch.Softplus:
		return ops.Softplus(x)
	case arch.Identity:
		return x
	}
	panic(fmt.Sprintf("models: unknown activation %q", name))
}
