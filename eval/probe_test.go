package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestLogisticGradient checks the objective's gradient (float32 products, float64 sums) against central
// differences of the objective.
func TestLogisticGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	n, d, classes := 300, 37, 5 // d and classes not multiples of the padding; n spans blocks and stripes
	x, y := make([]float32, n*roundUp(d, featAlign)), make([]int, n)
	for i := range n {
		y[i] = r.IntN(classes)
		for j := range d {
			x[i*roundUp(d, featAlign)+j] = float32(r.NormFloat64())
		}
	}
	l := newLogistic(x, y, d, classes, 0.03)
	theta := make([]float64, l.dim())
	for i := range theta {
		theta[i] = 0.3 * r.NormFloat64()
	}
	grad := make([]float64, l.dim())
	l.eval(theta, grad)
	const h = 1e-3
	for i := range theta {
		old := theta[i]
		theta[i] = old + h
		fp := l.eval(theta, nil)
		theta[i] = old - h
		fm := l.eval(theta, nil)
		theta[i] = old
		if fd := (fp - fm) / (2 * h); math.Abs(fd-grad[i]) > 1e-4+1e-3*math.Abs(fd) {
			t.Errorf("∂f/∂θ[%d] = %.6g, finite difference %.6g", i, grad[i], fd)
		}
	}
}

// TestLBFGSRosenbrock: lbfgs finds the minimum (1, 1, …) of the Rosenbrock function from (−1.2, 1, …).
func TestLBFGSRosenbrock(t *testing.T) {
	f := func(x, g []float64) float64 {
		var s float64
		clear(g)
		for i := 0; i+1 < len(x); i++ {
			a, b := 1-x[i], x[i+1]-x[i]*x[i]
			s += a*a + 100*b*b
			g[i] += -2*a - 400*b*x[i]
			g[i+1] += 200 * b
		}
		return s
	}
	x := []float64{-1.2, 1, -1.2, 1, -1.2, 1}
	res := lbfgs(f, x, 1000, 1e-8)
	for i, v := range x {
		if math.Abs(v-1) > 1e-6 {
			t.Errorf("x[%d] = %v, want 1 (%+v)", i, v, res)
		}
	}
}

