package experiments

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/ref"
)

// blockKernel returns the kernel [n·k, n·k] whose k×k block (a, b) is f(a, b)·I.
func blockKernel(n, k int, f func(a, b int) float64) []float64 {
	th := make([]float64, n*k*n*k)
	for a := range n {
		for b := range n {
			for i := range k {
				th[(a*k+i)*n*k+b*k+i] = f(a, b)
			}
		}
	}
	return th
}

// TestKernelLocality checks the locality shares on hand-made kernels with known values.
func TestKernelLocality(t *testing.T) {
	labels := []int{0, 0, 1, 1} // two clusters of two points
	const k = 2
	same := func(a, b int) bool { return labels[a] == labels[b] }
	for _, c := range []struct {
		name                string
		f                   func(a, b int) float64
		within, self, ratio float64
	}{
		{"particles Θ = I", func(a, b int) float64 { return map[bool]float64{true: 1}[a == b] }, 1, 1, math.NaN()},
		{"block-diagonal", func(a, b int) float64 { return map[bool]float64{true: 3}[same(a, b)] }, 1, 0.5, math.Inf(1)},
		{"constant", func(a, b int) float64 { return -0.7 }, 0.5, 0.25, 1},
		// within blocks 2I (‖·‖² = 8), between I (‖·‖² = 2): 8 same pairs × 8 + 8 other pairs × 2 = 80.
		{"within 2, between 1", func(a, b int) float64 { return map[bool]float64{true: 2, false: 1}[same(a, b)] }, 64.0 / 80, 32.0 / 80, 2},
	} {
		got := kernelLocality(blockKernel(len(labels), k, c.f), labels, k)
		for _, v := range []struct {
			what      string
			got, want float64
		}{{"Within", got.Within, c.within}, {"Self", got.Self, c.self}, {"Ratio", got.Ratio, c.ratio}} {
			if !(math.Abs(v.got-v.want) < 1e-12 || v.got == v.want || math.IsNaN(v.want) && math.IsNaN(v.got)) {
				t.Errorf("%s: %s = %v, want %v", c.name, v.what, v.got, v.want)
			}
		}
	}
}

// TestScaleFreeDrift: a change of scale alone, Θ_t = cΘ_0, is no drift (the failure of the relative drift
// ‖Θ_t − Θ_0‖/‖Θ_0‖ = |c − 1| that issue 14 found); an orthogonal kernel is drift √2, an opposite one 2.
func TestScaleFreeDrift(t *testing.T) {
	rng := newRNG(9)
	th0 := make([]float64, 64)
	for i := range th0 {
		th0[i] = rng.NormFloat64()
	}
	for _, c := range []float64{0.05, 1, 20} {
		th := make([]float64, len(th0))
		for i := range th {
			th[i] = c * th0[i]
		}
		d, a := scaleFreeDrift(th, th0)
		if d > 1e-12 || math.Abs(a-1) > 1e-12 {
			t.Errorf("Θ_t = %gΘ_0: D = %g, A = %g, want 0 and 1", c, d, a)
		}
	}
	e0, e1 := make([]float64, 4), make([]float64, 4)
	e0[0], e1[3] = 2, 5
	if d, a := scaleFreeDrift(e1, e0); math.Abs(d-math.Sqrt2) > 1e-12 || a != 0 {
		t.Errorf("orthogonal kernels: D = %g, A = %g, want √2 and 0", d, a)
	}
	e1[3], e1[0] = 0, -1
	if d, _ := scaleFreeDrift(e1, e0); math.Abs(d-2) > 1e-12 {
		t.Errorf("opposite kernels: D = %g, want 2", d)
	}
}

