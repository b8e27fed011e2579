package train

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/ref"
)

// refBYOLStep is one BYOL step in package ref, float64, with plain SGD: the online MLP + head + predictor
// (params) against the target MLP + head (target), then the target's EMA with τ_k. It returns the loss.
func refBYOLStep(mlp arch.MLP, head, pred arch.Head, params, target [][]float64, x []float64, n2 int, lr float64, k, total int, base float64) float64 {
	nm, nh := len(mlp.Params()), len(head.Params())
	forward := func(p [][]float64) (*ref.MLPCache[float64], *ref.HeadCache[float64]) {
		mc := ref.MLPForward(mlp, p[:nm], x, n2)
		return mc, ref.HeadForward(head, p[nm:nm+nh], mc.Out, n2)
	}
	mc, hc := forward(params)
	pc := ref.HeadForward(pred, params[nm+nh:], hc.Out, n2)
	_, tc := forward(target)
	loss, dp := ref.BYOL(pc.Out, tc.Out, n2, pred.Out)
	dPred, dz := ref.HeadBackward(pc, dp)
	dHead, dh := ref.HeadBackward(hc, dz)
	dMLP, _ := ref.MLPBackward(mc, dh)
	grads := append(append(dMLP, dHead...), dPred...)
	for i := range params {
		for j := range params[i] {
			params[i][j] -= lr * grads[i][j]
		}
	}
	tau := ref.MomentumTau(k, total, base)
	for i := range target {
		ref.EMA(target[i], target[i], params[i], tau)
	}
	return loss
}

// TestBYOLStepMatchesReference is issue 23's check of the momentum encoder in the step: three compiled BYOL
// steps (MLP + head + predictor, SGD, the target an EMA with τ on the cosine schedule from τ_base = 0.9 over
// K = 4 steps) give the loss, the online parameters (predictor included) and the target parameters of the
// same steps in package ref, to 1e-12 in float64 and 1e-5 in float32; the target starts as the online network
// and its step counter counts the steps.
func TestBYOLStepMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const n2, in, lr, base, total = 12, 4, 0.1, 0.9, 4
	x := arch.Normal(r, n2*in, 1)
	mlp := arch.MLP{In: in, Width: 16, Depth: 1, Out: 5, Activation: arch.ReLU, Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth}
	head, pred := arch.Head{In: 5, Hidden: 8, Out: 3}, arch.Head{In: 3, Hidden: 8, Out: 3}
	model := models.WithPredictor{Model: models.Encoder{Body: models.MLPBody{MLP: mlp}, Head: head}, Predictor: pred}
	identity := func(rng, x *graph.Node) (*graph.Node, *graph.Node) { return rng, x }
	for _, dt := range []dtypes.DType{dtypes.Float64, dtypes.Float32} {
		tol := map[dtypes.DType]float64{dtypes.Float64: 1e-12, dtypes.Float32: 1e-5}[dt]
		st, err := newStepper(testBackend, model, optim.Optimizer{Name: optim.SGD, LR: lr}, losses.Config{Temperature: 0.5}, identity, dt, 3)
		if err != nil {
			t.Fatal(err)
		}
		st.useMethod(Method{Name: MethodBYOL, TauBase: base, Steps: total})
		params := st.ParamValues() // the float32 run's values are float32 numbers: ref starts from the same
		nb := model.Base()
		k, target := st.TargetValues()
		if k != 0 || fmt.Sprint(target) != fmt.Sprint(params[:nb]) {
			t.Fatalf("%s: the target does not start as the online network (k = %g)", dt, k)
		}
		xt := hostTensor(dt, x, []int{n2, in})
		xr := x
		if dt == dtypes.Float32 {
			xr = flat64(xt)
		}
		for step := range 3 {
			res, err := st.Step(xt)
			if err != nil {
				t.Fatal(err)
			}
			want := refBYOLStep(mlp, head, pred, params, target, xr, n2, lr, step, total, base)
			if math.Abs(res.Loss-want) > tol*math.Max(1, want) {
				t.Errorf("%s step %d: loss %.15g, reference %.15g", dt, step, res.Loss, want)
			}
			gk, gotTarget := st.TargetValues()
			if gk != float64(step+1) {
				t.Errorf("%s step %d: target step counter %g, want %d", dt, step, gk, step+1)
			}
			for name, pair := range map[string][2][][]float64{"online": {st.ParamValues(), params}, "target": {gotTarget, target}} {
				for i := range pair[1] {
					var num, den float64
					for j := range pair[1][i] {
						num += (pair[0][i][j] - pair[1][i][j]) * (pair[0][i][j] - pair[1][i][j])
						den += pair[1][i][j] * pair[1][i][j]
					}
					if e := math.Sqrt(num / math.Max(den, 1e-300)); e > tol {
						t.Errorf("%s step %d: %s parameter %s differs from the reference by %.3g (relative)", dt, step, name, model.Params()[i].Name, e)
					}
				}
			}
		}
	}
}

