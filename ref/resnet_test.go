package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
)

// tinyResNets are the ResNet-18s the tests run: width 4, a CIFAR stem on 8×8 images and an ImageNet stem on
// 16×16 (7×7/2 convolution, 3×3/2 max-pool: 4×4 maps in stage 1, 1×1 in stages 3 and 4).
var tinyResNets = []arch.ResNet18{
	{H: 8, W: 8, C: 3, Stem: arch.StemCIFAR, Width: 4},
	{H: 16, W: 16, C: 3, Stem: arch.StemImageNet, Width: 4},
}

// perturbBN returns params with the batch norms' γ, β and running averages moved away from the identity,
// so that every term of their gradients is exercised.
func perturbBN(r *rand.Rand, ps []arch.Param, params [][]float64) [][]float64 {
	out := make([][]float64, len(params))
	for i, p := range ps {
		out[i] = append([]float64(nil), params[i]...)
		for j := range out[i] {
			switch {
			case strings.HasSuffix(p.Name, "/scale"), strings.HasSuffix(p.Name, "/running_var"):
				out[i][j] = 0.5 + r.Float64()
			case strings.HasSuffix(p.Name, "/bias"), strings.HasSuffix(p.Name, "/running_mean"):
				out[i][j] = 0.3 * r.NormFloat64()
			}
		}
	}
	return out
}

// TestResNet18Gradient checks ResNet18Backward against central finite differences of L = Σ r ⊙ features,
// in training mode (through the batch statistics) and evaluation mode, for both stems: all coordinates of
// the stem's batch norm and 3×3 convolution, directional derivatives for the other tensors and the input.
func TestResNet18Gradient(t *testing.T) {
	if testing.Short() {
		t.Skip("about a second of finite differences")
	}
	r := rand.New(rand.NewPCG(101, 102))
	const batch = 3
	for _, a := range tinyResNets {
		for _, training := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/training=%v", a.Stem, training), func(t *testing.T) {
				ps := a.Params()
				params := perturbBN(r, ps, a.Init(r.Uint64()))
				x := randSlice[float64](r, batch*a.H*a.W*a.C)
				rw := randSlice[float64](r, batch*a.Features())
				c := ResNet18Forward(nil, a, params, x, batch, training)
				dParams, dx := ResNet18Backward(c, rw)
				for i, p := range ps {
					if (dParams[i] != nil) != p.Trainable {
						t.Errorf("%s: trainable %v but gradient %v", p.Name, p.Trainable, dParams[i] != nil)
					}
				}
				f := func(p [][]float64) float64 {
					return weighted(ResNet18Forward(nil, a, p, x, batch, training).Features, rw)
				}
				full := map[int]bool{0: a.Stem == arch.StemCIFAR, 1: true, 2: true} // the 7×7 stem: directional
				checkGrads(t, r, ps, params, dParams, f, full, 1e-6)
				checkGrads(t, r, []arch.Param{{Name: "x"}}, [][]float64{x}, [][]float64{dx}, func(p [][]float64) float64 {
					return weighted(ResNet18Forward(nil, a, params, p[0], batch, training).Features, rw)
				}, nil, 1e-6)
			})
		}
	}
}

// TestResNet18Stats: training returns one new value per running average, equal to BatchNormRunning of the
// batch statistics (the stem's checked against its mean and variance computed here), evaluation none, and
// evaluation uses the running averages (identity batch norms at Init: the stem's output is relu(conv)).
func TestResNet18Stats(t *testing.T) {
	a := tinyResNets[0]
	r := rand.New(rand.NewPCG(103, 104))
	const batch = 2
	params := a.Init(7)
	x := randSlice[float64](r, batch*a.H*a.W*a.C)
	c := ResNet18Forward(nil, a, params, x, batch, true)
	stats := c.Stats()
	if len(stats) != 40 {
		t.Fatalf("%d statistics, want 40 (20 batch norms)", len(stats))
	}
	y := c.units[0].conv.Y // the stem convolution's output [B·8·8, w]
	w, n := 4, batch*a.H*a.W
	for j := range w {
		var s, s2 float64
		for i := range n {
			s += y[i*w+j]
		}
		mu := s / float64(n)
		for i := range n {
			s2 += (y[i*w+j] - mu) * (y[i*w+j] - mu)
		}
		wantMean, wantVar := 0.1*mu, 0.9+0.1*s2/float64(n-1)
		if e := relErr(stats[3][j:j+1], []float64{wantMean}); e > 1e-12 {
			t.Errorf("stem running mean[%d] = %g, want %g", j, stats[3][j], wantMean)
		}
		if e := relErr(stats[4][j:j+1], []float64{wantVar}); e > 1e-12 {
			t.Errorf("stem running var[%d] = %g, want %g", j, stats[4][j], wantVar)
		}
	}
	ev := ResNet18Forward(nil, a, params, x, batch, false)
	if ev.Stats() != nil {
		t.Error("evaluation returned statistics")
	}
	for i, v := range ev.units[0].bn.Y { // relu applied in place: relu(conv/√(1+ε))
		if want := max(ev.units[0].conv.Y[i], 0) / math.Sqrt(1+BNEpsilon); math.Abs(v-want) > 1e-15*math.Abs(want) {
			t.Fatalf("evaluation stem output %g, want %g", v, want)
		}
	}
}

// TestResNet18Float32 checks float32 against float64 for both stems in training mode.
func TestResNet18Float32(t *testing.T) {
	r := rand.New(rand.NewPCG(105, 106))
	const batch = 4
	for _, a := range tinyResNets {
		params := perturbBN(r, a.Params(), a.Init(9))
		x, rw := randSlice[float64](r, batch*a.H*a.W*a.C), randSlice[float64](r, batch*a.Features())
		c64 := ResNet18Forward(nil, a, params, x, batch, true)
		c32 := ResNet18Forward(nil, a, ConvertParams[float32](params), toF32(x), batch, true)
		if e := relErr(c32.Features, c64.Features); e > 1e-4 {
			t.Errorf("%s: features: float32 differs by %.3g", a.Stem, e)
		}
		d64, _ := ResNet18Backward(c64, rw)
		d32, _ := ResNet18Backward(c32, toF32(rw))
		for i, p := range a.Params() {
			if p.Trainable {
				if e := relErr(d32[i], d64[i]); e > 1e-3 {
					t.Errorf("%s: %s: float32 differs by %.3g", a.Stem, p.Name, e)
				}
			}
		}
	}
}
