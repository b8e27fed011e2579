package train

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/ops"
	"github.com/gosimclr/gosimclr/optim"
)

// ViewsFn makes the 2N views of a batch x [N, …] on the device: rows 0..N−1 view 1, N..2N−1 view 2. It
// draws its randomness from rng and returns the advanced state.
type ViewsFn func(rng, x *graph.Node) (newRNG, views *graph.Node)

// Stepper is one compiled SimCLR training step. Its parameters, optimiser state and RNG state are tensors
// that live on the backend's device between steps: the whole state of a run, apart from the step count.
type Stepper struct {
	Model  models.Model
	Opt    optim.Optimizer
	Loss   losses.Config
	Views  ViewsFn
	DType  dtypes.DType
	Params []*tensors.Tensor // in Model.Params() order
	State  []*tensors.Tensor // in Opt.State(...) order
	RNG    *tensors.Tensor
	// LRScale multiplies the optimiser's learning rate on the next Step (a schedule's factor; newStepper sets
	// it to 1). It is an input of the compiled step, so changing it recompiles nothing.
	LRScale float64
	// Compute is the dtype of the model's forward and backward passes (mixed precision, precision.go):
	// bfloat16, or unset (InvalidDType) for DType, the dtype of everything else. Set it before the first Step.
	Compute dtypes.DType
	// Labels are the labels [N] (int32) of the batch of the next Step, which the online probe needs
	// (EnableOnlineProbe); without a probe they are not read.
	Labels *tensors.Tensor

	exec     *graph.Exec
	devices  int                 // 0 or 1: one device; more: Distribute's data parallelism
	replicas [][]*tensors.Tensor // devices > 1: device d's RNG, params and state (d ≥ 1; nil: copy device 0's)
	// localNegatives: with several devices, the loss contrasts each device's share of the batch only with itself
	localNegatives bool
	bnGroups       int // > 1: batch statistics per group of the examples (per device), see forward
	backend        compute.Backend
	geometry       *graph.Exec // Wang & Isola's metrics of z, run only on the steps that are logged
	trainable      []bool
	probe          *onlineProbe // nil: no online linear probe (EnableOnlineProbe)
	method         Method       // the objective when not SimCLR's, and the target network (method.go)
}

// StepResult holds the scalars of one step and the latents it saw.
type StepResult struct {
	Loss, LossAlign, LossUnif float64 // the optimised objective and its two parts
	Alignment, Uniformity     float64 // Wang & Isola metrics of z: NaN until Stepper.Geometry fills them
	// Finite is false when the loss, a gradient or an updated parameter was NaN or ±Inf: the step then left
	// parameters and optimiser state as they were.
	Finite bool
	Z      *tensors.Tensor
	// OnlineAcc and OnlineCE are the online probe's accuracy and cross-entropy on the batch (both views),
	// before its update; NaN without a probe.
	OnlineAcc, OnlineCE float64
}

// newStepper builds the step for model on backend b, with parameters initialised from seed.
func newStepper(b compute.Backend, model models.Model, opt optim.Optimizer, loss losses.Config, views ViewsFn, dt dtypes.DType, seed uint64) (*Stepper, error) {
	s := &Stepper{Model: model, Opt: opt, Loss: loss, Views: views, DType: dt, LRScale: 1, backend: b}
	ps := model.Params()
	for i, v := range model.Init(seed) {
		s.Params = append(s.Params, hostTensor(dt, v, ps[i].Dims))
		s.trainable = append(s.trainable, ps[i].Trainable)
	}
	for _, p := range opt.State(ps) {
		s.State = append(s.State, hostTensor(dt, make([]float64, p.Size()), p.Dims))
	}
	rng, err := graph.RNGStateFromSeed(int64(seed))
	if err != nil {
		return nil, err
	}
	s.RNG = rng
	exec, err := graph.NewExec(b, s.build)
	if err != nil {
		return nil, err
	}
	s.exec = exec.WithName("simclr_step")
	return s, nil
}

