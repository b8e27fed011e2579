package ref

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/recipe"
)

// BarlowConfig is the twin of losses.BarlowConfig: the off-diagonal weight λ and the ε of the per-dimension
// normalisation.
type BarlowConfig struct {
	Lambda, Epsilon float64
}

// DefaultBarlow returns λ = 5e-3 (the paper's, for d = 8192; unscaled, see losses.BarlowConfig) and ε = 1e-5.
func DefaultBarlow() BarlowConfig { return BarlowConfig{recipe.BarlowLambda, recipe.BarlowEpsilon} }

// BarlowResult holds one evaluation: the loss, its two unweighted terms and ∂Loss/∂z.
type BarlowResult struct {
	Loss, OnDiagonal, OffDiagonal float64
	DZ                            []float64 // [2N, d]
}

// Barlow is the twin of losses.Barlow (Zbontar et al. 2021, Eqs. 1–2, numbers unverified), on z [2N, d] whose
// rows 0..N−1 are the branch A and rows N..2N−1 the branch B:
//
//	ẑ_bi = (z_bi − μ_i)/√(σ_i² + ε)                         per dimension i over the batch b, σ² biased
//	C_ij = (1/N) Σ_b ẑ^A_bi ẑ^B_bj                          (Eq. 2 for ε = 0: the correlation of the columns)
//	L    = Σ_i (1 − C_ii)² + λ Σ_i Σ_{j≠i} C_ij²
//
// Gradient: G_ij = ∂L/∂C_ij = −2(1 − C_ii) on the diagonal, 2λ C_ij off it; ∂L/∂ẑ^A = (1/N) ẑ^B Gᵀ,
// ∂L/∂ẑ^B = (1/N) ẑ^A G; and through the normalisation of a column x with s = √(σ²+ε) (batch norm's backward,
// ∂x̂_b/∂x_k = (δ_bk − 1/N − x̂_b x̂_k/N)/s):
//
//	∂L/∂x_k = (1/s) (g_k − mean_b g_b − x̂_k mean_b g_b x̂_b)
//
// All in float64; it panics unless z is [2N, d] with N ≥ 2.
func Barlow(z []float64, n2, d int, cfg BarlowConfig) BarlowResult {
	checkViews("Barlow", z, n2, d)
	n := n2 / 2
	if n < 2 {
		panic(fmt.Sprintf("ref: Barlow needs N ≥ 2 examples for a correlation, got %d", n))
	}
	za, sa := standardize(z[:n*d], n, d, cfg.Epsilon)
	zb, sb := standardize(z[n*d:], n, d, cfg.Epsilon)
	c := MatMul(nil, za, zb, d, n, d, true, false) // N·C   [d, d]
	r := BarlowResult{}
	for i := range d {
		for j := range d {
			c[i*d+j] /= float64(n)
			cij := c[i*d+j]
			if i == j {
				r.OnDiagonal += (1 - cij) * (1 - cij)
				c[i*d+j] = -2 * (1 - cij) // G_ii
			} else {
				r.OffDiagonal += cij * cij
				c[i*d+j] = 2 * cfg.Lambda * cij // G_ij
			}
		}
	}
	r.Loss = r.OnDiagonal + cfg.Lambda*r.OffDiagonal
	ga := MatMul(nil, zb, c, n, d, d, false, true)  // ẑ^B Gᵀ   [N, d]
	gb := MatMul(nil, za, c, n, d, d, false, false) // ẑ^A G    [N, d]
	for i := range ga {
		ga[i] /= float64(n)
		gb[i] /= float64(n)
	}
	r.DZ = append(standardizeBackward(ga, za, sa, n, d), standardizeBackward(gb, zb, sb, n, d)...)
	return r
}

// standardize returns x̂ = (z − μ)/s per column of z [N, d] and s = √(σ² + ε) [d], σ² the biased variance.
func standardize(z []float64, n, d int, eps float64) (xhat, s []float64) {
	xhat, s = centre(z, n, d), make([]float64, d)
	for j := range d {
		var v float64
		for i := range n {
			v += xhat[i*d+j] * xhat[i*d+j]
		}
		s[j] = math.Sqrt(v/float64(n) + eps)
		for i := range n {
			xhat[i*d+j] /= s[j]
		}
	}
	return xhat, s
}

// standardizeBackward returns ∂L/∂z from g = ∂L/∂x̂ for x̂ = standardize(z): (1/s)(g − mean g − x̂ mean(g x̂))
// per column.
func standardizeBackward(g, xhat, s []float64, n, d int) []float64 {
	dz := make([]float64, n*d)
	for j := range d {
		var mg, mgx float64
		for i := range n {
			mg += g[i*d+j]
			mgx += g[i*d+j] * xhat[i*d+j]
		}
		mg, mgx = mg/float64(n), mgx/float64(n)
		for i := range n {
			dz[i*d+j] = (g[i*d+j] - mg - xhat[i*d+j]*mgx) / s[j]
		}
	}
	return dz
}
