package experiments

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/ref"
)

// TestLatentGradientMatchesRef: the graph's gradient at the latent points (both views the points) equals the sum
// of ref.Loss's two view gradients, for each kernel, to 1e-9 relative to the largest component; and the
// effective step of a small particle step along −g is the particle learning rate to first order where g is
// tangent to the sphere.
func TestLatentGradientMatchesRef(t *testing.T) {
	b := testBackend(t)
	const n, k = 12, 3
	rng := rand.New(rand.NewPCG(1, 2))
	z := make([]float64, n*k)
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	for _, kernel := range []string{"exp", "gaussian", "linear"} {
		cfg := losses.Config{Kernel: kernel, Part: "ntxent", Temperature: 0.5}
		g, err := latentGradient(b, cfg)(z, n, k)
		if err != nil {
			t.Fatal(err)
		}
		views := append(append([]float64(nil), z...), z...)
		r := ref.Loss(views, 2*n, k, ref.LossConfig{Kernel: cfg.Kernel, Part: cfg.Part, Temperature: cfg.Temperature})
		worst, scale := 0.0, 0.0
		for i := range g {
			want := r.DZ[i] + r.DZ[n*k+i]
			worst, scale = math.Max(worst, math.Abs(g[i]-want)), math.Max(scale, math.Abs(want))
		}
		if scale == 0 || worst > 1e-9*scale {
			t.Errorf("%s: graph gradient differs from ref's by %.3g (largest component %.3g)", kernel, worst, scale)
		}
		// A particle step z1 = u − η g on unit points u moves them by η along −g: e ≈ η.
		u := make([]float64, len(z))
		for i := range n {
			norm := math.Sqrt(z[i*k]*z[i*k] + z[i*k+1]*z[i*k+1] + z[i*k+2]*z[i*k+2])
			for j := range k {
				u[i*k+j] = z[i*k+j] / norm
			}
		}
		gu, err := latentGradient(b, cfg)(u, n, k)
		if err != nil {
			t.Fatal(err)
		}
		const eta = 1e-6
		z1 := make([]float64, len(u))
		for i := range u {
			z1[i] = u[i] - eta*gu[i]
		}
		// Only where g is tangent at u (a radial part of g is removed by the normalisation, so e < η there:
		// the gaussian kernel's loss is not scale-free).
		radial, norm2 := 0.0, 0.0
		for i := range u {
			radial, norm2 = radial+u[i]*gu[i], norm2+gu[i]*gu[i]
		}
		if math.Abs(radial) > 1e-9*math.Sqrt(norm2) {
			continue
		}
		if e := effectiveStep(u, z1, gu, k); math.Abs(e-eta) > 1e-3*eta {
			t.Errorf("%s: effective step of a particle step of %g is %g", kernel, eta, e)
		}
	}
}
