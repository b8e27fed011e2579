package ref

import (
	"math"

	"github.com/gosimclr/gosimclr/internal/avx"
)

// MoCoV3 is the twin of losses.MoCoV3: MoCo v3's symmetrised InfoNCE (Chen, Xie & He 2021, Eq. 1 and
// Algorithm 1, numbers unverified) between the queries q [2N, d] (the online predictor's outputs) and the keys
// k [2N, d] (the momentum encoder's), rows 0..N−1 view 1 and N..2N−1 view 2. A query of one view is
// contrasted with the N keys of the other view, its own example's key the positive:
//
//	ctr(Q, K) = 2τ · (1/N) Σ_i [ −s_ii + log Σ_j exp(s_ij) ],   s_ij = q̄_i·k̄_j/τ,   x̄ = x/(‖x‖ + 1e-12)
//	L = ctr(Q1, K2) + ctr(Q2, K1)
//
// (the factor 2τ is Algorithm 1's "return 2 * tau * loss"). The keys are under a stop-gradient: only ∂L/∂q is
// returned, with P_ij = softmax_j(s_ij),
//
//	∂L/∂q̄_i = (2/N) (Σ_j P_ij k̄_j − k̄_i),  then through the normalisation (NormalizeBackward).
//
// All in float64; it panics unless q and k are [2N, d] with N ≥ 1.
func MoCoV3(q, k []float64, n2, d int, tau float64) (loss float64, dq []float64) {
	checkViews("MoCoV3", q, n2, d)
	checkViews("MoCoV3", k, n2, d)
	n := n2 / 2
	uq, uk := Normalize(nil, q, n2, d), Normalize(nil, k, n2, d)
	g := make([]float64, n2*d) // ∂L/∂q̄
	s := make([]float64, n)
	avx.Clean() // math.Exp below: see internal/avx
	for i := range n2 {
		keys := uk[((i/n+1)%2)*n*d:][:n*d] // the other view's keys   [N, d]
		m := math.Inf(-1)
		for j := range n {
			s[j] = 0
			for l := range d {
				s[j] += uq[i*d+l] * keys[j*d+l]
			}
			s[j] /= tau
			m = max(m, s[j])
		}
		var sum float64
		for j := range n {
			s[j] = math.Exp(s[j] - m) // subtracting the max only for numerical stability
			sum += s[j]
		}
		pos := i % n
		var spos float64
		for l := range d {
			spos += uq[i*d+l] * keys[pos*d+l]
		}
		loss += 2 * tau * (m + math.Log(sum) - spos/tau) / float64(n)
		for j := range n {
			w := s[j] / sum
			if j == pos {
				w--
			}
			for l := range d {
				g[i*d+l] += 2 / float64(n) * w * keys[j*d+l]
			}
		}
	}
	return loss, NormalizeBackward(nil, q, g, n2, d)
}
