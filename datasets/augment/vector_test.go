package augment

import (
	"math"
	"os"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gosimclr/gosimclr/internal/backendtest"
	"github.com/gosimclr/gosimclr/ref"
)

var backendOfPass compute.Backend

func testBackend() compute.Backend { return backendOfPass }

// TestMain runs the tests on the Go backend and on xla:cpu where its plugin is installed.
func TestMain(m *testing.M) {
	os.Exit(backendtest.Main(m, func(b compute.Backend, _ string) { backendOfPass = b }, ""))
}

// vectorRun is one execution of VectorSpec.Sample then Apply on the Go backend: the views, the sampled parameters
// (nil when off) and the returned RNG state.
type vectorRun[T float32 | float64] struct {
	view, theta, xi, noise []T
	rng                    *tensors.Tensor
}

// runVector samples s for x [b, d] from rngState and applies it, fetching the parameters as outputs.
func runVector[T float32 | float64](t *testing.T, s VectorSpec, x []T, b, d int,
	rngState *tensors.Tensor) vectorRun[T] {
	t.Helper()
	dt := dtypes.FromGenericsType[T]()
	var hasTheta, hasXi, hasNoise bool
	exec := graph.MustNewExec(testBackend(), func(xn, rng *graph.Node) []*graph.Node {
		rng, p := s.Sample(rng, b, d, dt)
		outs := []*graph.Node{s.Apply(xn, p), rng}
		for _, n := range []*graph.Node{p.Theta, p.Xi, p.Noise} {
			if n != nil {
				outs = append(outs, n)
			}
		}
		hasTheta, hasXi, hasNoise = p.Theta != nil, p.Xi != nil, p.Noise != nil
		return outs
	})
	defer exec.Finalize()
	out := exec.MustExec(tensors.FromFlatDataAndDimensions(x, b, d), rngState)
	r := vectorRun[T]{view: tensors.MustCopyFlatData[T](out[0]), rng: out[1]}
	next := 2
	for _, f := range []struct {
		on  bool
		dst *[]T
	}{{hasTheta, &r.theta}, {hasXi, &r.xi}, {hasNoise, &r.noise}} {
		if f.on {
			*f.dst = tensors.MustCopyFlatData[T](out[next])
			next++
		}
	}
	return r
}

