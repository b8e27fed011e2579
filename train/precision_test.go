package train

import (
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/ref"
)

// bf16U is bfloat16's unit roundoff: 8 significant bits (7 stored), so round-to-nearest is off by at most
// half an ulp, 2⁻⁸ ≈ 3.9e-3 of the value (float32's is 2⁻²⁴).
const bf16U = 1.0 / 256

// TestMixedPrecisionStep: one SGD step of the MLP and of the small CNN with Compute = bfloat16 against the
// float32 step from the same parameters on the same batch.
//
//   - The parameters and optimiser state stay float32 (master weights), and so do z and the loss.
//   - The loss is NT-Xent computed in float32 from the step's own (bfloat16-rounded) z: it equals ref.InfoNCE
//     in float64 on that z to 1e-5 relative. Computed in bfloat16 it would be off by ~2⁻⁸ or more.
//   - z really was computed in bfloat16: its rows differ from the float32 step's by a relative δ well above
//     float32 rounding (> 1e-4) and at most 3L·u (u = 2⁻⁸, L weighted layers): each dense layer or
//     convolution rounds its input, its weights and its output (products accumulate in float32), three
//     relative errors ≤ u, which add up at worst linearly along the L layers (these random networks are
//     well conditioned: no cancellation amplifies them).
//   - The loss moves by at most the first-order bound |L₁₆ − L₃₂| ≤ ‖∂L/∂z‖_F ‖z₁₆ − z₃₂‖_F (Cauchy–Schwarz),
//     with ∂L/∂z from ref.InfoNCE, times 1.5 for the second-order terms, plus float32 slack.
//   - The parameters after the step differ by lr·Δg. A gradient carries the forward pass's roundings and the
//     backward pass's through the same layers, three more per layer: per tensor, max|Δp| ≤ lr · 6L·u · max|g|
//     (g read off the float32 step as (p − p′)/lr).
func TestMixedPrecisionStep(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const lr, tau = 0.1, 0.5
	for _, c := range []struct {
		name   string
		model  models.Model
		dims   []int
		layers int // L: dense layers and convolutions
	}{
		{"mlp", models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: 6, Width: 32, Depth: 2, Out: 8, Activation: arch.ReLU,
			Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth, StandardHidden: true}}}, []int{16, 6}, 3},
		{"cnn", models.Encoder{Body: models.CNNBody{CNN: arch.CNN{H: 8, W: 8, C: 1, Channels: []int{4}, Dense: 16}},
			Head: arch.Head{In: 16, Hidden: 16, Out: 8}}, []int{16, 8, 8, 1}, 4},
	} {
		size := 1
		for _, d := range c.dims {
			size *= d
		}
		x := make([]float32, size)
		for i := range x {
			x[i] = float32(r.Float64())
		}
		step := func(compute dtypes.DType) (*Stepper, StepResult) {
			st, err := newStepper(testBackend, c.model, optim.Optimizer{Name: optim.SGD, LR: lr}, losses.Config{Temperature: tau}, nil, dtypes.Float32, 1)
			if err != nil {
				t.Fatal(err)
			}
			st.Compute = compute
			res, err := st.Step(tensors.FromFlatDataAndDimensions(append([]float32(nil), x...), c.dims...))
			if err != nil || !res.Finite {
				t.Fatalf("%s, %s: %v (finite %v)", c.name, compute, err, res.Finite)
			}
			return st, res
		}
		init := newStepperParams(t, c.model)
		st32, r32 := step(dtypes.Float32)
		st16, r16 := step(dtypes.BFloat16)

		for i, p := range append(append([]*tensors.Tensor{}, st16.Params...), st16.State...) {
			if p.DType() != dtypes.Float32 {
				t.Errorf("%s: parameter or state %d is %s after a bfloat16 step, want float32 master weights", c.name, i, p.DType())
			}
		}
		if r16.Z.DType() != dtypes.Float32 {
			t.Errorf("%s: z is %s, want float32 before the loss", c.name, r16.Z.DType())
		}
		z32, z16 := tensors.MustCopyFlatData[float32](r32.Z), tensors.MustCopyFlatData[float32](r16.Z)
		n2 := r16.Z.Shape().Dimensions[0]
		k := len(z16) / n2
		loss16, _ := ref.InfoNCE(to64(z16), n2, k, tau)
		if e := math.Abs(r16.Loss-loss16) / loss16; e > 1e-5 {
			t.Errorf("%s: bfloat16 step's loss %.9g, float64 NT-Xent of its z %.9g (rel %.2g): the loss is not float32", c.name, r16.Loss, loss16, e)
		}

		delta, diffF := 0.0, 0.0
		for i := range n2 {
			var d2, n2z float64
			for j := range k {
				d := float64(z16[i*k+j] - z32[i*k+j])
				d2, n2z = d2+d*d, n2z+float64(z32[i*k+j])*float64(z32[i*k+j])
			}
			delta, diffF = max(delta, math.Sqrt(d2/n2z)), diffF+d2
		}
		if zMax := float64(3*c.layers) * bf16U; delta < 1e-4 || delta > zMax {
			t.Errorf("%s: z's rows differ from float32's by up to δ = %.3g relative, want in (1e-4, 3L·u = %.3g]", c.name, delta, zMax)
		}
		loss32, dz := ref.InfoNCE(to64(z32), n2, k, tau)
		gradF := 0.0
		for _, g := range dz {
			gradF += g * g
		}
		bound := 1.5*math.Sqrt(gradF)*math.Sqrt(diffF) + 1e-5*loss32
		if d := math.Abs(r16.Loss - r32.Loss); d > bound {
			t.Errorf("%s: loss %.7g in bfloat16, %.7g in float32: differ by %.3g, bound %.3g", c.name, r16.Loss, r32.Loss, d, bound)
		}

		worst := 0.0 // max over tensors of max|Δp| / (lr·max|g|)
		p32, p16 := st32.ParamValues(), st16.ParamValues()
		for i := range init {
			gmax, dmax := 0.0, 0.0
			for j := range init[i] {
				gmax = max(gmax, math.Abs(init[i][j]-p32[i][j])/lr)
				dmax = max(dmax, math.Abs(p16[i][j]-p32[i][j]))
			}
			if gmax == 0 {
				continue
			}
			ratio := dmax / (lr * gmax)
			worst = max(worst, ratio)
			if gMax := float64(6*c.layers) * bf16U; ratio > gMax {
				t.Errorf("%s: %s after the step differs by %.3g = %.3g·lr·max|g|, want ≤ 6L·u = %.3g", c.name, c.model.Params()[i].Name, dmax, ratio, gMax)
			}
		}
		t.Logf("%s: loss %.7g (bfloat16) vs %.7g (float32), |Δ| %.2g ≤ bound %.2g; z rows δ ≤ %.2g (u = %.2g); params max|Δp|/(lr·max|g|) ≤ %.2g",
			c.name, r16.Loss, r32.Loss, math.Abs(r16.Loss-r32.Loss), bound, delta, bf16U, worst)
	}
}

