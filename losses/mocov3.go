package losses

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// MoCoV3 returns MoCo v3's symmetrised contrastive loss (Chen, Xie & He 2021, Eq. 1 and Algorithm 1, numbers
// unverified) between the queries q [2N, d] (the online predictor's outputs) and the keys k [2N, d] (the
// momentum encoder's), rows 0..N−1 view 1 and N..2N−1 view 2. Each query is contrasted with the N keys of the
// other view, its own example's key the positive:
//
//	ctr(Q, K) = 2τ · (1/N) Σ_i [ −s_ii + log Σ_j exp(s_ij) ],   s_ij = q̄_i·k̄_j/τ,   x̄ = x/(‖x‖ + 1e-12)
//	L = ctr(Q1, K2) + ctr(Q2, K1)
//
// The factor 2τ is Algorithm 1's ("return 2 * tau * loss"), which makes the gradient's scale independent of
// τ. The keys are under a stop-gradient (the momentum encoder is not trained by back-propagation). It panics
// unless q and k are [2N, d] of the same shape and τ > 0. ref.MoCoV3 is its twin.
func MoCoV3(q, k *graph.Node, tau float64) *graph.Node {
	if q.Rank() != 2 || q.Shape().Dimensions[0]%2 != 0 || !q.Shape().Equal(k.Shape()) || !(tau > 0) {
		panic(fmt.Sprintf("losses: MoCoV3 wants q and k of one shape [2N, d] and τ > 0, got %s, %s, τ = %g", q.Shape(), k.Shape(), tau))
	}
	n := q.Shape().Dimensions[0] / 2
	uq, uk := Normalize(q), Normalize(graph.StopGradient(k)) // [2N, d]
	half := func(x *graph.Node, h int) *graph.Node { return graph.SliceAxis(x, 0, graph.AxisRange(h*n, (h+1)*n)) }
	ctr := func(qa, kb *graph.Node) *graph.Node {
		lse := ops.LogSumExp(graph.MulScalar(ops.Gram(qa, kb), 1/tau))      // log Σ_j exp(s_ij)   [N]
		pos := graph.DivScalar(graph.ReduceSum(graph.Mul(qa, kb), -1), tau) // s_ii   [N]
		return graph.MulScalar(graph.ReduceAllMean(graph.Sub(lse, pos)), 2*tau)
	}
	return graph.Add(ctr(half(uq, 0), half(uk, 1)), ctr(half(uq, 1), half(uk, 0)))
}
