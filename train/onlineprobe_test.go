package train

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/internal/backendtest"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/ref"
)

// probeCase is a small encoder, its batch shape and views, for the step-level tests of the online probe.
type probeCase struct {
	name  string
	model models.Model
	dims  []int // the batch x
	views ViewsFn
}

func probeCases() []probeCase {
	shifted := func(rng, x *graph.Node) (*graph.Node, *graph.Node) { // two views that differ, drawing from rng
		rng, noise := graph.RandomNormal(rng, x.Shape())
		return rng, graph.Concatenate([]*graph.Node{x, graph.Add(x, graph.MulScalar(noise, 0.1))}, 0)
	}
	return []probeCase{
		{"mlp-head", models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: 5, Width: 16, Depth: 2, Out: 6, Activation: arch.ReLU,
			Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth, StandardHidden: true}}, Head: arch.Head{In: 6, Hidden: 8, Out: 3}}, []int{8, 5}, shifted},
		{"cnn", models.Encoder{Body: models.CNNBody{CNN: arch.CNN{H: 8, W: 8, C: 1, Channels: []int{4}, Dense: 8}},
			Head: arch.Head{In: 8, Hidden: 8, Out: 4}}, []int{8, 8, 8, 1}, shifted},
	}
}

func randomBatch(r *rand.Rand, dt dtypes.DType, dims ...int) *tensors.Tensor {
	size := 1
	for _, d := range dims {
		size *= d
	}
	return hostTensor(dt, arch.Normal(r, size, 1), dims)
}

// randomLabels draws n labels of classes classes, unbalanced (class 0 twice as likely), so that no gradient of
// the zero-initialised bias is 0 by symmetry, where Adam's update would divide rounding noise by ε.
func randomLabels(r *rand.Rand, n, classes int) []int {
	y := make([]int, n)
	for i := range y {
		y[i] = max(0, r.IntN(classes+1)-1)
	}
	return y
}

func int32Labels(y []int) *tensors.Tensor {
	v := make([]int32, len(y))
	for i, x := range y {
		v[i] = int32(x)
	}
	return tensors.FromFlatDataAndDimensions(v, len(v))
}