// TestMethodResumeExact: BYOL, MoCo v3 and VICReg runs that "crash" after step 40 with only their step-20
// checkpoint left and are resumed end with the parameters, metrics and whole final checkpoint (optimiser
// state, target network and its step counter included) of uninterrupted runs, bit for bit; and a BYOL run may
// not be resumed with another --steps (τ's schedule depends on it).
func TestMethodResumeExact(t *testing.T) {
	for _, method := range []string{MethodBYOL, MethodMoCoV3, MethodVICReg} {
		run := func(dir string) Config {
			c := smallRun(dir, 40)
			c.Method, c.LatentDim = method, 8
			if method != MethodVICReg {
				c.PredictorHidden = 16
			}
			return c
		}
		full, crashed := t.TempDir(), t.TempDir()
		mustRun(t, run(full))
		mustRun(t, run(crashed))
		for _, s := range []int{30, 40} {
			os.Remove(filepath.Join(crashed, ckptName(s)))
		}
		os.Remove(filepath.Join(crashed, "params.ckpt"))
		c := run(crashed)
		c.Resume = crashed
		mustRun(t, c)
		sameRun(t, method, full, crashed)
		a, errA := checkpoint.Read(filepath.Join(full, ckptName(40)), nil)
		b, errB := checkpoint.Read(filepath.Join(crashed, ckptName(40)), nil)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the final checkpoints differ", method)
		}
		targets := 0
		for _, ts := range a {
			if strings.HasPrefix(ts.Name, "target/") {
				targets++
			}
		}
		if want := map[bool]int{true: 1 + 3, false: 0}[method != MethodVICReg]; targets != want { // k, then onehidden's 3 parameters
			t.Errorf("%s: %d target/ tensors in the checkpoint, want %d", method, targets, want)
		}
		if method == MethodBYOL {
			c.Steps = 60
			if _, err := Run(c, io.Discard); !IsUsage(err) || !strings.Contains(err.Error(), "--steps: 40 → 60") {
				t.Errorf("byol resumed with more steps: %v", err)
			}
		}
	}
}

// readSafetensors returns the float32 tensors of a safetensors file by name: an 8-byte header length, a JSON
// header of dtype, shape and data offsets, then the data.
func readSafetensors(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for name, raw := range header {
		var e struct {
			Offsets [2]int `json:"data_offsets"`
		}
		if name == "__metadata__" || json.Unmarshal(raw, &e) != nil {
			continue
		}
		data := b[8+int(n)+e.Offsets[0] : 8+int(n)+e.Offsets[1]]
		for i := 0; i < len(data); i += 4 {
			out[name] = append(out[name], math.Float32frombits(binary.LittleEndian.Uint32(data[i:])))
		}
	}
	return out
}

