package experiments

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
)

// TestGaussianLossSeesScaling: with the same parameters, g of the 1/m net is g of the 1/√m net divided by √m.
// NT-Xent depends on g only through g/‖g‖, so its gradient in g scales by exactly √m (the ntk experiment's
// mean-field rows are a learning-rate rule); the Gaussian kernel sees ‖g‖, so that relation must fail — the
// reason the mean-field experiment trains on it.
func TestGaussianLossSeesScaling(t *testing.T) {
	b := testBackend(t)
	const m, p2 = 64, 16
	rng := newRNG(7)
	v := make([]float64, p2*2)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	for _, tc := range []struct {
		kernel string
		lo, hi float64 // bounds of ‖dz_mf − √m·dz_ntk‖ / ‖√m·dz_ntk‖
	}{{losses.KernelExp, 0, 1e-9}, {losses.KernelGaussian, 0.1, math.Inf(1)}} {
		loss := losses.Config{Kernel: tc.kernel, Temperature: 0.5}
		var dzs [2][]float64
		for i, s := range []string{arch.ScalingNTK, arch.ScalingMeanField} {
			a := arch.MLP{In: 2, Width: m, Depth: 1, Out: 2, Activation: arch.LeakyReLU, Scaling: s, Trainable: arch.TrainBoth}
			_, dz, _, err := newMLPGraphs(b, a, loss).LossGrad(a.Init(3), v, p2)
			if err != nil {
				t.Fatal(err)
			}
			dzs[i] = dz
		}
		want := make([]float64, len(dzs[0]))
		for i, x := range dzs[0] {
			want[i] = math.Sqrt(m) * x
		}
		if e := relErr(dzs[1], want); e < tc.lo || e > tc.hi {
			t.Errorf("%s: ‖dz_mf − √m·dz_ntk‖/‖√m·dz_ntk‖ = %g, want in [%g, %g]", tc.kernel, e, tc.lo, tc.hi)
		}
	}
}

// TestRunMeanFieldQuick runs the experiment small and checks drift.csv: every width under both scalings and
// seeds, the learning-rate rule, D = 0 and A = 1 at step 0, D ∈ [0, 2] and D² = 2 − 2A at every step.
func TestRunMeanFieldQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	c := DefaultMeanField(true)
	c.Widths, c.Steps, c.Every, c.Seeds, c.LRWidth = []int{8, 32}, 20, 10, 2, 4
	res, err := RunMeanField(c, Common{OutDir: t.TempDir(), Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(res.Figures, "config.json", "drift.csv", "summary.md") {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err != nil {
			t.Error(err)
		}
	}
	rows := readCSV(t, filepath.Join(res.Dir, "drift.csv"))
	if want := 1 + 2*len(c.Widths)*c.Seeds*3; len(rows) != want { // header + cells × seeds × steps {0, 10, 20}
		t.Fatalf("drift.csv has %d rows, want %d", len(rows), want)
	}
	f := func(s string) float64 {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, r := range rows[1:] { // scaling, depth, width, lr, seed, step, theta_norm, out_norm, D, A
		m, lr, step, d, a := f(r[2]), f(r[3]), f(r[5]), f(r[8]), f(r[9])
		want := c.LR
		if r[0] == arch.ScalingMeanField {
			want = c.LR * m / float64(c.LRWidth)
		}
		if math.Abs(lr-want) > 1e-12 {
			t.Errorf("%v: lr %g, want %g", r, lr, want)
		}
		if step == 0 && (d != 0 || math.Abs(a-1) > 1e-9) {
			t.Errorf("%v: at step 0 D = %g, A = %g; want 0 and 1", r, d, a)
		}
		if d < 0 || d > 2 || math.Abs(d*d-(2-2*a)) > 1e-6 {
			t.Errorf("%v: D = %g, A = %g break D ∈ [0, 2], D² = 2 − 2A", r, d, a)
		}
	}
}