// TestOnlineProbeStepMatchesReference: three training steps with the online probe. At each step the probe's
// reported CE and accuracy are ref.OnlineProbe's on the features of the views before the step (both views,
// labels repeated), and its parameters after the step are ref.Adam's update with ref.OnlineProbe's gradient
// (learning rate 0.05, unscheduled while the encoder's follows a schedule), within 1e-9 in float64 and 1e-5
// in float32 (relative, against the step size for the parameters), the accuracy's count of hits exactly.
// On XLA, where each graph is compiled, float32 only.
func TestOnlineProbeStepMatchesReference(t *testing.T) {
	const n, in, classes, probeLR = 6, 4, 3, 0.05
	r := rand.New(rand.NewPCG(51, 52))
	enc := models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: in, Width: 16, Depth: 1, Out: 5, Activation: arch.Tanh,
		Scaling: arch.ScalingNTK, Trainable: arch.TrainBoth}}, Head: arch.Head{In: 5, Hidden: 8, Out: 3}}
	x := arch.Normal(r, 2*n*in, 1)
	y := []int{0, 2, 0, 0, 1, 0} // no class at frequency 1/C: no zero gradient of the bias by symmetry at step 1
	y2 := append(slices.Clone(y), y...)
	dts := []dtypes.DType{dtypes.Float64, dtypes.Float32}
	if backendtest.XLA() {
		dts = dts[1:]
	}
	for _, dt := range dts {
		tol := 1e-9
		if dt == dtypes.Float32 {
			tol = 1e-5
		}
		identity := func(rng, x *graph.Node) (*graph.Node, *graph.Node) { return rng, x } // x is the 2N views
		st, err := newStepper(testBackend, enc, optim.Optimizer{Name: optim.Adam, LR: 0.01}, losses.Config{Temperature: 0.5}, identity, dt, 3)
		if err != nil {
			t.Fatal(err)
		}
		xt := hostTensor(dt, x, []int{2 * n, in})
		if err := st.EnableOnlineProbe(classes, probeLR, xt.Shape()); err != nil {
			t.Fatal(err)
		}
		feats := newFeaturizer(testBackend, enc, models.Vectors, dt, st.Params) // eval mode is training mode here: no batch norm
		wb := [][]float64{make([]float64, 5*classes), make([]float64, classes)}
		adam := ref.NewAdamState(wb, []bool{true, true})
		for step := range 3 {
			h, _, err := feats.Latents(hostTensor(dt, x, []int{2 * n, in}))
			if err != nil {
				t.Fatal(err)
			}
			if dt == dtypes.Float32 { // what the graph sees: float32 values
				for i := range h {
					h[i] = float64(float32(h[i]))
				}
			}
			want := ref.OnlineProbe(h, y2, 5, classes, wb[0], wb[1])
			st.LRScale = 1 / float64(step+1)
			st.Labels = int32Labels(y2) // the labels of the batch's 2N rows, which are the views
			res, err := st.Step(hostTensor(dt, x, []int{2 * n, in}))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.OnlineCE-want.CE) > tol*want.CE || math.Round(res.OnlineAcc*2*n) != math.Round(want.Accuracy*2*n) {
				t.Errorf("%s step %d: CE %.12g accuracy %g, reference %.12g %g", dt, step, res.OnlineCE, res.OnlineAcc, want.CE, want.Accuracy)
			}
			ref.Adam(wb, [][]float64{want.DW, want.DB}, []bool{true, true}, probeLR, adam)
			if dt == dtypes.Float32 {
				for _, p := range wb {
					for i := range p {
						p[i] = float64(float32(p[i]))
					}
				}
			}
			for i, p := range st.probe.Params {
				got := flat64(p)
				for j := range got {
					if math.Abs(got[j]-wb[i][j]) > tol*probeLR*float64(step+1) {
						t.Fatalf("%s step %d: probe %s[%d] = %.12g, reference %.12g", dt, step, st.probe.specs[i].Name, j, got[j], wb[i][j])
					}
				}
			}
		}
	}
}

// TestOnlineProbeLeavesEncoderAlone: the probe's gradient does not reach the encoder. Three steps of the same
// model, seed and batches with and without the probe leave bit-identical encoder parameters, optimiser state,
// RNG state, losses and latents, while the probe itself has moved. On XLA, where each graph is compiled, the
// MLP only.
func TestOnlineProbeLeavesEncoderAlone(t *testing.T) {
	cases := probeCases()
	if backendtest.XLA() {
		cases = cases[:1]
	}
	for _, c := range cases {
		r := rand.New(rand.NewPCG(61, 62))
		var xs, ys []*tensors.Tensor
		for range 3 {
			xs = append(xs, randomBatch(r, dtypes.Float32, c.dims...))
			ys = append(ys, int32Labels(randomLabels(r, c.dims[0], 4)))
		}
		run := func(probe bool) (*Stepper, []StepResult) {
			st, err := newStepper(testBackend, c.model, optim.Optimizer{Name: optim.Adam, LR: 0.01}, losses.Config{Temperature: 0.5}, c.views, dtypes.Float32, 5)
			if err != nil {
				t.Fatal(err)
			}
			if probe {
				if err := st.EnableOnlineProbe(4, 0.1, xs[0].Shape()); err != nil {
					t.Fatal(err)
				}
			}
			var res []StepResult
			for i, x := range xs {
				xc, _ := hostCopy(x)
				st.Labels = ys[i]
				if probe {
					st.Labels, _ = hostCopy(ys[i])
				}
				rs, err := st.Step(xc)
				if err != nil {
					t.Fatalf("%s (probe %v): %v", c.name, probe, err)
				}
				res = append(res, rs)
			}
			return st, res
		}
		off, roff := run(false)
		on, ron := run(true)
		for i := range roff {
			if roff[i].Loss != ron[i].Loss || !bytes.Equal(rawBytes(t, roff[i].Z), rawBytes(t, ron[i].Z)) {
				t.Errorf("%s step %d: loss %v / latents differ with the probe (loss %v)", c.name, i+1, roff[i].Loss, ron[i].Loss)
			}
			if !math.IsNaN(roff[i].OnlineAcc) || ron[i].OnlineAcc < 0 || ron[i].OnlineAcc > 1 {
				t.Errorf("%s step %d: online accuracy %v without the probe, %v with it", c.name, i+1, roff[i].OnlineAcc, ron[i].OnlineAcc)
			}
		}
		a, b := off.snapshot(), on.snapshot()
		if len(b) <= len(a) {
			t.Fatalf("%s: the probe's step checkpoints %d tensors, the plain one %d", c.name, len(b), len(a))
		}
		if !sameTensors(a, b[:len(a)]) {
			t.Errorf("%s: the encoder's parameters, optimiser state or RNG differ with the probe", c.name)
		}
		if w := flat64(on.probe.Params[0]); !slices.ContainsFunc(w, func(v float64) bool { return v != 0 }) {
			t.Errorf("%s: the probe did not move", c.name)
		}
	}
}

