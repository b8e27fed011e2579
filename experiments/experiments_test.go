package experiments

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/ref"
)

func TestMain(m *testing.M) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	os.Exit(m.Run())
}

// TestClosedForms checks UniformLoss and KPointLoss against the table of paper.md §4.2 (6 decimals).
func TestClosedForms(t *testing.T) {
	taus := []float64{0.05, 0.1, 0.2, 0.5, 1}
	unif2 := []float64{-2.410390, -2.057028, -1.695318, -1.176006, -0.764086}
	unif3 := []float64{-3.688879, -2.995732, -2.302630, -1.404780, -0.838561}
	k4 := []float64{-1.386294, -1.386204, -1.372864, -1.132438, -0.759771}
	k2 := []float64{-0.693147, -0.693147, -0.693102, -0.674997, -0.566219}
	for i, tau := range taus {
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"uniform S¹", UniformLoss(2, tau), unif2[i]},
			{"uniform S²", UniformLoss(3, tau), unif3[i]},
			{"4 points on S¹", KPointLoss(clusterDirections(4, 2), 4, 2, tau), k4[i]},
			{"antipodal pair", KPointLoss(clusterDirections(2, 2), 2, 2, tau), k2[i]},
		} {
			if math.Abs(c.got-c.want) > 6e-7 {
				t.Errorf("τ=%g %s: %.7f, paper.md table %.6f", tau, c.name, c.got, c.want)
			}
		}
	}
	// On S², tr of the 3-D closed form: τ sinh(1/τ).
	if got, want := UniformLoss(3, 0.3), -1/0.3+math.Log(0.3*math.Sinh(1/0.3)); math.Abs(got-want) > 1e-12 {
		t.Errorf("UniformLoss(3, 0.3) = %.15g, want %.15g", got, want)
	}
}

// TestLandscapeAcceptance is acceptance point 2 of issue 4: uniform embeddings reach the closed-form minimum
// within 1e-3, K-point collapses match their exact sums, interleaved = contiguous, and both data sets have the
// same minimum; the batch loss (ntXent) less the finite-batch correction is the directly computed population
// value.
func TestLandscapeAcceptance(t *testing.T) {
	c := DefaultLandscape(true)
	c.PerClusterA, c.PerClusterB, c.Temperatures = 128, 100, []float64{0.1, 0.5, 1}
	rows, err := Landscape(c)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		data string
		k    int
		tau  float64
	}
	inter, mins := map[key]float64{}, map[key]float64{}
	for _, r := range rows {
		if math.Abs(r.Population-r.Direct) > 1e-9 {
			t.Errorf("%s k=%d τ=%g %s: batch − correction %.12f, direct %.12f", r.Data, r.K, r.Temperature, r.Config, r.Population, r.Direct)
		}
		kk := key{r.Data, r.K, r.Temperature}
		if m, ok := mins[kk]; !ok || r.Population < m {
			mins[kk] = r.Population
		}
		switch r.Config {
		case "uniform-interleaved", "uniform-contiguous":
			if d := math.Abs(r.Population - r.ClosedForm); d > 1e-3 {
				t.Errorf("%s k=%d τ=%g %s: %.6f, closed form %.6f", r.Data, r.K, r.Temperature, r.Config, r.Population, r.ClosedForm)
			}
			if v, ok := inter[kk]; ok && math.Abs(v-r.Population) > 1e-9 {
				t.Errorf("%s k=%d τ=%g: interleaved %.12f, contiguous %.12f", r.Data, r.K, r.Temperature, v, r.Population)
			}
			inter[kk] = r.Population
		case "collapsed", "single-point":
			if d := math.Abs(r.Population - r.ClosedForm); d > 1e-9 {
				t.Errorf("%s k=%d τ=%g %s: %.12f, exact %.12f", r.Data, r.K, r.Temperature, r.Config, r.Population, r.ClosedForm)
			}
		}
	}
	for kk, m := range mins {
		for kk2, m2 := range mins {
			if kk.k == kk2.k && kk.tau == kk2.tau && math.Abs(m-m2) > 1e-3 {
				t.Errorf("k=%d τ=%g: minimum %.6f on %s, %.6f on %s", kk.k, kk.tau, m, kk.data, m2, kk2.data)
			}
		}
		if math.Abs(m-UniformLoss(kk.k, kk.tau)) > 1e-3 {
			t.Errorf("%s k=%d τ=%g: minimum %.6f is not L_unif %.6f", kk.data, kk.k, kk.tau, m, UniformLoss(kk.k, kk.tau))
		}
	}
}

// TestLandscapeLossMatchesRef checks ntXent, the landscape's batch loss, against ref.Loss with the exp kernel on
// random latents, at every temperature of the experiment and one far below them.
func TestLandscapeLossMatchesRef(t *testing.T) {
	rng := newRNG(5)
	for _, n := range []int{1, 7, 300} {
		for _, k := range []int{1, 2, 3, 16} {
			z := make([]float64, 2*n*k)
			for i := range z {
				z[i] = 2 * rng.NormFloat64()
			}
			for _, tau := range append(DefaultLandscape(false).Temperatures, 0.002) {
				got := ntXent(z, 2*n, k, tau)
				want := ref.Loss(z, 2*n, k, ref.LossConfig{Kernel: ref.KernelExp, Temperature: tau}).Loss
				if math.Abs(got-want) > 1e-12*max(1, math.Abs(want)) {
					t.Errorf("n=%d k=%d τ=%g: ntXent %.15g, ref.Loss %.15g", n, k, tau, got, want)
				}
			}
		}
	}
}

