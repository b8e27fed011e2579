package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// randomBiases returns params with every 1-D parameter whose name ends in "/bias" redrawn from N(0, 0.25),
// so that relu patterns are not those of zero biases.
func randomBiases(r *rand.Rand, ps []arch.Param, params [][]float64) [][]float64 {
	out := slices.Clone(params)
	for i, p := range ps {
		if len(p.Dims) == 1 && p.Trainable && p.Name[len(p.Name)-5:] == "/bias" {
			out[i] = arch.Normal(r, p.Size(), 0.5)
		}
	}
	return out
}

// checkGrads compares the gradients grads of f at params (nil entries are skipped) with central finite
// differences at step h: all coordinates of the tensors in full, and for the others the directional
// derivative along a random unit direction, which checks every coordinate at once, to 1e-6 of ‖g‖. Networks with many relu
// units and max-pools want a small h, so that no unit crosses its kink within ±h.
func checkGrads(t *testing.T, r *rand.Rand, ps []arch.Param, params, grads [][]float64, f func([][]float64) float64, full map[int]bool, h float64) {
	t.Helper()
	loss := f(params)
	for i, g := range grads {
		if g == nil {
			continue
		}
		at := func(v []float64) float64 {
			p := slices.Clone(params)
			p[i] = v
			return f(p)
		}
		if full[i] {
			fd := centralDiff(at, params[i], h)
			if e := relErrFloor(g, fd, fdFloor(loss, h, len(fd))); e > 1e-6 {
				t.Errorf("%s: relative error %.3g", ps[i].Name, e)
			}
			continue
		}
		dir := randSlice[float64](r, len(g))
		norm := math.Sqrt(hostmath.Dot(dir, dir))
		for j := range dir {
			dir[j] /= norm
		}
		fd := centralDiff(func(e []float64) float64 {
			v := slices.Clone(params[i])
			for j := range v {
				v[j] += e[0] * dir[j]
			}
			return at(v)
		}, []float64{0}, h)
		// Relative to ‖g‖ ≥ |g·dir|: a random direction can make g·dir tiny, below the differences' noise.
		if e := relErrFloor([]float64{hostmath.Dot(g, dir)}, fd, max(math.Sqrt(hostmath.Dot(g, g)), fdFloor(loss, h, 1))); e > 1e-6 {
			t.Errorf("%s: directional derivative %.12g, finite differences %.12g (relative error %.3g)", ps[i].Name, hostmath.Dot(g, dir), fd[0], e)
		}
	}
}

// TestCNNGradient checks CNNBackward against central finite differences of L = Σ r ⊙ h for every parameter
// and the input, on maps that divide evenly and on odd sizes whose last row and column the pools drop.
func TestCNNGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	for _, c := range []struct {
		a     arch.CNN
		batch int
	}{
		{arch.CNN{H: 8, W: 8, C: 1, Channels: []int{3, 4}, Dense: 5}, 3},
		{arch.CNN{H: 7, W: 9, C: 3, Channels: []int{2}, Dense: 4}, 2},
		{arch.CNN{H: 11, W: 10, C: 2, Channels: []int{2, 3, 2}, Dense: 3}, 2},
	} {
		t.Run(fmt.Sprintf("%dx%dx%d/%v", c.a.H, c.a.W, c.a.C, c.a.Channels), func(t *testing.T) {
			ps := c.a.Params()
			params := randomBiases(r, ps, c.a.Init(r.Uint64()))
			x := randSlice[float64](r, c.batch*c.a.H*c.a.W*c.a.C)
			rw := randSlice[float64](r, c.batch*c.a.Dense)
			cache := CNNForward(nil, c.a, params, x, c.batch)
			dParams, dx := CNNBackward(cache, rw)
			full := map[int]bool{}
			for i := range ps {
				full[i] = true
			}
			checkGrads(t, r, ps, params, dParams, func(p [][]float64) float64 {
				return weighted(CNNForward(nil, c.a, p, x, c.batch).Out, rw)
			}, full, 1e-4)
			in := []arch.Param{{Name: "x"}}
			checkGrads(t, r, in, [][]float64{x}, [][]float64{dx}, func(p [][]float64) float64 {
				return weighted(CNNForward(nil, c.a, params, p[0], c.batch).Out, rw)
			}, map[int]bool{0: true}, 1e-4)
		})
	}
}

// TestCNNForwardHand: a 2×2 single-channel image through one 1-channel stage and a 1-unit dense layer. With
// the kernel's centre tap 1 and the others 0, the convolution is the identity, the pool takes the maximum 4,
// and h = relu((4 + b_conv)·w + b) = relu((4 − 1)·2 + 0.5) = 6.5.
func TestCNNForwardHand(t *testing.T) {
	a := arch.CNN{H: 2, W: 2, C: 1, Channels: []int{1}, Dense: 1}
	k := make([]float64, 9)
	k[4] = 1
	c := CNNForward(nil, a, [][]float64{k, {-1}, {2}, {0.5}}, []float64{1, 4, 3, 2}, 1)
	if c.Out[0] != 6.5 {
		t.Errorf("h = %g, want 6.5", c.Out[0])
	}
}

// TestCNNFloat32 checks float32 against float64 on a CNN large enough for MatMul's blocked kernels, with
// one cache reused for both calls of each type.
func TestCNNFloat32(t *testing.T) {
	a := arch.CNN{H: 12, W: 12, C: 1, Channels: []int{8, 16}, Dense: 32}
	const batch = 16
	r := rand.New(rand.NewPCG(93, 94))
	params := randomBiases(r, a.Params(), a.Init(5))
	x, rw := randSlice[float64](r, batch*a.H*a.W*a.C), randSlice[float64](r, batch*a.Dense)
	var c64 *CNNCache[float64]
	var c32 *CNNCache[float32]
	for range 2 {
		c64 = CNNForward(c64, a, params, x, batch)
		c32 = CNNForward(c32, a, ConvertParams[float32](params), toF32(x), batch)
	}
	if e := relErr(c32.Out, c64.Out); e > 1e-5 {
		t.Errorf("h: float32 differs by %.3g", e)
	}
	d64, dx64 := CNNBackward(c64, rw)
	d32, dx32 := CNNBackward(c32, toF32(rw))
	for i, p := range a.Params() {
		if e := relErr(d32[i], d64[i]); e > 1e-5 {
			t.Errorf("%s: float32 differs by %.3g", p.Name, e)
		}
	}
	if e := relErr(dx32, dx64); e > 1e-5 {
		t.Errorf("dx: float32 differs by %.3g", e)
	}
}
