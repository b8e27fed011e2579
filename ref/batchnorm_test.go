package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// TestBatchNormGradient checks BatchNormBackward against central finite differences of L = Σ r ⊙ y for x,
// γ and β, in training mode (through the batch statistics) and in evaluation mode.
func TestBatchNormGradient(t *testing.T) {
	const h = 1e-4
	r := rand.New(rand.NewPCG(81, 82))
	for _, training := range []bool{true, false} {
		for _, sz := range [][2]int{{2, 1}, {12, 3}, {300, 2}} { // 300 rows span two bnBlocks
			rows, ch := sz[0], sz[1]
			t.Run(fmt.Sprintf("training=%v/rows=%d/c=%d", training, rows, ch), func(t *testing.T) {
				x, rw := randSlice[float64](r, rows*ch), randSlice[float64](r, rows*ch)
				for i := range x {
					x[i] = 3*x[i] + 1 // a mean and variance away from 0 and 1
				}
				scale, bias := randSlice[float64](r, ch), randSlice[float64](r, ch)
				mean, vr := randSlice[float64](r, ch), make([]float64, ch)
				for j := range vr {
					vr[j] = 0.5 + r.Float64()
				}
				f := func(x, scale, bias []float64) float64 {
					return weighted(BatchNormForward(nil, x, scale, bias, mean, vr, rows, ch, training).Y, rw)
				}
				c := BatchNormForward(nil, x, scale, bias, mean, vr, rows, ch, training)
				loss := weighted(c.Y, rw)
				dx, dScale, dBias := BatchNormBackward(c, rw)
				for _, g := range []struct {
					name      string
					got, want []float64
				}{
					{"x", dx, centralDiff(func(v []float64) float64 { return f(v, scale, bias) }, x, h)},
					{"scale", dScale, centralDiff(func(v []float64) float64 { return f(x, v, bias) }, scale, h)},
					{"bias", dBias, centralDiff(func(v []float64) float64 { return f(x, scale, v) }, bias, h)},
				} {
					if e := relErrFloor(g.got, g.want, fdFloor(loss, h, len(g.want))); e > 1e-6 {
						t.Errorf("∂L/∂%s: relative error %.3g", g.name, e)
					}
				}
			})
		}
	}
}

// TestBatchNormHand checks one channel by hand: x = 1, 2, 3, 4 has μ = 2.5, biased σ² = 1.25 and unbiased
// variance 5/3, so from running mean 0 and variance 1 the new ones are 0.9·0 + 0.1·2.5 = 0.25 and
// 0.9·1 + 0.1·5/3 = 16/15; y = γ(x−2.5)/√(1.25+1e-5) + β. In evaluation the running values are used and
// returned unchanged.
func TestBatchNormHand(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	c := BatchNormForward(nil, x, []float64{2}, []float64{0.5}, []float64{0}, []float64{1}, 4, 1, true)
	for i, v := range x {
		if want := 2*(v-2.5)/math.Sqrt(1.25+1e-5) + 0.5; math.Abs(c.Y[i]-want) > 1e-15 {
			t.Errorf("y[%d] = %.17g, want %.17g", i, c.Y[i], want)
		}
	}
	m, v := BatchNormRunning(c, []float64{0}, []float64{1})
	if math.Abs(m[0]-0.25) > 1e-16 || math.Abs(v[0]-16.0/15) > 1e-15 {
		t.Errorf("running mean, variance %.17g, %.17g, want 0.25, 16/15", m[0], v[0])
	}
	c = BatchNormForward(c, x, []float64{2}, []float64{0.5}, []float64{1}, []float64{4}, 4, 1, false)
	if want := 2*(4-1)/math.Sqrt(4+1e-5) + 0.5; math.Abs(c.Y[3]-want) > 1e-15 {
		t.Errorf("evaluation y[3] = %.17g, want %.17g", c.Y[3], want)
	}
	if m, v := BatchNormRunning(c, []float64{1}, []float64{4}); m[0] != 1 || v[0] != 4 {
		t.Errorf("evaluation changed the running averages to %g, %g", m[0], v[0])
	}
}

// TestBatchNormFloat32 checks float32 against float64, and that the statistics do not depend on the number
// of goroutines (fixed blocks, summed in order).
func TestBatchNormFloat32(t *testing.T) {
	const rows, ch = 1000, 5
	r := rand.New(rand.NewPCG(83, 84))
	x, dy := randSlice[float64](r, rows*ch), randSlice[float64](r, rows*ch)
	scale, bias, zero, one := randSlice[float64](r, ch), randSlice[float64](r, ch), make([]float64, ch), slices.Repeat([]float64{1}, ch)
	c64 := BatchNormForward(nil, x, scale, bias, zero, one, rows, ch, true)
	c32 := BatchNormForward(nil, toF32(x), toF32(scale), toF32(bias), toF32(zero), toF32(one), rows, ch, true)
	if e := relErr(c32.Y, c64.Y); e > 1e-6 {
		t.Errorf("y: float32 differs by %.3g", e)
	}
	dx64, ds64, db64 := BatchNormBackward(c64, dy)
	dx32, ds32, db32 := BatchNormBackward(c32, toF32(dy))
	for _, e := range []float64{relErr(dx32, dx64), relErr(ds32, ds64), relErr(db32, db64)} {
		if e > 1e-5 {
			t.Errorf("backward: float32 differs by %.3g", e)
		}
	}
	m1, v1 := BatchNormRunning(c64, zero, one)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	m2, v2 := BatchNormRunning(BatchNormForward(nil, x, scale, bias, zero, one, rows, ch, true), zero, one)
	if !slices.Equal(m1, m2) || !slices.Equal(v1, v2) {
		t.Error("one goroutine gives other statistics")
	}
}