func circlePoints(angles []float64) []float64 {
	z := make([]float64, 2*len(angles))
	for i, a := range angles {
		z[2*i], z[2*i+1] = 3*math.Cos(a), 3*math.Sin(a) // not unit: the metrics normalise
	}
	return z
}

// TestMetricsHandMade checks the metrics on configurations whose values are known by hand.
func TestMetricsHandMade(t *testing.T) {
	// Four clusters, each two copies of one point at 0, π/2, π, 3π/2: spread 0, separation π/2, silhouette 1.
	var ang []float64
	var lab []int
	for c := range 4 {
		ang = append(ang, float64(c)*math.Pi/2, float64(c)*math.Pi/2)
		lab = append(lab, c, c)
	}
	s := latentSet{Z: circlePoints(ang), N: 8, K: 2, Labels: lab, C: 4, Sphere: true}
	g := Measure(s, 0)
	if g.Spread > 1e-7 || math.Abs(g.MinSep-math.Pi/2) > 1e-9 || math.Abs(g.Silhouette-1) > 1e-12 || g.Probe != 1 {
		t.Errorf("four collapsed clusters: %+v", g)
	}
	// Two clusters of two points at ±0.1 around 0 and around π/3: spread 0.1, separation π/3.
	s = latentSet{Z: circlePoints([]float64{-0.1, 0.1, math.Pi/3 - 0.1, math.Pi/3 + 0.1}), N: 4, K: 2, Labels: []int{0, 0, 1, 1}, C: 2, Sphere: true}
	if got := Spread(s); math.Abs(got-0.1) > 1e-9 {
		t.Errorf("spread %.12f, want 0.1", got)
	}
	if got := MinSeparation(s); math.Abs(got-math.Pi/3) > 1e-9 {
		t.Errorf("separation %.12f, want π/3", got)
	}
	// Euclidean 1-D: {0, 1} and {4, 5}: s = (4.5−1)/4.5 for the outer points, (3.5−1)/3.5 for the inner ones.
	e := latentSet{Z: []float64{0, 1, 4, 5}, N: 4, K: 1, Labels: []int{0, 0, 1, 1}, C: 2}
	want := (3.5/4.5 + 2.5/3.5) / 2
	if got := Silhouette(e); math.Abs(got-want) > 1e-12 {
		t.Errorf("1-D silhouette %.12f, want %.12f", got, want)
	}
	if got := MinSeparation(e); math.Abs(got-4) > 1e-12 {
		t.Errorf("1-D separation %g, want 4", got)
	}
	// Uniformity of an antipodal pair: log exp(−2·4) = −8.
	if got := Uniformity(latentSet{Z: circlePoints([]float64{0, math.Pi}), N: 2, K: 2, Labels: []int{0, 1}, C: 2, Sphere: true}); math.Abs(got+8) > 1e-9 {
		t.Errorf("uniformity %g, want −8", got)
	}
	// The trivial minimiser of four equal clusters on S¹ sits near 0.53 (chords), so the threshold is ≈ 0.77.
	labels := make([]int, 400)
	for i := range labels {
		labels[i] = i % 4
	}
	if ts := TrivialSilhouette(labels, 4, 2); ts < 0.45 || ts > 0.6 {
		t.Errorf("trivial silhouette %g, want about 0.53", ts)
	}
}

// TestQuickRuns runs loss-landscape in quick mode and particle-vs-network in quick mode with one seed, and checks
// their files.
func TestQuickRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two experiments (about 40 s on 2 cores)")
	}
	dir := t.TempDir()
	cm := Common{OutDir: dir, Quick: true}
	if _, err := RunLandscape(DefaultLandscape(true), cm); err != nil {
		t.Fatal(err)
	}
	c := DefaultParticleVsNetwork(true)
	c.Seeds = 1
	r, err := RunParticleVsNetwork(c, cm)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict == "" {
		t.Error("particle-vs-network: no verdict")
	}
	for _, f := range []string{"loss-landscape/summary.md", "loss-landscape/landscape.csv", "loss-landscape/loss_vs_tau.png",
		"loss-landscape/config.json", "particle-vs-network/summary.md", "particle-vs-network/timeseries.csv",
		"particle-vs-network/persistence.csv", "particle-vs-network/panels.png", "particle-vs-network/timeseries.png",
		"particle-vs-network/silhouette_vs_gap.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
}

// TestBackendLabel: cells name the backend they ran on, the pure-Go one as "go" and XLA by its device platform.
func TestBackendLabel(t *testing.T) {
	for _, c := range []struct{ spec, want string }{{"go", "go"}, {"xla:cpu", "xla:cpu"}} {
		b, err := backend.New(c.spec)
		if err != nil {
			t.Logf("%s: %v (skipped)", c.spec, err)
			continue
		}
		if got := backendLabel(b); got != c.want {
			t.Errorf("%s: label %q, want %q", c.spec, got, c.want)
		}
		if got := thisBuild(b).String(); !strings.HasSuffix(got, "backend "+c.want) {
			t.Errorf("%s: build %q does not end with its backend", c.spec, got)
		}
	}
}
