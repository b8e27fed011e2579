package experiments

import (
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/internal/hostmath"
	"github.com/gosimclr/gosimclr/losses"
)

// The effective step (issue 24 point 2): how far one training step moves the latent points along the loss's own
// descent direction on them, in the units of particle gradient descent. With u_i = z_i/‖z_i‖ the latent points
// before the step and u'_i after it, and g_i the gradient of the training loss with respect to the points
// themselves (both views of a point are the point: ∂L/∂u_i summed over its two views, tangent to the sphere),
//
//	e = Σ_i ⟨u'_i − u_i, −g_i⟩ / Σ_i ‖g_i‖²
//
// Particle descent with learning rate η has e = η to first order; a network has e = η·⟨g, Θ_T g⟩/‖g‖² (Θ_T the
// tangent kernel of the normalised output), so e folds the learning rate, the kernel and the output's norm (a
// growing ‖g(x)‖ shrinks the step on the sphere) into one number that means the same for every model. The
// cumulative effective step S(t) = Σ_{s<t} e_s is the clock on which depth is compared at equal step size.

// latentGradient returns g [N·k] at the latent points z [N·k] for the loss cfg, compiled once on backend b:
// the gradient of losses.Loss of the 2N views (each point twice, as the training views are with no
// augmentation) with respect to the points, so the two views' gradients are summed. losses.Loss differentiates
// through the normalisation, so g is tangent to the sphere at unit points. It is computed in float64 (its twin
// ref.Loss checks the graph in the losses tests; experiments, a production package, does not import ref).
func latentGradient(b compute.Backend, cfg losses.Config) func(z []float64, n, k int) ([]float64, error) {
	var exec *graph.Exec
	return func(z []float64, n, k int) ([]float64, error) {
		if exec == nil {
			e, err := graph.NewExec(b, func(p *graph.Node) *graph.Node {
				views := graph.Concatenate([]*graph.Node{p, p}, 0)
				return graph.Gradient(losses.Loss(views, cfg).Loss, p)[0]
			})
			if err != nil {
				return nil, err
			}
			exec = e
		}
		out, err := exec.Call(tensors.FromFlatDataAndDimensions(append([]float64(nil), z...), n, k))
		if err != nil {
			return nil, err
		}
		return tensors.CopyFlatData[float64](out[0])
	}
}

// effectiveStep is e for the latents z before and z1 after a step, g the gradient at z; NaN when g vanishes.
func effectiveStep(z, z1, g []float64, k int) float64 {
	n := len(z) / k
	u := hostmath.NormalizeRows[float64](nil, z, n, k)
	u1 := hostmath.NormalizeRows[float64](nil, z1, n, k)
	var num, den float64
	for i := range u {
		num -= (u1[i] - u[i]) * g[i]
		den += g[i] * g[i]
	}
	if den == 0 {
		return math.NaN()
	}
	return num / den
}

// cumulativeStep is S at each logged step: the effective step of each logged step held over the interval to the
// next (S_0 = 0); a NaN step (not measured) adds nothing, and S there is as uncertain as that interval's share.
func cumulativeStep(steps []int, eff []float64) []float64 {
	s := make([]float64, len(steps))
	for j := 1; j < len(steps); j++ {
		add := 0.0
		if !math.IsNaN(eff[j-1]) {
			add = eff[j-1] * float64(steps[j]-steps[j-1])
		}
		s[j] = s[j-1] + add
	}
	return s
}
