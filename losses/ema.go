package losses

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// MomentumTau returns the EMA rate of the target network after optimisation step k of K (k = 0 the first; a
// node of any numeric dtype, usually a scalar, element-wise, clamped to [0, K]), raised from τ_base to 1 on BYOL's cosine schedule
// (Grill et al. 2020, §3.2; MoCo v3 uses the same, Chen, Xie & He 2021, §4), computed in float64:
//
//	τ_k = 1 − (1 − τ_base) (cos(πk/K) + 1)/2
//
// K ≤ 0 gives τ_base. ref.MomentumTau is its twin.
func MomentumTau(k *graph.Node, total int, base float64) *graph.Node {
	g := k.Graph()
	kf := graph.ConvertDType(k, dtypes.Float64)
	if total <= 0 {
		return graph.AddScalar(graph.ZerosLike(kf), base)
	}
	kf = graph.Min(graph.Max(kf, graph.ScalarZero(g, dtypes.Float64)), graph.Scalar(g, dtypes.Float64, float64(total)))
	c := graph.Cos(graph.MulScalar(kf, math.Pi/float64(total)))
	return graph.OneMinus(graph.MulScalar(graph.AddScalar(c, 1), (1-base)/2))
}

// EMA returns the target parameters after one update toward the online ones (Grill et al. 2020, §3.1: the
// target ξ ← τξ + (1 − τ)θ after each step of the online θ), element-wise for each pair:
//
//	ξ_i ← τ ξ_i + (1 − τ) θ_i
//
// tau is a scalar node (MomentumTau's float64 one): τ and 1 − τ are formed in its dtype and then converted to
// each parameter's (forming 1 − τ in float32 would cost 1 − τ ≈ 4e-3 about 1e-5 of its value). The results carry no gradient
// (the target is never trained by back-propagation). It panics unless the lists pair up in shape. ref.EMA is
// its twin.
func EMA(target, online []*graph.Node, tau *graph.Node) []*graph.Node {
	if len(target) != len(online) {
		panic(fmt.Sprintf("losses: EMA wants as many target as online parameters, got %d and %d", len(target), len(online)))
	}
	out := make([]*graph.Node, len(target))
	oneMinus := graph.OneMinus(tau)
	for i, xi := range target {
		theta := online[i]
		if !xi.Shape().Equal(theta.Shape()) {
			panic(fmt.Sprintf("losses: EMA parameter %d: target %s, online %s", i, xi.Shape(), theta.Shape()))
		}
		t, u := graph.ConvertDType(tau, xi.DType()), graph.ConvertDType(oneMinus, xi.DType())
		out[i] = graph.StopGradient(graph.Add(graph.Mul(t, xi), graph.Mul(u, theta)))
	}
	return out
}
