package train

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/ref"
)

// TestDistributedStepMatchesOneDevice (issue 22, acceptance 1): Adam steps of the MLP and of the small CNN with
// the batch split over 4 devices by Distribute are the one-device steps on the same global batch: after three
// steps, the loss to 1e-6 relative and every parameter to 1e-5 (float32). Runs where the backend has ≥ 4 devices (the pinned XLA CPU
// plugin); on the Go backend Distribute(2) must refuse and name XLA.
func TestDistributedStepMatchesOneDevice(t *testing.T) {
	const nd = 4
	if nd > testBackend.NumDevices() {
		st, err := newStepper(testBackend, models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: 2, Width: 4, Depth: 1, Out: 2}}},
			optim.Optimizer{Name: optim.SGD, LR: 0.1}, losses.Config{Temperature: 0.5}, nil, dtypes.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Distribute(2); err == nil || !strings.Contains(err.Error(), "XLA") {
			t.Errorf("Distribute(2) on %s: %v, want an error naming XLA", testBackend.Name(), err)
		}
		t.Skipf("%s has %d device(s)", testBackend.Name(), testBackend.NumDevices())
	}
	r := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct {
		name  string
		model models.Model
		dims  []int
	}{
		{"mlp", models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: 6, Width: 16, Depth: 2, Out: 4, Activation: arch.ReLU,
			Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth, Normalize: true, StandardHidden: true}}}, []int{8, 6}},
		{"cnn", models.Encoder{Body: models.CNNBody{CNN: arch.CNN{H: 8, W: 8, C: 1, Channels: []int{4}, Dense: 8}},
			Head: arch.Head{In: 8, Hidden: 8, Out: 4}}, []int{8, 8, 8, 1}},
	} {
		size := 1
		for _, d := range c.dims {
			size *= d
		}
		x := make([]float32, size)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		step := func(devices int) (StepResult, [][]float32) {
			st, err := newStepper(testBackend, c.model, optim.Optimizer{Name: optim.Adam, LR: 0.01}, losses.Config{Temperature: 0.5}, nil, dtypes.Float32, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Distribute(devices); err != nil {
				t.Fatal(err)
			}
			var res StepResult
			for range 3 { // three steps: the later ones read each device's own replica
				if res, err = st.Step(tensors.FromFlatDataAndDimensions(append([]float32(nil), x...), c.dims...)); err != nil {
					t.Fatalf("%s, %d devices: %v", c.name, devices, err)
				}
			}
			var ps [][]float32
			for _, p := range st.Params {
				ps = append(ps, tensors.MustCopyFlatData[float32](p))
			}
			return res, ps
		}
		one, p1 := step(1)
		many, pn := step(nd)
		// z comes back whole (replicated), not device 0's shard: the logged alignment and uniformity read it.
		if a, b := many.Z.Shape().Dimensions, one.Z.Shape().Dimensions; !slices.Equal(a, b) {
			t.Errorf("%s: z on %d devices has dims %v, on one %v", c.name, nd, a, b)
		}
		if e := math.Abs(many.Loss-one.Loss) / math.Abs(one.Loss); e > 1e-6 || !many.Finite {
			t.Errorf("%s: loss on %d devices %.9g, on one %.9g (rel %.2g)", c.name, nd, many.Loss, one.Loss, e)
		}
		worst := 0.0
		for i := range p1 {
			for j := range p1[i] {
				worst = max(worst, math.Abs(float64(pn[i][j]-p1[i][j])))
			}
		}
		if worst > 1e-5 {
			t.Errorf("%s: parameters after the step differ by up to %.2g between %d devices and one", c.name, worst, nd)
		}
		t.Logf("%s: loss %.9g (1 device) vs %.9g (%d devices); parameters differ by ≤ %.2g", c.name, one.Loss, many.Loss, nd, worst)
	}
}

