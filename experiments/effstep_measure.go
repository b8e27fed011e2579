package experiments

import (
	"math"

	"github.com/gosimclr/gosimclr/internal/hostmath"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/ref"
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

// latentGradient is g [N·k] at the latent points z [N·k] for the loss cfg: ref.Loss of the 2N views (each point
// twice, as the training views are with no augmentation), the two views' gradients summed. ref.Loss
// differentiates through the normalisation, so g is tangent to the sphere at unit points.
func latentGradient(z []float64, n, k int, cfg losses.Config) []float64 {
	views := make([]float64, 0, 2*len(z))
	views = append(append(views, z...), z...)
	r := ref.Loss(views, 2*n, k, ref.LossConfig{Kernel: cfg.Kernel, Part: cfg.Part, Temperature: cfg.Temperature})
	g := make([]float64, n*k)
	for i := range g {
		g[i] = r.DZ[i] + r.DZ[n*k+i]
	}
	return g
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
