package losses

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// BYOL returns BYOL's symmetrised normalised MSE (Grill et al. 2020, §3.1, Eq. 2 and the sum L + L̃ after it,
// numbers unverified) between the online predictions p [2N, d] and the target projections z [2N, d] of the
// other view (rows i and p(i) = (i+N) mod 2N the two views of example i):
//
//	ℓ_i = ‖p̄_i − z̄_{p(i)}‖² = 2 − 2 p̄_i·z̄_{p(i)},   x̄ = x/(‖x‖ + 1e-12)
//	L   = (1/N) Σ_{i<2N} ℓ_i                          the mean over examples of L + L̃, in [0, 8]
//
// z comes from the target network and is under a stop-gradient here (sg(z') of the paper): L's gradient
// reaches p only. It panics unless p and z are [2N, d] of the same shape. ref.BYOL is its twin.
func BYOL(p, z *graph.Node) *graph.Node {
	if p.Rank() != 2 || p.Shape().Dimensions[0]%2 != 0 || !p.Shape().Equal(z.Shape()) {
		panic(fmt.Sprintf("losses: BYOL wants p and z of one shape [2N, d], got %s and %s", p.Shape(), z.Shape()))
	}
	n := p.Shape().Dimensions[0] / 2
	up := Normalize(p)                                  // p̄          [2N, d]
	uz := ops.Partner(Normalize(graph.StopGradient(z))) // z̄_{p(i)}   [2N, d]
	cos := graph.ReduceAllSum(graph.Mul(up, uz))        // Σ_i p̄_i·z̄_{p(i)}
	return graph.DivScalar(graph.Sub(graph.Scalar(p.Graph(), p.DType(), float64(4*n)), graph.MulScalar(cos, 2)), float64(n))
}