// TestClusterVelocitiesParticles: for particles (Θ = I, one Euler step z ← z − lr ∂L/∂z of the real NT-Xent
// loss) the block prediction, the full one and the measured cluster-mean velocities are all −Ḡ_c. With a kernel
// constant over each pair of clusters the block prediction is exact; with a generic kernel it is not.
func TestClusterVelocitiesParticles(t *testing.T) {
	const n, k, classes, lr = 12, 2, 3, 0.1
	labels := []int{0, 1, 2, 0, 1, 2, 2, 1, 0, 0, 1, 2}
	rng := newRNG(4)
	z := make([]float64, n*k)
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	g := ref.Loss(z, n, k, ref.LossConfig{Kernel: ref.KernelExp, Temperature: 0.5}).DZ
	z1 := make([]float64, len(z))
	for i := range z {
		z1[i] = z[i] - lr*g[i]
	}
	m0, m1 := labelMeans(z, labels, classes, k), labelMeans(z1, labels, classes, k)
	meas := make([]float64, len(m0))
	for i := range m0 {
		meas[i] = (m1[i] - m0[i]) / lr
	}
	v := clusterVelocities(blockKernel(n, k, func(a, b int) float64 { return map[bool]float64{true: 1}[a == b] }), g, labels, classes, k)
	if frob(meas) == 0 {
		t.Fatal("the particles did not move")
	}
	for i, name := range predNames {
		if e := relErr(v[i], meas); e > 1e-12 {
			t.Errorf("particles: ‖%s − measured‖/‖measured‖ = %g", name, e)
		}
	}
	cb := make([]float64, classes*classes*k*k) // a random k×k block per pair of clusters
	for i := range cb {
		cb[i] = rng.NormFloat64()
	}
	th := make([]float64, n*k*n*k)
	for a := range n {
		for b := range n {
			for i := range k {
				for j := range k {
					th[(a*k+i)*n*k+b*k+j] = cb[((labels[a]*classes+labels[b])*k+i)*k+j]
				}
			}
		}
	}
	v = clusterVelocities(th, g, labels, classes, k)
	if e := relErr(v[1], v[0]); e > 1e-12 {
		t.Errorf("cluster-constant kernel: ‖block − full‖/‖full‖ = %g", e)
	}
	for i := range th {
		th[i] += rng.NormFloat64()
	}
	if e := relErr(v[2], v[1]); e < 1e-3 {
		t.Errorf("cluster-constant kernel: ‖own − block‖/‖block‖ = %g, expected the cross-cluster pull to matter", e)
	}
	v = clusterVelocities(th, g, labels, classes, k)
	if e := relErr(v[1], v[0]); e < 1e-3 {
		t.Errorf("generic kernel: ‖block − full‖/‖full‖ = %g, expected a visible difference", e)
	}
}

// TestMeasureVelocities: on a width-64 network at a small step, the full-kernel prediction matches the measured
// cluster-mean velocities and the separation rates of every pair of clusters.
func TestMeasureVelocities(t *testing.T) {
	b := testBackend(t)
	d, err := pointData(4, 16, 0.15, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	pts := newNTKPoints(d, 4, 0.1, 1)
	a := arch.MLP{In: 2, Width: 64, Depth: 1, Out: 2, Activation: arch.LeakyReLU, Scaling: arch.ScalingNTK, Trainable: arch.TrainBoth, Normalize: true}
	g := newMLPGraphs(b, a, losses.Config{Kernel: losses.KernelExp, Temperature: 0.5})
	v, err := measureVelocities(g, a.Init(2), pts, 1e-4, d.K)
	if err != nil {
		t.Fatal(err)
	}
	if e := relErr(v.pred[0], v.meas); e > 1e-2 {
		t.Errorf("‖full − measured‖/‖measured‖ = %g at lr 1e-4", e)
	}
	if e := relErr(v.sepPred[0], v.sepMeas); e > 1e-2 {
		t.Errorf("separation rates: ‖full − measured‖/‖measured‖ = %g at lr 1e-4", e)
	}
	if n := signAgree(v.sepPred[0], v.sepMeas); n != len(v.sepMeas) {
		t.Errorf("signs agree on %d of %d pairs", n, len(v.sepMeas))
	}
}

// TestScalingsSameLoss: NT-Xent normalises z, so the 1/m network, whose g is that of the 1/√m network with the
// same parameters divided by √m, has the same loss gradient in θ: the two scalings differ only by the learning rate.
func TestScalingsSameLoss(t *testing.T) {
	b := testBackend(t)
	const m, p2 = 64, 16
	rng := newRNG(6)
	v := make([]float64, p2*2)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	loss := losses.Config{Kernel: losses.KernelExp, Temperature: 0.5}
	var zs [2][]float64
	var dps [2][][]float64
	for i, s := range []string{arch.ScalingNTK, arch.ScalingMeanField} {
		a := arch.MLP{In: 2, Width: m, Depth: 1, Out: 2, Activation: arch.LeakyReLU, Scaling: s, Trainable: arch.TrainBoth}
		z, _, dp, err := newMLPGraphs(b, a, loss).LossGrad(a.Init(3), v, p2)
		if err != nil {
			t.Fatal(err)
		}
		zs[i], dps[i] = z, dp
	}
	for i := range zs[0] {
		if want := zs[0][i] / math.Sqrt(m); math.Abs(zs[1][i]-want) > 1e-12*math.Abs(want)+1e-15 {
			t.Fatalf("g_mf[%d] = %g, want g_ntk/√m = %g", i, zs[1][i], want)
		}
	}
	for j := range dps[0] {
		if e := relErr(dps[1][j], dps[0][j]); e > 1e-9 {
			t.Errorf("parameter %d: ‖∇_mf − ∇_ntk‖/‖∇_ntk‖ = %g", j, e)
		}
	}
}

// TestRunNTKQuick runs the experiment in quick mode and checks that it writes its files.
func TestRunNTKQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	c := DefaultNTK(true)
	c.Steps, c.Every = 20, 10
	res, err := RunNTK(c, Common{OutDir: t.TempDir(), Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(res.Figures, "config.json", "drift.csv", "locality.csv", "velocity.csv", "pairs.csv", "summary.md") {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err != nil {
			t.Error(err)
		}
	}
}