// seedState returns graph.RNGStateFromSeed(seed), failing t on error.
func seedState(t *testing.T, seed int64) *tensors.Tensor {
	t.Helper()
	s, err := graph.RNGStateFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testPoints returns b·d deterministic inputs in about [−2, 2].
func testPoints[T float32 | float64](b, d int) []T {
	x := make([]T, b*d)
	for i := range x {
		x[i] = T(2 * math.Sin(float64(3*i+1)))
	}
	return x
}

var vectorSpecs = map[string]VectorSpec{
	"noise":     {NoiseStd: 0.1},
	"shift":     {ShiftStd: 1},
	"shift-dir": {ShiftStd: 0.5, ShiftDir: []float64{1, -2, 0.5, 0, 3}},
	"rotate":    {RotateMax: 2 * math.Pi},
	"all":       {NoiseStd: 0.05, ShiftStd: 1, RotateMax: 1},
	"none":      {},
}

// replayVector checks the graph views of every spec against ref.ApplyVector with the fetched parameters.
func replayVector[T float32 | float64](t *testing.T, tol float64) {
	for _, bd := range [][2]int{{1, 2}, {8, 2}, {16, 5}} {
		b, d := bd[0], bd[1]
		for name, s := range vectorSpecs {
			if s.ShiftDir != nil {
				s.ShiftDir = s.ShiftDir[:d]
			}
			x := testPoints[T](b, d)
			r := runVector(t, s, x, b, d, seedState(t, 11))
			if (r.theta != nil) != (s.RotateMax != 0) || (r.xi != nil) != (s.ShiftStd != 0) ||
				(r.noise != nil) != (s.NoiseStd != 0) {
				t.Fatalf("%s: sampled the wrong parameters", name)
			}
			want := ref.ApplyVector(nil, x, b, d, r.theta, r.xi, s.ShiftDir, r.noise)
			for i := range want {
				if diff := math.Abs(float64(r.view[i] - want[i])); diff > tol*(1+math.Abs(float64(want[i]))) {
					t.Errorf("%T %s b=%d d=%d: view[%d] = %g, ref %g", x[0], name, b, d, i, r.view[i], want[i])
					break
				}
			}
		}
	}
}

func TestVectorReplay(t *testing.T) {
	t.Run("float32", func(t *testing.T) { replayVector[float32](t, 1e-5) })
	t.Run("float64", func(t *testing.T) { replayVector[float64](t, 1e-12) })
}

// TestVectorSameSeed checks that a seed fixes the views and that the returned state, carried to the next call,
// gives new ones.
func TestVectorSameSeed(t *testing.T) {
	s, b, d := vectorSpecs["all"], 8, 3
	x := testPoints[float32](b, d)
	r1 := runVector(t, s, x, b, d, seedState(t, 7))
	r2 := runVector(t, s, x, b, d, seedState(t, 7))
	if !slices.Equal(r1.view, r2.view) || !slices.Equal(r1.noise, r2.noise) {
		t.Error("the same seed gave different views")
	}
	if r3 := runVector(t, s, x, b, d, seedState(t, 8)); slices.Equal(r1.view, r3.view) {
		t.Error("seeds 7 and 8 gave the same views")
	}
	if r4 := runVector(t, s, x, b, d, r1.rng); slices.Equal(r1.view, r4.view) || slices.Equal(r1.xi, r4.xi) {
		t.Error("the returned RNG state gave the same views again")
	}
}

// meanStd returns the sample mean and standard deviation of v.
func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

func TestVectorStatistics(t *testing.T) {
	const b, d = 16384, 16 // 262144 noise entries, 16384 shifts and angles
	x := make([]float64, b*d)
	s := VectorSpec{NoiseStd: 0.05, ShiftStd: 1.5, RotateMax: 2}
	r := runVector(t, s, x, b, d, seedState(t, 3))

	mean, std := meanStd(r.noise) // the mean of n draws has std σ/√n ≈ 1e-4
	if math.Abs(mean) > 5e-4 || math.Abs(std/s.NoiseStd-1) > 0.01 {
		t.Errorf("noise mean, std = %g, %g, want 0, %g", mean, std, s.NoiseStd)
	}
	mean, std = meanStd(r.xi)
	if math.Abs(mean) > 0.05 || math.Abs(std/s.ShiftStd-1) > 0.03 {
		t.Errorf("shift mean, std = %g, %g, want 0, %g", mean, std, s.ShiftStd)
	}
	mean, std = meanStd(r.theta) // U[−m, m) has std m/√3
	if math.Abs(mean) > 0.05 || math.Abs(std/(s.RotateMax/math.Sqrt(3))-1) > 0.03 {
		t.Errorf("rotation mean, std = %g, %g, want 0, %g", mean, std, s.RotateMax/math.Sqrt(3))
	}
	if lo, hi := slices.Min(r.theta), slices.Max(r.theta); lo < -s.RotateMax || hi >= s.RotateMax {
		t.Errorf("angles in [%g, %g], want within [−%g, %g)", lo, hi, s.RotateMax, s.RotateMax)
	}
}

// TestVectorRotatePreservesNorm rotates points in R^3 by up to 2π: norms and the third coordinate are unchanged.
func TestVectorRotatePreservesNorm(t *testing.T) {
	const b, d = 64, 3
	for _, dt := range []string{"float32", "float64"} {
		var norm func(i int) (before, after, thirdDiff float64)
		if dt == "float32" {
			x := testPoints[float32](b, d)
			r := runVector(t, VectorSpec{RotateMax: 2 * math.Pi}, x, b, d, seedState(t, 5))
			norm = func(i int) (float64, float64, float64) {
				return rowNorm(x[i*d : i*d+2]), rowNorm(r.view[i*d : i*d+2]), float64(r.view[i*d+2] - x[i*d+2])
			}
		} else {
			x := testPoints[float64](b, d)
			r := runVector(t, VectorSpec{RotateMax: 2 * math.Pi}, x, b, d, seedState(t, 5))
			norm = func(i int) (float64, float64, float64) {
				return rowNorm(x[i*d : i*d+2]), rowNorm(r.view[i*d : i*d+2]), r.view[i*d+2] - x[i*d+2]
			}
		}
		for i := range b {
			if before, after, third := norm(i); math.Abs(after-before) > 1e-5*(1+before) || third != 0 {
				t.Fatalf("%s row %d: ‖x01‖ %g → %g, x2 moved by %g", dt, i, before, after, third)
			}
		}
	}
}

// rowNorm returns the Euclidean norm of v, in float64.
func rowNorm[T float32 | float64](v []T) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestVectorShapePanics(t *testing.T) {
	s := VectorSpec{RotateMax: 1}
	if err := s.Check(1); err == nil {
		t.Error("Check(1) accepted a rotation of 1-D data")
	}
	if err := (VectorSpec{ShiftStd: 1, ShiftDir: []float64{1, 1}}).Check(3); err == nil {
		t.Error("Check(3) accepted a 2-D shift direction")
	}
	if err := (VectorSpec{ShiftStd: 1}).Check(3); err != nil {
		t.Errorf("Check(3) of the diagonal shift: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Sample of a rotation of 1-D data did not panic")
		}
	}()
	runVector(t, s, []float32{1, 2}, 2, 1, seedState(t, 1))
}

