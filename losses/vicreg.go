package losses

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
	"github.com/gosimclr/gosimclr/recipe"
)

// VICRegConfig holds VICReg's weights λ (invariance), μ (variance) and ν (covariance), the target standard
// deviation γ and the ε under its square root.
type VICRegConfig struct {
	Invariance, Variance, Covariance float64 // λ, μ, ν
	Gamma, Epsilon                   float64 // γ, ε
}

// DefaultVICReg returns the paper's settings (Bardes, Ponce & LeCun 2022, §4.3): λ = μ = 25, ν = 1, γ = 1,
// ε = 1e-4.
func DefaultVICReg() VICRegConfig {
	return VICRegConfig{recipe.VICRegInvariance, recipe.VICRegVariance, recipe.VICRegCovariance, recipe.VICRegGamma, recipe.VICRegEpsilon}
}

// VICRegTerms are the nodes of one VICReg evaluation: the weighted loss and its three unweighted terms, the
// variance and covariance summed over both branches.
type VICRegTerms struct {
	Loss, Invariance, Variance, Covariance *graph.Node
}

// VICReg returns the VICReg loss (Bardes, Ponce & LeCun 2022, §4.1, Eqs. 1–6, numbers unverified) of z
// [2N, d], rows 0..N−1 the branch Z and rows N..2N−1 the branch Z' (the embeddings, after the expander):
//
//	s(Z, Z') = (1/(N d)) Σ_i ‖z_i − z'_i‖²                     invariance (Algorithm 1's F.mse_loss)
//	v(Z)     = (1/d) Σ_j max(0, γ − √(Var(z^j) + ε))            variance, Var over the batch with 1/(N−1)
//	c(Z)     = (1/d) Σ_{a≠b} C(Z)_ab²,  C(Z) = (1/(N−1)) Σ_i (z_i − z̄)(z_i − z̄)ᵀ   covariance
//	ℓ        = λ s(Z, Z') + μ [v(Z) + v(Z')] + ν [c(Z) + c(Z')]
//
// The invariance term is a mean over N·d values, as the paper's pseudocode and code compute it (Eq. 5 writes
// 1/N); the weights 25/25/1 were tuned with that scale. Both branches are regularised, as Eq. 6 says (the
// authors' later code halves the variance sum; we follow the paper). It panics unless z is [2N, d] with N ≥ 2.
// ref.VICReg is its twin.
func VICReg(z *graph.Node, cfg VICRegConfig) VICRegTerms {
	if z.Rank() != 2 || z.Shape().Dimensions[0]%2 != 0 || z.Shape().Dimensions[0] < 4 {
		panic(fmt.Sprintf("losses: VICReg wants z of shape [2N, d] with N ≥ 2, got %s", z.Shape()))
	}
	n := z.Shape().Dimensions[0] / 2
	za := graph.SliceAxis(z, 0, graph.AxisRange(0, n)) // Z    [N, d]
	zb := graph.SliceAxis(z, 0, graph.AxisRange(n))    // Z'   [N, d]
	inv := graph.ReduceAllMean(graph.Square(graph.Sub(za, zb)))
	va, ca := vicregBranch(za, cfg)
	vb, cb := vicregBranch(zb, cfg)
	t := VICRegTerms{Invariance: inv, Variance: graph.Add(va, vb), Covariance: graph.Add(ca, cb)}
	t.Loss = graph.Add(graph.Add(graph.MulScalar(inv, cfg.Invariance), graph.MulScalar(t.Variance, cfg.Variance)),
		graph.MulScalar(t.Covariance, cfg.Covariance))
	return t
}

// vicregBranch returns v(Z) and c(Z) of one branch z [N, d].
func vicregBranch(z *graph.Node, cfg VICRegConfig) (v, c *graph.Node) {
	g, dt := z.Graph(), z.DType()
	n, d := z.Shape().Dimensions[0], z.Shape().Dimensions[1]
	x := graph.Sub(z, graph.ReduceAndKeep(z, graph.ReduceMean, 0))                             // z − z̄         [N, d]
	cov := graph.DivScalar(graph.DotGeneral(x, []int{0}, nil, x, []int{0}, nil), float64(n-1)) // C(Z)          [d, d]
	variance := graph.DivScalar(graph.ReduceSum(graph.Square(x), 0), float64(n-1))             // Var(z^j)      [d]
	std := graph.Sqrt(graph.AddScalar(variance, cfg.Epsilon))                                  // S(z^j, ε)     [d]
	v = graph.ReduceAllMean(ops.ReLU(graph.Sub(graph.Scalar(g, dt, cfg.Gamma), std)))
	off := graph.Where(graph.Diagonal(g, d), graph.ZerosLike(cov), graph.Square(cov)) // C_ab², a ≠ b
	c = graph.DivScalar(sumRowsFirst(off), float64(d))
	return v, c
}