// hostTensor converts float64 values to a tensor of dtype dt.
func hostTensor(dt dtypes.DType, v []float64, dims []int) *tensors.Tensor {
	if dt == dtypes.Float64 {
		return tensors.FromFlatDataAndDimensions(append([]float64(nil), v...), dims...)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensors.FromFlatDataAndDimensions(f, dims...)
}

// Layout of the step graph's inputs and outputs:
//
//	in:  x, rng, lrScale, params…, state…, [online probe: labels, its params…, its state…]
//	out: loss, lossAlign, lossUnif, finite, z, rng', params'…, state'…, [online probe: params'…, state'…, [acc, CE]]
const numScalarOuts = 4

func (s *Stepper) build(g *graph.Graph, in []*graph.Node) []*graph.Node {
	np, ns := len(s.Params), len(s.State)
	x, rng, lrScale := in[0], in[1], in[2]
	params, state, probeIn := in[3:3+np], in[3+np:3+np+ns], in[3+np+ns:]
	var views *graph.Node
	if s.Views != nil {
		rng, views = s.Views(rng, x)
		rng = ops.RNGState(in[1], rng) // the Go backend's unwritten state word, made deterministic
	} else {
		views = graph.Concatenate([]*graph.Node{x, x}, 0)
	}
	fwd := s.mixedForward(params, views)
	z := fwd.Z
	var t losses.Terms
	var tgt targetPass
	if s.method.simCLR() {
		t = losses.Loss(z, s.Loss)
		if s.localNegatives && s.Devices() > 1 { // each device's examples contrasted among themselves
			t = losses.LocalLoss(z, s.Devices(), s.Loss)
		}
	} else {
		t, tgt = s.methodLoss(params, state, views, fwd)
	}
	var trainableParams []*graph.Node
	for i, p := range params {
		if s.trainable[i] {
			trainableParams = append(trainableParams, p)
		}
	}
	gradsT := graph.Gradient(t.Loss, trainableParams...)
	grads := make([]*graph.Node, np)
	k := 0
	for i := range params {
		if s.trainable[i] {
			grads[i], k = gradsT[k], k+1
		}
	}
	newParams, newState := s.Opt.UpdateScaled(params, grads, s.trainable, s.optState(state), lrScale)
	for i, v := range fwd.Stats {
		newParams[i] = v
	}
	if proj := s.Model.Project(newParams); proj != nil {
		newParams = proj
	}
	newState = append(newState, s.updateTarget(tgt, newParams)...) // BYOL, MoCo v3: the target's EMA
	// NaN guard: the step reports whether its loss and updated parameters are all finite (a NaN or Inf
	// gradient makes the update non-finite too). Summing each parameter is enough: a NaN or Inf anywhere
	// makes the sum NaN or Inf. When the flag is false, Step keeps the previous parameters and optimiser state
	// (the RNG still advances, so the next step sees new views) and the host decides to stop or go on.
	sum := t.Loss
	for _, v := range newParams {
		sum = graph.Add(sum, graph.ConvertDType(ops.SumAll(v), t.Loss.DType()))
	}
	finite := graph.IsFinite(sum)
	// A non-finite step keeps the previous parameters and state here, in the graph, so that Step can donate
	// their buffers to the step (XLA then updates them in place: ~15% of an MLP step on xla:cpu).
	for i := range newParams {
		newParams[i] = graph.Where(finite, newParams[i], params[i])
	}
	for i := range newState {
		newState[i] = graph.Where(finite, newState[i], state[i])
	}
	zs := graph.StopGradient(z)
	out := []*graph.Node{t.Loss, t.Align, t.Unif, graph.ConvertDType(finite, t.Loss.DType()), zs, rng}
	out = append(out, newParams...)
	out = append(out, newState...)
	return append(out, s.probe.build(fwd.Features, finite, probeIn)...)
}

// Step runs one training step on the batch x and replaces the parameters, state and RNG with their new values
// (the previous ones where the step was not finite). On one device the parameter and state tensors it is given
// are donated to the step: afterwards only s.Params and s.State hold valid values, so read them there, not from a
// tensor kept from before the step. On several devices (Distribute), see stepArgs.
func (s *Stepper) Step(x *tensors.Tensor) (r StepResult, err error) {
	args, err := s.stepArgs(x)
	if err != nil {
		return r, fmt.Errorf("train: step: %w", err)
	}
	outs, err := s.exec.Call(args...)
	if err != nil {
		return r, fmt.Errorf("train: step: %w", err)
	}
	if s.Devices() > 1 {
		outs = s.keepReplicas(outs)
	}
	scalars := make([]float64, numScalarOuts)
	for i := range scalars {
		scalars[i] = scalar(outs[i])
	}
	r = StepResult{Loss: scalars[0], LossAlign: scalars[1], LossUnif: scalars[2], Alignment: math.NaN(),
		Uniformity: math.NaN(), Finite: scalars[3] == 1, Z: outs[numScalarOuts]}
	rest := outs[numScalarOuts+1:]
	s.RNG = rest[0]
	copy(s.Params, rest[1:1+len(s.Params)])
	copy(s.State, rest[1+len(s.Params):])
	r.OnlineAcc, r.OnlineCE = s.probe.read(rest[1+len(s.Params)+len(s.State):])
	return r, nil
}

// Geometry fills r's Alignment and Uniformity from its latents with a second compiled graph. They are kept
// out of the step itself, where the uniformity's 2N×2N pass cost ~8% of an MLP step, to be computed only
// on the steps that are written out.
func (s *Stepper) Geometry(r *StepResult) error {
	if s.geometry == nil {
		e, err := graph.NewExec(s.backend, func(z *graph.Node) (*graph.Node, *graph.Node) {
			return losses.Alignment(z), losses.Uniformity(z)
		})
		if err != nil {
			return err
		}
		s.geometry = e.WithName("simclr_geometry")
	}
	outs, err := s.geometry.Call(r.Z)
	if err != nil {
		return fmt.Errorf("train: geometry: %w", err)
	}
	r.Alignment, r.Uniformity = scalar(outs[0]), scalar(outs[1])
	return nil
}

// scalar reads a float scalar tensor as float64.
func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	panic(fmt.Sprintf("train: want a float scalar, got %s", t.Shape()))
}