func TestVectorParse(t *testing.T) {
	for in, want := range map[string]VectorSpec{
		"none":                           {},
		" none ":                         {},
		"shift:1":                        {ShiftStd: 1},
		"noise:0.05,shift:1,rotate:3.25": {NoiseStd: 0.05, ShiftStd: 1, RotateMax: 3.25},
		"rotate:2pi":                     {RotateMax: 2 * math.Pi},
		"rotate: pi , noise:0":           {RotateMax: math.Pi},
		"shift:0.5,dir:1/-1":             {ShiftStd: 0.5, ShiftDir: []float64{1, -1}},
		"dir:0/0/2,shift:1e-1":           {ShiftStd: 0.1, ShiftDir: []float64{0, 0, 2}},
	} {
		got, err := ParseVectorSpec(in)
		if err != nil {
			t.Errorf("ParseVectorSpec(%q): %v", in, err)
			continue
		}
		if got.NoiseStd != want.NoiseStd || got.ShiftStd != want.ShiftStd || got.RotateMax != want.RotateMax ||
			!slices.Equal(got.ShiftDir, want.ShiftDir) {
			t.Errorf("ParseVectorSpec(%q) = %+v, want %+v", in, got, want)
		}
		back, err := ParseVectorSpec(got.String())
		if err != nil || back.String() != got.String() {
			t.Errorf("%q: String %q does not parse back (%v)", in, got.String(), err)
		}
	}
	for _, in := range []string{
		"", ",", "noise", "noise:", ":1", "noise:-1", "noise:abc", "noise:NaN", "shift:Inf", "rotate:-pi",
		"rotate:pipi", "noise:1,noise:2", "blur:1", "none,noise:1", "dir:1/1", "shift:1,dir:0/0",
		"shift:1,dir:1/x", "shift:1,dir:", "shift:1,,noise:1",
	} {
		if s, err := ParseVectorSpec(in); err == nil {
			t.Errorf("ParseVectorSpec(%q) = %+v, want an error", in, s)
		}
	}
}

// TestVectorGolden pins the parameters that seed 1 gives on the Go backend (float64, B = 3, d = 2): a change means
// a change in GoMLX's RNG or in the order of Sample's draws, and old runs no longer replay.
func TestVectorGolden(t *testing.T) {
	if b := backendtest.Current(); b != "go" {
		t.Skipf("golden draws of the Go backend's RNG; %s's random bit generator draws others", b)
	}
	r := runVector(t, VectorSpec{NoiseStd: 1, ShiftStd: 1, RotateMax: 1}, make([]float64, 6), 3, 2, seedState(t, 1))
	for name, c := range map[string][2][]float64{
		"theta": {r.theta, {-0.8114425636886858, 0.3081494798804896, -0.5836666690957062}},
		"xi":    {r.xi, {-1.8892922492437494, -0.6965871603900544, -0.18716730571740095}},
		"noise": {r.noise, {-0.5594779768482425, 0.9208126386393026, -0.2800542962117934, -0.4228057282463778,
			-0.341048973087658, 0.3647854455262627}},
	} {
		for i := range c[1] {
			if math.Abs(c[0][i]-c[1][i]) > 1e-12 {
				t.Errorf("seed 1: %s = %v, want %v", name, c[0], c[1])
				break
			}
		}
	}
}
