package ref

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// centralDiff returns the central finite-difference gradient of f at x, with Richardson extrapolation
// (4·D(h/2) − D(h))/3, whose truncation error is O(h⁴); the rounding error is ~ε·|f|/h.
func centralDiff(f func([]float64) float64, x []float64, h float64) []float64 {
	g := make([]float64, len(x))
	xx := append([]float64(nil), x...)
	d := func(i int, h float64) float64 {
		xx[i] = x[i] + h
		fp := f(xx)
		xx[i] = x[i] - h
		fm := f(xx)
		xx[i] = x[i]
		return (fp - fm) / (2 * h)
	}
	for i := range x {
		g[i] = (4*d(i, h/2) - d(i, h)) / 3
	}
	return g
}

// fdFloor is the tiny of relErrFloor for a gradient checked against centralDiff at step h: 1e6 times the
// rounding noise of the differences, ≈ 3ε|f|/h per component. A gradient smaller than that (the Gaussian
// kernel at N = 1, whose loss is log 2 up to O(1e-8)) cannot be resolved by differencing f; the check
// relErrFloor ≤ 1e-6 then asks ‖g − fd‖ to be within the noise.
func fdFloor(f float64, h float64, n int) float64 {
	return 1e6 * 3 * 2.2e-16 * math.Max(math.Abs(f), 1) / h * math.Sqrt(float64(n))
}

// relErr is ‖got − want‖ / max(‖want‖, 1e-300): a relative error of the whole vector, so that components
// that are tiny do not dominate.
func relErr[T, U Float](got []T, want []U) float64 { return relErrFloor(got, want, 1e-300) }

// relErrFloor is ‖got − want‖ / max(‖want‖, floor).
func relErrFloor[T, U Float](got []T, want []U, floor float64) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), floor)
}

// randSlice returns n standard normal values.
func randSlice[T Float](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(r.NormFloat64())
	}
	return s
}

// noisyViews returns 2n views of n random examples of size values each, view 2 = view 1 + N(0, 0.1²) noise,
// drawn from r.
func noisyViews(r *rand.Rand, n, size int) []float32 {
	base := randSlice[float32](r, n*size)
	x := append(slices.Clone(base), base...)
	for i := n * size; i < len(x); i++ {
		x[i] += float32(0.1 * r.NormFloat64())
	}
	return x
}

// checkLearns fails t unless the losses of run clearly decrease, and a second run repeats them exactly.
func checkLearns(t *testing.T, name string, run func() []float64) {
	t.Helper()
	l := run()
	if !(l[len(l)-1] < l[0]-0.1) || math.IsNaN(l[len(l)-1]) {
		t.Errorf("%s: loss %g → %g, want a clear decrease", name, l[0], l[len(l)-1])
	}
	if l2 := run(); !slices.Equal(l, l2) {
		t.Errorf("%s: two identical runs differ: %v vs %v", name, l, l2)
	}
}

func toF32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// besselI0 is the modified Bessel function I_0(x) = Σ_m (x/2)^{2m}/(m!)², summed until the terms vanish.
func besselI0(x float64) float64 {
	s, t := 0.0, 1.0
	for m := 1; t > 1e-17*s || s == 0; m++ {
		s += t
		t *= (x / 2) * (x / 2) / float64(m*m)
	}
	return s
}

func TestBesselI0(t *testing.T) {
	// I_0(1) = 1.2660658777520082, I_0(10) = 2815.716628466254 (Abramowitz & Stegun, Table 9.8).
	for _, c := range []struct{ x, want float64 }{{0, 1}, {1, 1.2660658777520082}, {10, 2815.716628466254}} {
		if got := besselI0(c.x); math.Abs(got-c.want) > 1e-13*c.want {
			t.Errorf("I0(%g) = %.16g, want %.16g", c.x, got, c.want)
		}
	}
}