// TestExportTarget: export --target of a BYOL run writes the target network (the checkpoint's target/…
// values, in the PyTorch layout of the online export, no predictor), which differs from the online encoder's;
// a VICReg run has no target and is refused with a usage error.
func TestExportTarget(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	c := smallRun(dir, 20)
	c.Model, c.Method, c.PredictorHidden, c.HeadDim, c.HeadHidden, c.LatentDim = "mlp", MethodBYOL, 8, 4, 6, 3
	c.TargetTau = 0.5 // the target moves visibly in 20 steps
	mustRun(t, c)
	online, target := filepath.Join(tmp, "o.safetensors"), filepath.Join(tmp, "t.safetensors")
	names, err := ExportRun(dir, 0, "safetensors", online, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tnames, err := ExportTarget(dir, 0, "safetensors", target, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(names) != fmt.Sprint(tnames) || strings.Contains(fmt.Sprint(names), "predictor") {
		t.Errorf("online export %v, target export %v", names, tnames)
	}
	ts, err := checkpoint.Read(filepath.Join(dir, ckptName(20)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var w0 []float32 // target/hidden_0/weights [2, 32] → 0.weight [32, 2], the layer's multiplier 1/√2 folded in
	for _, e := range ts {
		if e.Name == "target/hidden_0/weights" {
			for o := range 32 {
				for i := range 2 {
					w0 = append(w0, float32(1/math.Sqrt(2)*float64(e.F32[i*32+o])))
				}
			}
		}
	}
	o, tg := readSafetensors(t, online), readSafetensors(t, target)
	if !reflect.DeepEqual(tg["0.weight"], w0) || len(w0) != 64 {
		t.Errorf("exported target 0.weight is not the checkpoint's target/hidden_0/weights: %v vs %v", tg["0.weight"][:4], w0[:min(4, len(w0))])
	}
	if reflect.DeepEqual(o["0.weight"], tg["0.weight"]) || reflect.DeepEqual(o["head.2.bias"], tg["head.2.bias"]) {
		t.Error("the target export equals the online encoder's")
	}
	vdir := t.TempDir()
	c = smallRun(vdir, 10)
	c.Method = MethodVICReg
	mustRun(t, c)
	if _, err := ExportTarget(vdir, 0, "npz", "", io.Discard); !IsUsage(err) {
		t.Errorf("export --target of a vicreg run: %v, want a usage error", err)
	}
}

// TestMethodsOnConvEncoders: every method trains the small CNN and ResNet-18 (CIFAR stem, width 4) for two SGD
// steps on 4 random images (views: the batch twice): losses and parameters finite, parameters moved, and for
// BYOL and MoCo v3 on ResNet-18 the target's batch-norm running averages come from its own forward pass
// (moved from their start, not the online network's).
func TestMethodsOnConvEncoders(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles eight convolutional training steps")
	}
	for _, c := range []struct {
		name    string
		model   models.Model
		h, w, c int
	}{
		{"cnn", models.Encoder{Body: models.CNNBody{CNN: arch.CNN{H: 16, W: 16, C: 1, Channels: []int{4, 8}, Dense: 16}}, Head: arch.Head{In: 16, Hidden: 16, Out: 8}}, 16, 16, 1},
		{"resnet18", models.Encoder{Body: models.ResNetBody{ResNet18: arch.ResNet18{H: 16, W: 16, C: 3, Stem: arch.StemCIFAR, Width: 4}}, Head: arch.Head{In: 32, Hidden: 16, Out: 8}}, 16, 16, 3},
	} {
		for _, name := range Methods[1:] {
			m := Method{Name: name, VICReg: losses.DefaultVICReg(), Barlow: losses.DefaultBarlow(), Temperature: 0.2, TauBase: 0.5, Steps: 2}
			model, err := withPredictor(m, c.model, 16)
			if err != nil {
				t.Fatal(err)
			}
			st, err := newStepper(testBackend, model, optim.Optimizer{Name: optim.SGD, LR: 0.05}, losses.Config{Temperature: 0.5}, nil, dtypes.Float32, 1)
			if err != nil {
				t.Fatal(err)
			}
			st.useMethod(m)
			before := st.ParamValues()
			x := hostTensor(dtypes.Float32, uniformImages(3, 4, c.h, c.w, c.c), []int{4, c.h, c.w, c.c})
			for step := range 2 {
				res, err := st.Step(x)
				if err != nil {
					t.Fatal(err)
				}
				if !res.Finite || math.IsNaN(res.Loss) {
					t.Errorf("%s/%s step %d: loss %g, finite %v", c.name, name, step, res.Loss, res.Finite)
				}
			}
			after := st.ParamValues()
			if reflect.DeepEqual(before, after) {
				t.Errorf("%s/%s: no parameter moved", c.name, name)
			}
			if !m.HasTarget() || c.name != "resnet18" {
				continue
			}
			_, target := st.TargetValues()
			for i, p := range c.model.Params() {
				if p.Trainable || !strings.Contains(p.Name, "mean") {
					continue
				}
				if reflect.DeepEqual(target[i], before[i]) || reflect.DeepEqual(target[i], after[i]) {
					t.Errorf("%s/%s: target %s did not move by its own batch statistics", c.name, name, p.Name)
				}
			}
		}
	}
}

// TestMethodValidation: settings a method does not read, or out of range, are usage errors naming the flag;
// 0 resolves to the method's default and stays 0 for the methods that do not read it.
func TestMethodValidation(t *testing.T) {
	for want, mod := range map[string]func(*Config){
		"--method must be one of":                          func(c *Config) { c.Method = "simsiam" },
		"--predictor-hidden does not apply":                func(c *Config) { c.Method, c.PredictorHidden = MethodVICReg, 8 },
		"--target-tau does not apply":                      func(c *Config) { c.TargetTau = 0.9 },
		"--barlow-lambda does not apply":                   func(c *Config) { c.Method, c.BarlowLambda = MethodBYOL, 0.1 },
		"--loss, --kernel, --local-negatives do not":       func(c *Config) { c.Method, c.Kernel = MethodBarlow, losses.KernelGaussian },
		"--target-tau in (0, 1]":                           func(c *Config) { c.Method, c.TargetTau = MethodMoCoV3, 1.5 },
		"--barlow-lambda must be > 0":                      func(c *Config) { c.Method, c.BarlowLambda = MethodBarlow, -1 },
		"--method vicreg needs --batch-size ≥ 2":           func(c *Config) { c.Method, c.BatchSize = MethodVICReg, 1 },
		"--devices > 1 trains --method simclr only so far": func(c *Config) { c.Method, c.Devices = MethodBYOL, 2 },
		"--vicreg-weights does not apply":                  func(c *Config) { c.VICRegWeights = []float64{25, 0, 1} },
		"--vicreg-weights must be three weights":           func(c *Config) { c.Method, c.VICRegWeights = MethodVICReg, []float64{25, 1} },
		"not all 0, got [0 0 0]":                           func(c *Config) { c.Method, c.VICRegWeights = MethodVICReg, []float64{0, 0, 0} },
		"≥ 0 (invariance, variance, covariance)":           func(c *Config) { c.Method, c.VICRegWeights = MethodVICReg, []float64{25, -1, 1} },
		"--no-predictor does not apply to --method barlow": func(c *Config) { c.Method, c.NoPredictor = MethodBarlow, true },
		"--predictor-hidden does not apply with":           func(c *Config) { c.Method, c.NoPredictor, c.PredictorHidden = MethodBYOL, true, 8 },
	} {
		c := Defaults()
		mod(&c)
		if err := c.Validate(); !IsUsage(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("want a usage error with %q, got %v", want, err)
		}
	}
	c := Defaults()
	c.Method = MethodBYOL
	r := c.Resolve()
	if r.PredictorHidden != DefaultPredictorHidden || r.TargetTau != 0.996 || r.BarlowLambda != 0 {
		t.Errorf("byol resolved to %+v", r)
	}
	c.NoPredictor = true
	if r := c.Resolve(); r.PredictorHidden != 0 || r.method().NoPredictor != true || r.Validate() != nil {
		t.Errorf("byol --no-predictor resolved to predictor-hidden %d: %v", r.PredictorHidden, r.Validate())
	}
	c.NoPredictor = false
	c.Method = MethodVICReg
	if r := c.Resolve(); !reflect.DeepEqual(r.VICRegWeights, []float64{25, 25, 1}) {
		t.Errorf("vicreg resolved weights %v, want the paper's 25,25,1", r.VICRegWeights)
	}
	c.VICRegWeights = []float64{25, 0, 1}
	if m := c.Resolve().method(); m.VICReg.Variance != 0 || m.VICReg.Invariance != 25 || m.VICReg.Covariance != 1 {
		t.Errorf("vicreg 25,0,1 gave the method %+v", m.VICReg)
	}
	c.VICRegWeights = nil
	c.Method = MethodMoCoV3
	if r := c.MethodDefaults(func(string) bool { return false }).Resolve(); r.Temperature != 0.2 || r.TargetTau != 0.99 {
		t.Errorf("mocov3: τ %g, target τ %g", r.Temperature, r.TargetTau)
	}
	if r := c.MethodDefaults(func(string) bool { return true }); r.Temperature != 0.5 {
		t.Errorf("mocov3 with --temperature given: τ %g", r.Temperature)
	}
	c.Method = MethodBarlow
	if r := c.Resolve(); r.BarlowLambda != 5e-3 || r.PredictorHidden != 0 || r.TargetTau != 0 {
		t.Errorf("barlow resolved to %+v", r)
	}
}