// ParamValues copies the parameters to the host as float64 slices, in Model.Params() order.
func (s *Stepper) ParamValues() [][]float64 {
	out := make([][]float64, len(s.Params))
	for i, t := range s.Params {
		out[i] = flat64(t)
	}
	return out
}

// flat64 copies a float tensor's values as float64.
func flat64(t *tensors.Tensor) []float64 {
	if t.DType() == dtypes.Float64 {
		v, _ := tensors.CopyFlatData[float64](t)
		return v
	}
	v, _ := tensors.CopyFlatData[float32](t)
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// ParamSpecs returns the parameter descriptions of the model.
func (s *Stepper) ParamSpecs() []arch.Param { return s.Model.Params() }

// Compile builds and compiles the step for a batch of shape x without running it, and returns its graph
// (for inspection: which ops, of which shapes, a step runs).
func (s *Stepper) Compile(x shapes.Shape) (*graph.Graph, error) {
	return s.exec.Compile(s.inputShapes(x)...)
}

// inputShapes are the shapes of the step's inputs for a batch of shape x, in the order of build.
func (s *Stepper) inputShapes(x shapes.Shape) []shapes.Shape {
	sh := []shapes.Shape{x, s.RNG.Shape(), shapes.Make(s.DType)}
	for _, t := range append(append([]*tensors.Tensor{}, s.Params...), s.State...) {
		sh = append(sh, t.Shape())
	}
	return append(sh, s.probe.shapes(x.Dimensions[0])...)
}
