package losses

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
	"github.com/gosimclr/gosimclr/recipe"
)

// Kernels are the similarity functions η of the generalised loss, and Parts the parts of it that can be
// optimised: package recipe's names (shared with ref), re-exported for callers of Loss.
const (
	KernelExp      = recipe.KernelExp      // η = exp(cos/τ): NT-Xent
	KernelGaussian = recipe.KernelGaussian // η = exp(−‖z−z'‖²/(2τ)) on unnormalised latents
	KernelLinear   = recipe.KernelLinear   // η = 1 + cos + 1e-6; τ unused

	PartFull    = recipe.PartFull    // alignment + uniformity: the whole loss
	PartAlign   = recipe.PartAlign   // the alignment (attraction) part alone
	PartUniform = recipe.PartUniform // the uniformity (repulsion) part alone
)

// Kernels and Parts list the valid names.
var (
	Kernels = recipe.Kernels
	Parts   = recipe.Parts
)

// Config selects a member of the loss family.
type Config struct {
	Kernel      string  // one of Kernels; "" means KernelExp
	Part        string  // one of Parts; "" means PartFull
	Temperature float64 // temperature τ > 0
}

// Validate reports an invalid configuration.
func (c Config) Validate() error {
	if c.Kernel != "" && !slices.Contains(Kernels, c.Kernel) {
		return fmt.Errorf("losses: kernel must be one of %v, got %q", Kernels, c.Kernel)
	}
	if c.Part != "" && !slices.Contains(Parts, c.Part) {
		return fmt.Errorf("losses: part must be one of %v, got %q", Parts, c.Part)
	}
	if !(c.Temperature > 0) {
		return fmt.Errorf("losses: temperature must be > 0, got %g", c.Temperature)
	}
	return nil
}

// Terms are the scalar nodes of one loss evaluation: the selected objective and both of its parts.
type Terms struct {
	Loss, Align, Unif *graph.Node
}

// largeNum masks self-similarities: −1e9, not −Inf, since 0·(−Inf) is NaN in any one-hot pick or gradient.
const largeNum = 1e9

// normEps is the ε of u = z/(‖z‖+ε).
const normEps = 1e-12

// InfoNCE returns the mean NT-Xent loss of SimCLR (Chen et al. 2020, Eq. 1) for z of shape [2N, k]:
//
//	ℓ_i = −s_{i,p(i)} + log Σ_{j≠i} exp(s_ij),   s_ij = u_i·u_j/τ,   L = (1/2N) Σ_i ℓ_i
//
// It panics if z is not rank 2 or its first dimension is odd. ref.InfoNCE is its twin.
func InfoNCE(z *graph.Node, tau float64) *graph.Node {
	return Loss(z, Config{Kernel: KernelExp, Temperature: tau}).Loss
}

// Loss evaluates the member of the loss family chosen by cfg on z [2N, k]. ref.Loss is its twin.
func Loss(z *graph.Node, cfg Config) Terms {
	if z.Rank() != 2 || z.Shape().Dimensions[0]%2 != 0 || z.Shape().Dimensions[0] == 0 {
		panic(fmt.Sprintf("losses: Loss wants z of shape [2N, k], got %s", z.Shape()))
	}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	var t Terms
	switch cfg.Kernel {
	case KernelGaussian:
		t = gaussian(z, cfg.Temperature)
	case KernelLinear:
		t = cosine(z, cfg.Temperature, true)
	default:
		t = cosine(z, cfg.Temperature, false)
	}
	switch cfg.Part {
	case PartAlign:
		t.Loss = t.Align
	case PartUniform:
		t.Loss = t.Unif
	}
	return t
}

// Normalize returns u = z/(‖z‖+1e-12) row-wise.
func Normalize(z *graph.Node) *graph.Node { return graph.L2NormalizeWithEpsilon(z, normEps, -1) }

// cosine computes the exp (NT-Xent) or linear kernel terms on u = normalise(z).
//
//	exp:    align_i = −c_{i,p(i)}/τ,        unif_i = log Σ_{j≠i} exp(c_ij/τ)
//	linear: align_i = −log(1+c_{i,p(i)}+δ), unif_i = log Σ_{j≠i} (1+c_ij+δ),   δ = 1e-6
func cosine(z *graph.Node, tau float64, linear bool) Terms {
	g, n2 := z.Graph(), z.Shape().Dimensions[0]
	u := Normalize(z)                                        // [2N, k]
	pos := graph.ReduceSum(graph.Mul(u, ops.Partner(u)), -1) // c_{i,p(i)}        [2N]
	var align, unif *graph.Node
	if linear {
		const delta = 1e-6
		c := ops.Gram(u, u) // c_ij = u_i·u_j   [2N, 2N]
		eta := graph.AddScalar(c, 1+delta)
		eta = graph.Where(graph.Diagonal(g, n2), graph.ZerosLike(eta), eta) // j = i dropped
		unif = graph.Log(graph.ReduceSum(eta, -1))
		align = graph.Neg(graph.Log(graph.AddScalar(pos, 1+delta)))
	} else {
		unif = ops.GramLogSumExp(u, 1/tau) // log Σ_{j≠i} exp(c_ij/τ), gradient by hand on the Go backend
		align = graph.Neg(graph.DivScalar(pos, tau))
	}
	a, un := graph.ReduceAllMean(align), graph.ReduceAllMean(unif)
	return Terms{Loss: graph.Add(a, un), Align: a, Unif: un}
}

// LogSumExp returns log Σ_j exp(x_ij) over the last axis of x [B, M]: ops.LogSumExp, which on the Go backend
// never calls the backend's Exp (see package ops) and whose gradient reuses the forward's softmax.
func LogSumExp(x *graph.Node) *graph.Node { return ops.LogSumExp(x) }

// gaussian computes the authors' Gaussian-kernel loss on unnormalised latents, view-1 anchors only
// (paper.md §3.4, from the authors' later code):
//
//	e_ij = exp(−‖z1_i − z2_j‖²/(2τ)),  att_i = e_ii,  rep_i = (1/N) Σ_j e_ij
//	L = mean_i log(1 + rep_i/(att_i + 1e-8)),  L_align = mean_i ‖z1_i − z2_i‖²/(2τ),  L_unif = mean_i log1p(rep_i)
func gaussian(z *graph.Node, tau float64) Terms {
	n := z.Shape().Dimensions[0] / 2
	z1 := graph.SliceAxis(z, 0, graph.AxisRange(0, n))           // [N, k]
	z2 := graph.SliceAxis(z, 0, graph.AxisRange(n))              // [N, k]
	rep := ops.GaussianRowMean(z1, z2, tau)                      // [N]; fused on the Go backend
	dPos := graph.ReduceSum(graph.Square(graph.Sub(z1, z2)), -1) // [N]
	att := ops.Exp(graph.DivScalar(dPos, -2*tau))
	loss := graph.ReduceAllMean(graph.Log1P(graph.Div(rep, graph.AddScalar(att, 1e-8))))
	return Terms{
		Loss:  loss,
		Align: graph.ReduceAllMean(graph.DivScalar(dPos, 2*tau)),
		Unif:  graph.ReduceAllMean(graph.Log1P(rep)),
	}
}
