package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
)

// weighted returns Σ_i r_i·out_i: a scalar whose gradient with respect to out is r.
func weighted(out, r []float64) float64 {
	var s float64
	for i, v := range out {
		s += v * r[i]
	}
	return s
}

// TestMLPGradient checks MLPBackward against central finite differences of L = Σ r ⊙ T for every activation,
// with and without normalisation, one and two hidden layers, each output scaling and both hidden
// parameterisations: every parameter and the input.
func TestMLPGradient(t *testing.T) {
	const batch, h = 3, 1e-4
	r := rand.New(rand.NewPCG(31, 32))
	for _, act := range append(arch.Activations, arch.Identity) {
		for _, norm := range []bool{false, true} {
			for _, depth := range []int{1, 2} {
				for si, scaling := range arch.Scalings {
					a := arch.MLP{In: 4, Width: 6, Depth: depth, Out: 3, Activation: act, Scaling: scaling,
						Trainable: arch.TrainBoth, Normalize: norm, StandardHidden: si == 1}
					t.Run(fmt.Sprintf("%s/norm=%v/depth=%d/%s/std=%v", act, norm, depth, scaling, si == 1), func(t *testing.T) {
						params := a.Init(uint64(r.Uint32()))
						x, rw := randSlice[float64](r, batch*a.In), randSlice[float64](r, batch*a.Out)
						c := MLPForward(a, params, x, batch)
						loss := weighted(c.Out, rw)
						dParams, dx := MLPBackward(c, rw)
						for i, p := range a.Params() {
							fd := centralDiff(func(v []float64) float64 {
								ps := append([][]float64(nil), params...)
								ps[i] = v
								return weighted(MLPForward(a, ps, x, batch).Out, rw)
							}, params[i], h)
							if e := relErrFloor(dParams[i], fd, fdFloor(loss, h, len(fd))); e > 1e-6 {
								t.Errorf("%s: relative error %.3g\n got %.6g\nwant %.6g", p.Name, e, dParams[i], fd)
							}
						}
						fd := centralDiff(func(v []float64) float64 { return weighted(MLPForward(a, params, v, batch).Out, rw) }, x, h)
						if e := relErrFloor(dx, fd, fdFloor(loss, h, len(fd))); e > 1e-6 {
							t.Errorf("input: relative error %.3g", e)
						}
					})
				}
			}
		}
	}
}

// TestMLPForward checks one hand-computed forward pass: In = 2, Width = 2, Out = 1, relu, NTK hidden
// multiplier 1/√2, mean-field α = 1/2.
func TestMLPForward(t *testing.T) {
	a := arch.MLP{In: 2, Width: 2, Depth: 1, Out: 1, Activation: arch.ReLU, Scaling: arch.ScalingMeanField, Trainable: arch.TrainBoth}
	params := [][]float64{{1, -1, 2, 1}, {0.5, -3}, {2, 5}} // W = [[1 −1] [2 1]], b = (0.5, −3), A = (2, 5)ᵀ
	// x = (1, 1): xW = (3, 0); pre = (3/√2 + 0.5, −3); h = (3/√2 + 0.5, 0); g = (1/2)·2·h_0.
	c := MLPForward(a, params, []float64{1, 1}, 1)
	if want := 3/math.Sqrt2 + 0.5; math.Abs(c.Out[0]-want) > 1e-15 {
		t.Errorf("T = %g, want %g", c.Out[0], want)
	}
	a.Normalize = true
	if c := MLPForward(a, params, []float64{1, 1}, 1); math.Abs(c.Out[0]-1) > 1e-12 {
		t.Errorf("normalised T = %g, want 1", c.Out[0])
	}
}

