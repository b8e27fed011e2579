package ref

import "math"

// MomentumTau is the twin of losses.MomentumTau: the EMA rate of the target network after optimisation step
// k of K (k = 0 the first), raised from τ_base to 1 on BYOL's cosine schedule (Grill et al. 2020, §3.2; MoCo v3
// uses the same, Chen, Xie & He 2021, §4):
//
//	τ_k = 1 − (1 − τ_base) (cos(πk/K) + 1)/2
//
// k is clamped to [0, K]; K ≤ 0 gives τ_base.
func MomentumTau(k, total int, base float64) float64 {
	if total <= 0 {
		return base
	}
	k = min(max(k, 0), total)
	return 1 - (1-base)*(math.Cos(math.Pi*float64(k)/float64(total))+1)/2
}

// EMA is the twin of losses.EMA: the target parameters after one update toward the online ones
// (Grill et al. 2020, §3.1, the update ξ ← τξ + (1 − τ)θ):
//
//	ξ_i ← τ ξ_i + (1 − τ) θ_i
//
// dst may be nil (allocate) or target itself; online is not modified.
func EMA(dst, target, online []float64, tau float64) []float64 {
	if len(target) != len(online) {
		panic("ref: EMA wants target and online of the same length")
	}
	if dst == nil {
		dst = make([]float64, len(target))
	}
	for i := range target {
		dst[i] = tau*target[i] + (1-tau)*online[i]
	}
	return dst
}