// TestMixedPrecisionTrains: 300 Adam steps of a 2-hidden-layer MLP on the Gaussian clusters in bfloat16 end
// at a loss within 3% of the float32 run's (the mean of the last five logged losses, steps 260–300, each run's
// own batches and views being the same). The two runs' losses are not equal: bfloat16 really trains.
func TestMixedPrecisionTrains(t *testing.T) {
	final := func(dtype string) float64 {
		c := Defaults()
		c.Model, c.Depth, c.Width, c.Steps, c.BatchSize, c.PerCluster = "mlp", 2, 32, 300, 32, 32
		c.DType, c.OutDir, c.LogEvery, c.CheckpointEvery, c.Eval = dtype, t.TempDir(), 10, 0, false
		sum := mustRun(t, c)
		losses := metricsColumn(t, c.OutDir, "loss")
		last := losses[len(losses)-5:]
		mean := 0.0
		for _, l := range last {
			mean += l / 5
		}
		t.Logf("%s: loss %.4f at step 1, %.4f over the last five rows", dtype, sum.InitialLoss, mean)
		return mean
	}
	l32, l16 := final("float32"), final("bfloat16")
	if rel := math.Abs(l16-l32) / l32; rel > 0.03 || l16 == l32 {
		t.Errorf("final loss %.5f in bfloat16, %.5f in float32: %.2g%% apart, want ≤ 3%% (and not equal)", l16, l32, 100*rel)
	}
}

// TestMixedPrecisionResumes: a bfloat16 run crashed after step 60 with only its step-20 checkpoint left and
// resumed ends bit-identical to the uninterrupted run (master weights and optimiser state are float32
// tensors in the checkpoint, as in a float32 run; the step's casts are deterministic); resuming it as
// float32 is refused.
func TestMixedPrecisionResumes(t *testing.T) {
	run := func(dir string) Config {
		c := smallRun(dir, 60)
		c.DType = "bfloat16"
		return c
	}
	full, crashed := t.TempDir(), t.TempDir()
	mustRun(t, run(full))
	// The crashed run's folder: the uninterrupted run's files (the run is deterministic; one compile fewer on
	// XLA) without its checkpoints after step 20.
	if err := os.CopyFS(crashed, os.DirFS(full)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []int{30, 40, 50, 60} {
		os.Remove(filepath.Join(crashed, ckptName(s)))
	}
	os.Remove(filepath.Join(crashed, "params.ckpt"))
	c := run(crashed)
	c.Resume = crashed
	mustRun(t, c)
	sameRun(t, "bfloat16, crashed after 60, resumed from 20", full, crashed)
	c.DType = "float32"
	if _, err := Run(c, io.Discard); !IsUsage(err) || !strings.Contains(err.Error(), "--dtype: bfloat16 → float32") {
		t.Errorf("resuming a bfloat16 run as float32: %v, want a usage error naming --dtype", err)
	}
}

// metricsColumn reads column name of dir's metrics.csv.
func metricsColumn(t *testing.T, dir, name string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	col := -1
	for i, h := range strings.Split(lines[0], ",") {
		if h == name {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("metrics.csv has no column %q", name)
	}
	var out []float64
	for _, l := range lines[1:] {
		v, err := strconv.ParseFloat(strings.Split(l, ",")[col], 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// newStepperParams returns the initial parameters of model as a Stepper draws them (seed 1).
func newStepperParams(t *testing.T, model models.Model) [][]float64 {
	t.Helper()
	var out [][]float64
	for _, v := range model.Init(1) {
		f := make([]float64, len(v))
		for i, x := range v {
			f[i] = float64(float32(x))
		}
		out = append(out, f)
	}
	return out
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