func TestActivations(t *testing.T) {
	x := []float64{-2, -0.5, 0, 0.5, 2, 40, -40}
	want := map[string][]float64{
		arch.ReLU:      {0, 0, 0, 0.5, 2, 40, 0},
		arch.LeakyReLU: {-0.4, -0.1, 0, 0.5, 2, 40, -8},
		arch.Softplus:  {math.Log1p(math.Exp(-2)), math.Log1p(math.Exp(-0.5)), math.Ln2, 0.5 + math.Log1p(math.Exp(-0.5)), 2 + math.Log1p(math.Exp(-2)), 40 + math.Exp(-40), math.Exp(-40)},
		// GELU(x) = x·Φ(x); Φ(0.5) = 0.6914624612740131, Φ(2) = 0.9772498680518208.
		arch.GELU: {-2 * (1 - 0.9772498680518208), -0.5 * (1 - 0.6914624612740131), 0, 0.5 * 0.6914624612740131, 2 * 0.9772498680518208, 40, 0},
	}
	for name, w := range want {
		got := Activate(nil, x, name)
		for i := range w {
			if math.Abs(got[i]-w[i]) > 1e-15*math.Max(1, math.Abs(w[i])) {
				t.Errorf("%s(%g) = %.17g, want %.17g", name, x[i], got[i], w[i])
			}
		}
	}
	// Derivatives at the kink: relu 0, leaky_relu 1 (see ActivateBackward).
	if d := ActivateBackward(nil, []float64{0}, []float64{1}, arch.ReLU); d[0] != 0 {
		t.Errorf("relu'(0) = %g, want 0", d[0])
	}
	if d := ActivateBackward(nil, []float64{0}, []float64{1}, arch.LeakyReLU); d[0] != 1 {
		t.Errorf("leaky_relu'(0) = %g, want 1", d[0])
	}
}

// TestHeadGradient checks HeadBackward against central finite differences.
func TestHeadGradient(t *testing.T) {
	const batch, h = 4, 1e-4
	r := rand.New(rand.NewPCG(33, 34))
	hd := arch.Head{In: 5, Hidden: 7, Out: 3}
	params := hd.Init(9)
	params[1], params[3] = randSlice[float64](r, hd.Hidden), randSlice[float64](r, hd.Out) // non-zero biases
	x, rw := randSlice[float64](r, batch*hd.In), randSlice[float64](r, batch*hd.Out)
	c := HeadForward(hd, params, x, batch)
	loss := weighted(c.Out, rw)
	dParams, dx := HeadBackward(c, rw)
	for i, p := range hd.Params() {
		fd := centralDiff(func(v []float64) float64 {
			ps := append([][]float64(nil), params...)
			ps[i] = v
			return weighted(HeadForward(hd, ps, x, batch).Out, rw)
		}, params[i], h)
		if e := relErrFloor(dParams[i], fd, fdFloor(loss, h, len(fd))); e > 1e-6 {
			t.Errorf("%s: relative error %.3g", p.Name, e)
		}
	}
	fd := centralDiff(func(v []float64) float64 { return weighted(HeadForward(hd, params, v, batch).Out, rw) }, x, h)
	if e := relErrFloor(dx, fd, fdFloor(loss, h, len(fd))); e > 1e-6 {
		t.Errorf("input: relative error %.3g", e)
	}
}

// TestMLPFloat32: float32 forward and backward agree with float64 to 1e-4 relative.
func TestMLPFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for _, act := range arch.Activations {
		a := arch.MLP{In: 20, Width: 64, Depth: 2, Out: 8, Activation: act, Scaling: arch.ScalingNTK, Trainable: arch.TrainBoth, Normalize: true}
		const batch = 16
		p64 := a.Init(1)
		x, rw := randSlice[float64](r, batch*a.In), randSlice[float64](r, batch*a.Out)
		c64, c32 := MLPForward(a, p64, x, batch), MLPForward(a, ConvertParams[float32](p64), toF32(x), batch)
		if e := relErr(c32.Out, c64.Out); e > 1e-5 {
			t.Errorf("%s: output relative difference %.3g", act, e)
		}
		d64, dx64 := MLPBackward(c64, rw)
		d32, dx32 := MLPBackward(c32, toF32(rw))
		for i := range d64 {
			if e := relErr(d32[i], d64[i]); e > 1e-4 {
				t.Errorf("%s: param %d gradient relative difference %.3g", act, i, e)
			}
		}
		if e := relErr(dx32, dx64); e > 1e-4 {
			t.Errorf("%s: input gradient relative difference %.3g", act, e)
		}
	}
}
