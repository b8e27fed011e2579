package ref

// BYOL is the twin of losses.BYOL: the symmetrised normalised MSE of BYOL (Grill et al. 2020, §3.1, Eq. 2 and
// the sum L + L̃ after it, numbers unverified) between the online predictions p [2N, d] and the target
// projections z [2N, d] of the other view (rows i and p(i) = (i+N) mod 2N are the two views of example i):
//
//	ℓ_i = ‖p̄_i − z̄_{p(i)}‖² = 2 − 2 p̄_i·z̄_{p(i)},   x̄ = x/(‖x‖ + 1e-12)
//	L   = (1/N) Σ_{i<2N} ℓ_i                          (the mean over examples of L + L̃)
//
// z is the target network's output, under a stop-gradient: only ∂L/∂p is returned,
//
//	∂L/∂p̄_i = −(2/N) z̄_{p(i)},  then through the normalisation (NormalizeBackward).
//
// ℓ_i is computed as 2 − 2 p̄·z̄ (not the squared difference), as the graph does. All in float64; it panics
// unless p and z are [2N, d] with N ≥ 1.
func BYOL(p, z []float64, n2, d int) (loss float64, dp []float64) {
	checkViews("BYOL", p, n2, d)
	checkViews("BYOL", z, n2, d)
	n := n2 / 2
	up, uz := Normalize(nil, p, n2, d), Normalize(nil, z, n2, d)
	g := make([]float64, n2*d) // ∂L/∂p̄
	for i := range n2 {
		pi := (i + n) % n2
		var dot float64
		for j := range d {
			dot += up[i*d+j] * uz[pi*d+j]
			g[i*d+j] = -2 * uz[pi*d+j] / float64(n)
		}
		loss += 2 - 2*dot
	}
	return loss / float64(n), NormalizeBackward(nil, p, g, n2, d)
}
