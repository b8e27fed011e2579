package ref

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/recipe"
)

// VICRegConfig is the twin of losses.VICRegConfig: the weights λ, μ, ν of the three terms, the target
// standard deviation γ and the ε under its square root.
type VICRegConfig struct {
	Invariance, Variance, Covariance float64 // λ, μ, ν
	Gamma, Epsilon                   float64 // γ, ε
}

// DefaultVICReg returns the paper's settings: λ = μ = 25, ν = 1, γ = 1, ε = 1e-4.
func DefaultVICReg() VICRegConfig {
	return VICRegConfig{recipe.VICRegInvariance, recipe.VICRegVariance, recipe.VICRegCovariance, recipe.VICRegGamma, recipe.VICRegEpsilon}
}

// VICRegResult holds one evaluation: the weighted loss, its three unweighted terms (variance and covariance
// summed over both branches) and ∂Loss/∂z.
type VICRegResult struct {
	Loss, Invariance, Variance, Covariance float64
	DZ                                     []float64 // [2N, d]
}

// VICReg is the twin of losses.VICReg (Bardes, Ponce & LeCun 2022, §4.1, Eqs. 1–6, numbers unverified), on z
// [2N, d] whose rows 0..N−1 are the branch Z and rows N..2N−1 the branch Z':
//
//	s(Z, Z') = (1/(N d)) Σ_i ‖z_i − z'_i‖²                     (Algorithm 1's F.mse_loss: a mean over N·d)
//	v(Z)     = (1/d) Σ_j max(0, γ − √(Var(z^j) + ε)),          Var with 1/(N−1)
//	c(Z)     = (1/d) Σ_{a≠b} C(Z)_ab²,   C(Z) = (1/(N−1)) Σ_i (z_i − z̄)(z_i − z̄)ᵀ
//	ℓ        = λ s(Z, Z') + μ [v(Z) + v(Z')] + ν [c(Z) + c(Z')]
//
// Gradients, per branch with x = z − z̄ (column-centred) and S_j = √(Var_j + ε):
//
//	∂s/∂z_i = (2/(N d)) (z_i − z'_i),   ∂s/∂z'_i = −∂s/∂z_i
//	∂v/∂z_ij = −[γ > S_j] x_ij / (d (N−1) S_j)                 (∂Var_j/∂z_ij = 2x_ij/(N−1): Σ_i x_ij = 0)
//	∂c/∂z = (4/(d (N−1))) x C_off,   C_off = C with its diagonal zeroed
//
// (the last: ∂c/∂C_ab = (2/d) C_ab for a ≠ b, symmetric, and C = xᵀx/(N−1); centring leaves x C_off unchanged
// because its columns already sum to 0). All in float64; it panics unless z is [2N, d] with N ≥ 2.
func VICReg(z []float64, n2, d int, cfg VICRegConfig) VICRegResult {
	checkViews("VICReg", z, n2, d)
	n := n2 / 2
	if n < 2 {
		panic(fmt.Sprintf("ref: VICReg needs N ≥ 2 examples for a variance, got %d", n))
	}
	r := VICRegResult{DZ: make([]float64, n2*d)}
	for i := range n * d { // invariance
		diff := z[i] - z[n*d+i]
		r.Invariance += diff * diff
		g := cfg.Invariance * 2 * diff / float64(n*d)
		r.DZ[i] += g
		r.DZ[n*d+i] -= g
	}
	r.Invariance /= float64(n * d)
	for b := range 2 {
		zb, dzb := z[b*n*d:(b+1)*n*d], r.DZ[b*n*d:(b+1)*n*d]
		v, c := vicregBranch(zb, dzb, n, d, cfg)
		r.Variance += v
		r.Covariance += c
	}
	r.Loss = cfg.Invariance*r.Invariance + cfg.Variance*r.Variance + cfg.Covariance*r.Covariance
	return r
}

// vicregBranch returns v(Z) and c(Z) of one branch z [N, d] and adds μ ∂v/∂z + ν ∂c/∂z to dz.
func vicregBranch(z, dz []float64, n, d int, cfg VICRegConfig) (v, c float64) {
	x := centre(z, n, d)                           // [N, d]
	cov := MatMul(nil, x, x, d, n, d, true, false) // xᵀx   [d, d]
	den := float64(n - 1)
	for j := range d {
		s := math.Sqrt(cov[j*d+j]/den + cfg.Epsilon) // S_j
		if cfg.Gamma > s {
			v += cfg.Gamma - s
			for i := range n {
				dz[i*d+j] -= cfg.Variance * x[i*d+j] / (float64(d) * den * s)
			}
		}
	}
	for a := range d {
		cov[a*d+a] = 0 // C_off
		for b := range d {
			cov[a*d+b] /= den
			c += cov[a*d+b] * cov[a*d+b]
		}
	}
	g := MatMul(nil, x, cov, n, d, d, false, false) // x C_off   [N, d]
	for i := range g {
		dz[i] += cfg.Covariance * 4 / (float64(d) * den) * g[i]
	}
	return v / float64(d), c / float64(d)
}

// centre returns the columns of z [N, d] minus their means.
func centre(z []float64, n, d int) []float64 {
	x := make([]float64, n*d)
	for j := range d {
		var m float64
		for i := range n {
			m += z[i*d+j]
		}
		m /= float64(n)
		for i := range n {
			x[i*d+j] = z[i*d+j] - m
		}
	}
	return x
}