// TestResumeAcrossDevices (issue 22, acceptance 2): checkpoints hold unsharded parameters. A 4-device run that
// crashed after step 60 with only its step-20 checkpoint left, resumed on 4 devices, ends bit-identical to the
// uninterrupted 4-device run; resumed on 1 device (and a 1-device run resumed on 4) it ends within float32
// rounding of it: the same steps, with sums in another order.
func TestResumeAcrossDevices(t *testing.T) {
	const nd = 4
	if nd > testBackend.NumDevices() {
		t.Skipf("%s has %d device(s)", testBackend.Name(), testBackend.NumDevices())
	}
	run := func(dir string, devices int) Config {
		c := smallRun(dir, 60)
		c.Devices = devices
		return c
	}
	crash := func(devices int) string {
		dir := t.TempDir()
		mustRun(t, run(dir, devices))
		for _, s := range []int{30, 40, 50, 60} {
			os.Remove(filepath.Join(dir, ckptName(s)))
		}
		os.Remove(filepath.Join(dir, "params.ckpt"))
		return dir
	}
	resume := func(dir string, devices int) {
		c := run(dir, devices)
		c.Resume = dir
		mustRun(t, c)
	}
	full4, full1 := t.TempDir(), t.TempDir()
	mustRun(t, run(full4, nd))
	mustRun(t, run(full1, 1))

	same := crash(nd)
	resume(same, nd)
	sameRun(t, "4 devices, resumed on 4", full4, same)

	for _, c := range []struct {
		name         string
		from, to     int
		uninterupted string
	}{{"4 devices, resumed on 1", nd, 1, full4}, {"1 device, resumed on 4", 1, nd, full1}} {
		dir := crash(c.from)
		resume(dir, c.to)
		a, b := readParams(t, c.uninterupted), readParams(t, dir)
		worst := 0.0
		for i := range a {
			for j := range a[i].F32 {
				worst = max(worst, math.Abs(float64(a[i].F32[j]-b[i].F32[j])))
			}
		}
		if worst > 1e-4 {
			t.Errorf("%s: parameters differ by up to %.2g from the uninterrupted run", c.name, worst)
		}
		t.Logf("%s: parameters within %.2g of the uninterrupted run", c.name, worst)
	}
}

// TestLocalNegatives: with UseLocalNegatives, the 4-device step's loss is ref.LocalLoss of the step's own
// embeddings over 4 groups (each device's examples among themselves), not the global ref.Loss; a Config asking
// for local negatives on one device is a usage error.
func TestLocalNegatives(t *testing.T) {
	c := Defaults()
	c.LocalNegatives = true
	if _, err := devicesFor(c, testBackend, 8); !IsUsage(err) {
		t.Errorf("--local-negatives on one device: %v, want a usage error", err)
	}
	const nd = 4
	if nd > testBackend.NumDevices() {
		t.Skipf("%s has %d device(s)", testBackend.Name(), testBackend.NumDevices())
	}
	r := rand.New(rand.NewPCG(41, 42))
	x := make([]float32, 8*6)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	views := func(rng, x *graph.Node) (*graph.Node, *graph.Node) { // the second view: x + 0.3, so views differ
		return rng, graph.Concatenate([]*graph.Node{x, graph.AddScalar(x, 0.3)}, 0)
	}
	model := models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: 6, Width: 16, Depth: 1, Out: 4, Activation: arch.ReLU,
		Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth, Normalize: true, StandardHidden: true}}}
	st, err := newStepper(testBackend, model, optim.Optimizer{Name: optim.SGD, LR: 0.1}, losses.Config{Temperature: 0.5}, views, dtypes.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Distribute(nd); err != nil {
		t.Fatal(err)
	}
	st.UseLocalNegatives()
	res, err := st.Step(tensors.FromFlatDataAndDimensions(x, 8, 6))
	if err != nil {
		t.Fatal(err)
	}
	z := tensors.MustCopyFlatData[float32](res.Z)
	cfg := ref.LossConfig{Temperature: 0.5}
	local, global := ref.LocalLoss(z, 16, 4, nd, cfg).Loss, ref.Loss(z, 16, 4, cfg).Loss
	if e := math.Abs(res.Loss-local) / local; e > 1e-5 {
		t.Errorf("local-negative step loss %.7g, ref.LocalLoss of its embeddings %.7g (rel %.2g)", res.Loss, local, e)
	}
	if math.Abs(local-global) < 1e-3 {
		t.Errorf("local %.7g and global %.7g losses coincide: the test cannot tell them apart", local, global)
	}
	t.Logf("loss with local negatives %.7g (ref %.7g); global would be %.7g", res.Loss, local, global)
}