func rawBytes(t *testing.T, x *tensors.Tensor) []byte {
	t.Helper()
	var out []byte
	if err := x.ConstBytes(func(b []byte) { out = slices.Clone(b) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOnlineProbeDistributed: on 4 devices the probe's step equals the one-device step on the same global
// batch (its parameters to 1e-5 after three steps, its accuracy exactly), as the encoder's does
// (TestDistributedStepMatchesOneDevice). Runs where the backend has ≥ 4 devices.
func TestOnlineProbeDistributed(t *testing.T) {
	const nd = 4
	if nd > testBackend.NumDevices() {
		t.Skipf("%s has %d device(s)", testBackend.Name(), testBackend.NumDevices())
	}
	c := probeCases()[0]
	r := rand.New(rand.NewPCG(71, 72))
	x := randomBatch(r, dtypes.Float32, c.dims...)
	y := randomLabels(r, c.dims[0], 4)
	step := func(devices int) ([]float64, [][]float64) {
		st, err := newStepper(testBackend, c.model, optim.Optimizer{Name: optim.Adam, LR: 0.01}, losses.Config{Temperature: 0.5}, nil, dtypes.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.EnableOnlineProbe(4, 0.1, x.Shape()); err != nil {
			t.Fatal(err)
		}
		if err := st.Distribute(devices); err != nil {
			t.Fatal(err)
		}
		var accs []float64
		for range 3 {
			xc, _ := hostCopy(x)
			st.Labels = int32Labels(y)
			res, err := st.Step(xc)
			if err != nil {
				t.Fatalf("%d devices: %v", devices, err)
			}
			accs = append(accs, res.OnlineAcc)
		}
		return accs, [][]float64{flat64(st.probe.Params[0]), flat64(st.probe.Params[1])}
	}
	acc1, p1 := step(1)
	accN, pN := step(nd)
	if !slices.Equal(acc1, accN) {
		t.Errorf("online accuracy on 1 device %v, on %d %v", acc1, nd, accN)
	}
	worst := 0.0
	for i := range p1 {
		for j := range p1[i] {
			worst = max(worst, math.Abs(p1[i][j]-pN[i][j]))
			if math.Abs(p1[i][j]-pN[i][j]) > 1e-5*math.Max(1, math.Abs(p1[i][j])) {
				t.Fatalf("probe param %d[%d]: %.8g on 1 device, %.8g on %d", i, j, p1[i][j], pN[i][j], nd)
			}
		}
	}
	t.Logf("online accuracy %v on both; probe parameters differ by ≤ %.2g", acc1, worst)
}

// sameTensors reports whether two lists of checkpoint tensors hold the same names, shapes and bits, the
// RNG state's three words included (ops.RNGState makes the Go backend's third word deterministic).
func sameTensors(a, b []checkpoint.Tensor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || !slices.Equal(x.Dims, y.Dims) || !slices.Equal(x.F32, y.F32) || !slices.Equal(x.F64, y.F64) || !slices.Equal(x.I64, y.I64) {
			return false
		}
	}
	return true
}
