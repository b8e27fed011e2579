package train

import (
	"fmt"
	"io"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/ops"
	"github.com/gosimclr/gosimclr/optim"
)

// DefaultOnlineProbeLR is the online probe's learning rate (--online-probe-lr). It is Adam's usual 1e-3, at a
// constant rate: Adam, because its steps do not depend on the scale of the features, which differs by orders
// of magnitude between our encoders (an NTK-scaled MLP, a CNN's ReLU features, a batch-normalised ResNet), so
// one default serves all of them; constant, because the features keep moving until the last step, so a probe
// that follows the SSL run's cosine decay to 0 would stop learning while they still change.
const DefaultOnlineProbeLR = 1e-3

// onlineProbe is the online linear probe of a Stepper (solo-learn's online classifier): a linear classifier
// w [F, C], b [C] on the encoder's features h (before the projection head), trained with its own optimiser in
// the same compiled step as the SSL objective, on both views of the batch (twice the examples at no extra
// forward pass, as solo-learn does with its large crops), from h detached: its gradient never reaches the
// encoder. It starts from zero (no random numbers drawn, so the encoder's initialisation and views are those
// of a run without it). Its parameters and optimiser state are part of the run's state (checkpoints), not of
// the encoder (params.ckpt, simclr export).
type onlineProbe struct {
	classes int
	opt     optim.Optimizer
	specs   []arch.Param
	Params  []*tensors.Tensor // w [F, C], b [C]
	State   []*tensors.Tensor // opt.State(specs)
}

// EnableOnlineProbe adds an online linear probe over classes classes, trained by Adam at learning rate lr, to
// the step of batches of shape batch (the x given to Step); each Step then needs the batch's labels in
// s.Labels. Call it before Distribute and the first Step.
func (s *Stepper) EnableOnlineProbe(classes int, lr float64, batch shapes.Shape) error {
	if s.devices > 1 {
		return fmt.Errorf("train: enable the online probe before Distribute")
	}
	if classes < 2 {
		return fmt.Errorf("train: the online probe needs at least 2 classes, got %d", classes)
	}
	f, err := featureDim(s.backend, s.Model, s.DType, batch)
	if err != nil {
		return err
	}
	p := &onlineProbe{classes: classes, opt: optim.Optimizer{Name: optim.Adam, LR: lr},
		specs: []arch.Param{{Name: "w", Dims: []int{f, classes}, Trainable: true}, {Name: "b", Dims: []int{classes}, Trainable: true}}}
	for _, sp := range append(p.specs, p.opt.State(p.specs)...) {
		t := hostTensor(s.DType, make([]float64, sp.Size()), sp.Dims)
		if len(p.Params) < len(p.specs) {
			p.Params = append(p.Params, t)
		} else {
			p.State = append(p.State, t)
		}
	}
	s.probe = p
	return nil
}

// featureDim is F, the width of model's features on batches of shape batch, read off a graph that is built
// but never compiled.
func featureDim(b compute.Backend, m models.Model, dt dtypes.DType, batch shapes.Shape) (f int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("train: the online probe: the model's features on a batch %s: %v", batch, r)
		}
	}()
	g := graph.NewGraph(b, "feature_shape")
	defer g.Finalize()
	var params []*graph.Node
	for _, p := range m.Params() {
		params = append(params, graph.Parameter(g, p.Name, shapes.Make(dt, p.Dims...)))
	}
	h := m.Forward(params, graph.Parameter(g, "x", batch), true).Features
	if h.Rank() != 2 {
		return 0, fmt.Errorf("train: the online probe wants features [B, F], the model gives %s", h.Shape())
	}
	return h.Shape().Dimensions[1], nil
}

// build adds the probe to the step graph: in are its inputs (the labels of the batch's rows, then Params and
// State), features the encoder's h [2N, F] of both views, finite whether the SSL step was finite. Labels [N]
// serve both views; labels [2N] are those of a batch that is itself the 2N views (a Stepper whose ViewsFn
// returns its input, as in tests and benchmarks). It returns the new Params and
// State (the old ones where either the SSL step or the probe's own update was not finite) and last the
// scalars [accuracy, CE] of the probe before its update. A nil probe adds nothing.
func (p *onlineProbe) build(features, finite *graph.Node, in []*graph.Node) []*graph.Node {
	if p == nil {
		return nil
	}
	labels, params, state := in[0], in[1:1+len(p.Params)], in[1+len(p.Params):]
	// The step differentiates the SSL loss alone with respect to the encoder, and the probe's CE with
	// respect to w and b alone; StopGradient also keeps autodiff from tracing the CE back into the encoder.
	h := graph.StopGradient(features)
	if h.DType() != params[0].DType() {
		h = graph.ConvertDType(h, params[0].DType())
	}
	if labels.Shape().Dimensions[0] != h.Shape().Dimensions[0] { // [N]: the labels of both views
		labels = graph.Concatenate([]*graph.Node{labels, labels}, 0)
	}
	t := losses.OnlineProbe(h, labels, params[0], params[1])
	grads := graph.Gradient(t.CE, params...)
	newParams, newState := p.opt.Update(params, grads, []bool{true, true}, state)
	sum := t.CE
	for _, v := range newParams {
		sum = graph.Add(sum, ops.SumAll(v))
	}
	keep := graph.LogicalAnd(finite, graph.IsFinite(sum))
	out := make([]*graph.Node, 0, len(in))
	for i, v := range newParams {
		out = append(out, graph.Where(keep, v, params[i]))
	}
	for i, v := range newState {
		out = append(out, graph.Where(keep, v, state[i]))
	}
	return append(out, graph.Stack([]*graph.Node{t.Accuracy, t.CE}, 0))
}