// TestBatchNormPerDevice (issue 22, point 3): ResNet-18 on 4 devices with per-device batch statistics (the
// default of --devices, SetBatchStatGroups) is the one-device step whose batch norm takes its statistics over
// the same 4 groups of examples; with --sync-bn (no groups) it is the plain one-device step; and the two
// differ. One SGD step each (a ResNet step compiles for seconds): loss to 1e-6 relative, parameters (running
// averages included) to 1e-5.
func TestBatchNormPerDevice(t *testing.T) {
	const nd = 4
	if nd > testBackend.NumDevices() {
		t.Skipf("%s has %d device(s)", testBackend.Name(), testBackend.NumDevices())
	}
	model := models.Encoder{Body: models.ResNetBody{ResNet18: arch.ResNet18{H: 8, W: 8, C: 3, Stem: arch.StemCIFAR, Width: 4}},
		Head: arch.Head{In: 32, Hidden: 8, Out: 4}}
	r := rand.New(rand.NewPCG(51, 52))
	x := make([]float32, 8*8*8*3)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	views := func(rng, x *graph.Node) (*graph.Node, *graph.Node) { // two different views of each image
		return rng, graph.Concatenate([]*graph.Node{x, graph.MulScalar(x, -0.5)}, 0)
	}
	run := func(devices, groups int) (float64, [][]float32) {
		st, err := newStepper(testBackend, model, optim.Optimizer{Name: optim.SGD, LR: 0.1}, losses.Config{Temperature: 0.5}, views, dtypes.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Distribute(devices); err != nil {
			t.Fatal(err)
		}
		st.SetBatchStatGroups(groups)
		res, err := st.Step(tensors.FromFlatDataAndDimensions(append([]float32(nil), x...), 8, 8, 8, 3))
		if err != nil {
			t.Fatal(err)
		}
		var ps [][]float32
		for _, p := range st.Params {
			ps = append(ps, tensors.MustCopyFlatData[float32](p))
		}
		return res.Loss, ps
	}
	compare := func(name string, la float64, pa [][]float32, lb float64, pb [][]float32) {
		worst := 0.0
		for i := range pa {
			for j := range pa[i] {
				worst = max(worst, math.Abs(float64(pa[i][j]-pb[i][j])))
			}
		}
		if e := math.Abs(la-lb) / math.Abs(lb); e > 1e-6 || worst > 1e-5 {
			t.Errorf("%s: losses %.9g and %.9g (rel %.2g), parameters differ by up to %.2g", name, la, lb, e, worst)
		}
		t.Logf("%s: loss %.9g vs %.9g, parameters within %.2g", name, la, lb, worst)
	}
	perDev, pPerDev := run(nd, nd)
	grouped, pGrouped := run(1, nd)
	compare("per-device BN on 4 devices vs 4 groups on one", perDev, pPerDev, grouped, pGrouped)
	syncBN, pSync := run(nd, 0)
	one, pOne := run(1, 0)
	compare("sync BN on 4 devices vs one device", syncBN, pSync, one, pOne)
	if math.Abs(perDev-syncBN) < 1e-4 {
		t.Errorf("per-device and global batch statistics give the same loss %.7g: the test cannot tell them apart", perDev)
	}
}