// TestProbeSeparable: classes separated by hyperplanes with a margin are classified perfectly.
func TestProbeSeparable(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	dim, classes := 20, 3
	w := normals(r, dim*classes) // class c scores x·w_c; keep points whose best score wins by ≥ 1
	sample := func(n int) ([]float32, []int) {
		var x []float32
		var y []int
		for len(y) < n {
			p := normals(r, dim)
			s := make([]float64, classes)
			for c := range classes {
				for j := range dim {
					s[c] += float64(p[j] * w[j*classes+c])
				}
			}
			best := slices.Index(s, slices.Max(s))
			slices.Sort(s)
			if s[classes-1]-s[classes-2] >= 1 {
				x, y = append(x, p...), append(y, best)
			}
		}
		return x, y
	}
	train, trainY := sample(3000)
	test, testY := sample(1000)
	acc, err := LinearProbe(train, trainY, test, testY, dim, classes, ProbeOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if acc != 1 {
		t.Errorf("accuracy %v on separable classes, want 1", acc)
	}
}

// TestProbeBayes: three Gaussian classes with equal priors and identity covariance around −Δe₁, 0 and +Δe₁.
// The Bayes rule thresholds x₁ at ±Δ/2, so with a = Δ/2 its accuracy is
//
//	(1/3)·[Φ(a) + (2Φ(a) − 1) + Φ(a)] = (4Φ(a) − 1)/3,
//
// and softmax regression contains that rule. The features are then scaled and shifted per dimension (which
// changes nothing for the Bayes rule, and standardisation must undo) and the probe must come within 1.5
// points of the Bayes accuracy.
func TestProbeBayes(t *testing.T) {
	const delta, dim, classes = 2.0, 8, 3
	r := rand.New(rand.NewPCG(25, 26))
	scale, shift := make([]float64, dim), make([]float64, dim)
	for j := range dim {
		scale[j], shift[j] = math.Exp(3*r.NormFloat64()), 10*r.NormFloat64()
	}
	sample := func(n int) ([]float32, []int) {
		x, y := make([]float32, n*dim), make([]int, n)
		for i := range n {
			y[i] = r.IntN(classes)
			for j := range dim {
				v := r.NormFloat64()
				if j == 0 {
					v += delta * float64(y[i]-1)
				}
				x[i*dim+j] = float32(v*scale[j] + shift[j])
			}
		}
		return x, y
	}
	n := 20000
	if testing.Short() {
		n = 5000
	}
	train, trainY := sample(n)
	test, testY := sample(n)
	acc, err := LinearProbe(train, trainY, test, testY, dim, classes, ProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bayes := (4*normCDF(delta/2) - 1) / 3 // 0.7884
	t.Logf("probe accuracy %.4f, Bayes accuracy %.4f", acc, bayes)
	if math.Abs(acc-bayes) > 0.015 {
		t.Errorf("probe accuracy %.4f, want within 0.015 of the Bayes accuracy %.4f", acc, bayes)
	}
}

// TestProbeDeterministic: the same seed gives the same weights, whatever the number of goroutines; a
// different seed may choose differently but fits the same problem.
func TestProbeDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	train, trainY := clusters(r, 3000, 12, 4, 1)
	fit := func(procs int) *Probe {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		p, err := FitProbe(train, trainY, 12, 4, ProbeOptions{Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := fit(1), fit(2), fit(4)
	if !slices.Equal(a.W, b.W) || !slices.Equal(a.W, c.W) || !slices.Equal(a.B, c.B) {
		t.Errorf("weights differ with GOMAXPROCS")
	}
	if a.Lambda != b.Lambda || len(a.Path) == 0 {
		t.Errorf("λ %v vs %v, path %+v", a.Lambda, b.Lambda, a.Path)
	}
	if a.Final.GradMax > DefaultTol {
		t.Errorf("final fit not converged: %+v", a.Final)
	}
}

// TestProbeConstantFeature: a feature constant on the train set is dropped (scale 0), so a different value of
// it at test time changes no prediction.
func TestProbeConstantFeature(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	dim := 6
	train, trainY := clusters(r, 2000, dim, 3, 2)
	test, _ := clusters(r, 300, dim, 3, 2)
	for i := range trainY {
		train[i*dim+5] = 3 // constant column
	}
	p, err := FitProbe(train, trainY, dim, 3, ProbeOptions{Lambdas: []float64{1e-3}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Scale[5] != 0 || p.Path != nil {
		t.Errorf("scale of the constant column %v (want 0), path %v (want none with one λ)", p.Scale[5], p.Path)
	}
	want, _ := p.Predict(test)
	for i := range 300 {
		test[i*dim+5] = float32(1e6 * r.NormFloat64())
	}
	if got, _ := p.Predict(test); !slices.Equal(got, want) {
		t.Errorf("predictions depend on a feature constant on train")
	}
}

// TestProbeErrors: bad inputs and options are errors wrapping their sentinel, never panics.
func TestProbeErrors(t *testing.T) {
	x := []float32{1, 0, 0, 1, 1, 1, 0, 2}
	y := []int{0, 1, 0, 1}
	inf := []float32{1, 0, 0, 1, 1, float32(math.Inf(-1)), 0, 2}
	tests := []struct {
		name    string
		train   []float32
		trainY  []int
		test    []float32
		testY   []int
		opt     ProbeOptions
		want    error
		wantMsg string
	}{
		{"length mismatch", x[:6], y, x, y, ProbeOptions{}, ErrShape, "train"},
		{"empty test", x, y, nil, nil, ProbeOptions{}, ErrShape, "test: empty"},
		{"label out of range", x, []int{0, 1, 2, 1}, x, y, ProbeOptions{}, ErrLabel, "row 2"},
		{"Inf feature", x, y, inf, y, ProbeOptions{}, ErrNonFinite, "test: row 2"},
		{"negative λ", x, y, x, y, ProbeOptions{Lambdas: []float64{1e-3, -1}}, ErrOption, "-1"},
		{"empty λ list", x, y, x, y, ProbeOptions{Lambdas: []float64{}}, ErrOption, "0 λ"},
		{"hold-out too big", x, y, x, y, ProbeOptions{HoldOut: 0.7}, ErrOption, "HoldOut=0.7"},
		{"too few to hold out", x[:2], y[:1], x, y, ProbeOptions{}, ErrShape, "one λ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LinearProbe(tc.train, tc.trainY, tc.test, tc.testY, 2, 2, tc.opt)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err %q does not mention %q", err, tc.wantMsg)
			}
		})
	}
	p, err := FitProbe(x, y, 2, 2, ProbeOptions{Lambdas: []float64{1e-2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Predict([]float32{1, 2, 3}); !errors.Is(err, ErrShape) {
		t.Errorf("Predict of 3 values at dim 2: err = %v, want ErrShape", err)
	}
	if _, err := (&Probe{Dim: 2, Classes: 2}).Predict(x); !errors.Is(err, ErrShape) {
		t.Errorf("Predict with an unfitted Probe: err = %v, want ErrShape", err)
	}
}