// args are the probe's inputs of one step on one device: the labels, then its parameters and state, donated
// like the encoder's. None without a probe.
func (p *onlineProbe) args(b compute.Backend, labels *tensors.Tensor, x *tensors.Tensor) ([]any, error) {
	if p == nil {
		return nil, nil
	}
	if err := p.checkLabels(labels, x); err != nil {
		return nil, err
	}
	args := []any{labels}
	for _, t := range append(append([]*tensors.Tensor{}, p.Params...), p.State...) {
		d, err := graph.DonateTensorBuffer(t, b, 0)
		if err != nil {
			return nil, err
		}
		args = append(args, d)
	}
	return args, nil
}

// checkLabels says why labels cannot be the labels of the batch x.
func (p *onlineProbe) checkLabels(labels, x *tensors.Tensor) error {
	n := x.Shape().Dimensions[0]
	if labels == nil {
		return fmt.Errorf("the online probe needs the batch's labels (Stepper.Labels)")
	}
	if labels.DType() != dtypes.Int32 || labels.Rank() != 1 || labels.Shape().Dimensions[0] != n {
		return fmt.Errorf("the online probe wants labels int32 [%d], got %s", n, labels.Shape())
	}
	return nil
}

// read takes the probe's outputs of a step (new Params, new State, scalars) and returns its accuracy and CE;
// without a probe, NaN and NaN.
func (p *onlineProbe) read(outs []*tensors.Tensor) (acc, ce float64) {
	if p == nil {
		return math.NaN(), math.NaN()
	}
	np := len(p.Params)
	copy(p.Params, outs[:np])
	copy(p.State, outs[np:np+len(p.State)])
	v := flat64(outs[len(outs)-1])
	return v[0], v[1]
}

// outputs is the number of outputs the probe adds to the step.
func (p *onlineProbe) outputs() int {
	if p == nil {
		return 0
	}
	return len(p.Params) + len(p.State) + 1
}

// shapes are the shapes of the probe's inputs for batches of n examples (Stepper.Compile).
func (p *onlineProbe) shapes(n int) []shapes.Shape {
	if p == nil {
		return nil
	}
	sh := []shapes.Shape{shapes.Make(dtypes.Int32, n)}
	for _, t := range append(append([]*tensors.Tensor{}, p.Params...), p.State...) {
		sh = append(sh, t.Shape())
	}
	return sh
}

// snapshot names the probe's tensors for a checkpoint: probe/w, probe/b, probe/<state name>.
func (p *onlineProbe) snapshot() []checkpoint.Tensor {
	if p == nil {
		return nil
	}
	var out []checkpoint.Tensor
	for i, t := range p.Params {
		out = append(out, toCkpt("probe/"+p.specs[i].Name, t))
	}
	for i, sp := range p.opt.State(p.specs) {
		out = append(out, toCkpt("probe/"+sp.Name, p.State[i]))
	}
	return out
}

// set replaces the probe's i-th tensor (in snapshot order) by t.
func (p *onlineProbe) set(i int, t *tensors.Tensor) {
	if i < len(p.Params) {
		p.Params[i] = t
	} else {
		p.State[i-len(p.Params)] = t
	}
}

// labelsTensor gathers the labels of the examples idx as int32 [N].
func labelsTensor(data *dataset, idx []int) *tensors.Tensor {
	v := make([]int32, len(idx))
	for i, j := range idx {
		v[i] = int32(data.labels[j])
	}
	return tensors.FromFlatDataAndDimensions(v, len(idx))
}

// labelled reports whether every example of d has a class label, of at least two classes.
func (d *dataset) labelled() bool { return d.classes > 1 && len(d.labels) == d.n }

// batchShape is the shape of the batches batchTensor gathers for model input in: [n] int32 indices or
// [n, dims…] values.
func batchShape(in models.Input, data *dataset, n int, dt dtypes.DType) shapes.Shape {
	if in == models.Indices {
		return shapes.Make(dtypes.Int32, n)
	}
	return shapes.Make(dt, append([]int{n}, data.dims...)...)
}

// probeOn reports whether s's training step carries the online probe: --online-probe resolved to true and
// data with labels (startSession turns the setting off, with a note, on data without them).
func (s *Setup) probeOn() bool {
	return s.Config.OnlineProbe == "true" && s.train != nil && s.train.labelled()
}

// noteUnlabelled turns --online-probe off, with a note on log, when the data has no labels to train it on, so
// that config.json records what the run does.
func noteUnlabelled(c *Config, data *dataset, log io.Writer) {
	if c.OnlineProbe == "true" && data != nil && !data.labelled() {
		fmt.Fprintf(log, "note: %s has no class labels: --online-probe is ignored\n", data.name)
		c.OnlineProbe = "false"
	}
}

// adoptProbeSetting lets a run whose checkpoint predates the online probe (its settings have no
// "online-probe") continue as it started, without the probe, rather than refusing the default that turns it
// on: the checkpoint holds no probe to restore. A note says so on log.
func adoptProbeSetting(m *ckptMeta, c *Config, log io.Writer) {
	if m.Config.OnlineProbe != "" {
		return
	}
	m.Config.OnlineProbe, m.Config.OnlineProbeLR = "false", c.OnlineProbeLR
	if c.OnlineProbe == "true" {
		fmt.Fprintf(log, "note: the run was started before the online probe existed: it continues without it\n")
	}
	c.OnlineProbe = "false"
}
