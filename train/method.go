package train

import (
	"fmt"
	"io"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/recipe"
)

// The self-supervised methods of --method. SimCLR is the NT-Xent family of --loss and --kernel; the others
// are package losses' objectives. BYOL and MoCo v3 train an online network with a predictor against a target
// (momentum) network, an EMA of the online one.
const (
	MethodSimCLR = "simclr" // Chen et al. 2020
	MethodVICReg = "vicreg" // Bardes, Ponce & LeCun 2022
	MethodBarlow = "barlow" // Zbontar et al. 2021
	MethodBYOL   = "byol"   // Grill et al. 2020
	MethodMoCoV3 = "mocov3" // Chen, Xie & He 2021
)

// Methods lists the valid --method values.
var Methods = []string{MethodSimCLR, MethodVICReg, MethodBarlow, MethodBYOL, MethodMoCoV3}

// DefaultPredictorHidden is the hidden width of the predictor MLP of BYOL and MoCo v3 (--predictor-hidden 0).
// Both papers use 4096 on 256-dimensional projections; 512 on our 128-dimensional ones is ours, as the
// projection head's 512.
const DefaultPredictorHidden = 512

// Method is the objective of a run and its settings.
type Method struct {
	Name        string // one of Methods; "" is simclr
	VICReg      losses.VICRegConfig
	Barlow      losses.BarlowConfig
	Temperature float64 // mocov3's τ
	TauBase     float64 // byol, mocov3: τ_base of the target network's EMA
	Steps       int     // byol, mocov3: K, the length of τ's cosine schedule (the run's steps)
	NoPredictor bool    // byol, mocov3: the online latents are the predictions (an ablation: ablation.go)
}

// HasTarget reports whether the method trains against a momentum (EMA) target network with a predictor.
func (m Method) HasTarget() bool { return m.Name == MethodBYOL || m.Name == MethodMoCoV3 }

func (m Method) simCLR() bool { return m.Name == "" || m.Name == MethodSimCLR }

// method returns the Method of c (resolved).
func (c Config) method() Method {
	m := Method{Name: c.Method, VICReg: losses.DefaultVICReg(), Barlow: losses.DefaultBarlow(),
		Temperature: c.Temperature, TauBase: c.TargetTau, Steps: c.Steps}
	if c.BarlowLambda > 0 {
		m.Barlow.Lambda = c.BarlowLambda
	}
	return c.ablate(m)
}

// resolveMethod fills the method's settings that are 0 ("its default") for the methods that read them, and
// leaves them 0 for the others, so that a config.json only records settings that took effect.
func (c Config) resolveMethod() Config {
	if c.Method == "" { // a config.json or checkpoint written before --method existed
		c.Method = MethodSimCLR
	}
	switch c.Method {
	case MethodVICReg:
		if c.VICRegWeights == nil {
			w := losses.DefaultVICReg()
			c.VICRegWeights = []float64{w.Invariance, w.Variance, w.Covariance}
		}
	case MethodBYOL, MethodMoCoV3:
		if c.PredictorHidden == 0 && !c.NoPredictor {
			c.PredictorHidden = DefaultPredictorHidden
		}
		if c.TargetTau == 0 {
			c.TargetTau = map[bool]float64{true: recipe.BYOLTauBase, false: recipe.MoCoV3TauBase}[c.Method == MethodBYOL]
		}
	case MethodBarlow:
		if c.BarlowLambda == 0 {
			c.BarlowLambda = recipe.BarlowLambda
		}
	}
	return c
}

// MethodDefaults gives --method mocov3 its paper's temperature 0.2 where --temperature was not set (set reports
// whether the user gave a setting, by flag or in a --config file), as Resolve gives other settings theirs.
func (c Config) MethodDefaults(set func(name string) bool) Config {
	if c.Method == MethodMoCoV3 && !set("temperature") {
		c.Temperature = recipe.MoCoV3Temperature
	}
	return c
}

// checkMethod checks --method and the settings only some methods read.
func (r resolved) checkMethod() error {
	if err := oneOf("method", r.Method, Methods); err != nil {
		return err
	}
	m := r.method()
	var misplaced []string
	if !m.HasTarget() && r.PredictorHidden != 0 {
		misplaced = append(misplaced, "--predictor-hidden")
	}
	if !m.HasTarget() && r.TargetTau != 0 {
		misplaced = append(misplaced, "--target-tau")
	}
	if r.Method != MethodBarlow && r.BarlowLambda != 0 {
		misplaced = append(misplaced, "--barlow-lambda")
	}
	if !m.simCLR() && (r.Loss != losses.PartFull || r.Kernel != losses.KernelExp || r.LocalNegatives) {
		misplaced = append(misplaced, "--loss, --kernel, --local-negatives")
	}
	switch {
	case len(misplaced) == 1 && !strings.Contains(misplaced[0], ","):
		return usagef("%s does not apply to --method %s", misplaced[0], r.Method)
	case len(misplaced) > 0:
		return usagef("%s do not apply to --method %s", strings.Join(misplaced, ", "), r.Method)
	case m.HasTarget() && ((r.PredictorHidden < 1 && !r.NoPredictor) || !(r.TargetTau > 0 && r.TargetTau <= 1)):
		return usagef("--predictor-hidden must be ≥ 1 and --target-tau in (0, 1], got %d and %g", r.PredictorHidden, r.TargetTau)
	case r.Method == MethodBarlow && !(r.BarlowLambda > 0):
		return usagef("--barlow-lambda must be > 0, got %g", r.BarlowLambda)
	case (r.Method == MethodVICReg || r.Method == MethodBarlow) && r.BatchSize == 1:
		return usagef("--method %s needs --batch-size ≥ 2 (its statistics are over the batch), got 1", r.Method)
	case !m.simCLR() && r.Devices != 1:
		return usagef("--devices > 1 trains --method simclr only so far, got --method %s", r.Method)
	}
	return nil
}

// withPredictor puts BYOL's and MoCo v3's predictor MLP (k → hidden → k on the latents) on model; other
// methods, and these two with m.NoPredictor, keep it as it is.
func withPredictor(m Method, model models.Model, hidden int) (models.Model, error) {
	if !m.HasTarget() || m.NoPredictor {
		return model, nil
	}
	var k int
	switch e := model.(type) {
	case models.Encoder:
		k = e.Body.Features()
		if e.Head.Out > 0 {
			k = e.Head.Out
		}
	case models.Particle:
		k = e.K
	default:
		return nil, usagef("--method %s needs an encoder, got %T", m.Name, model)
	}
	return models.WithPredictor{Model: model, Predictor: arch.Head{In: k, Hidden: hidden, Out: k}}, nil
}

// useMethod sets the step's method and, for one with a target network, appends the target's state to the
// optimiser's: a step counter k (float64, the steps taken, for τ_k) and a copy of the online network's
// parameters (the predictor's excepted), which the step updates by EMA. Being state, they are checkpointed and
// restored with it.
func (s *Stepper) useMethod(m Method) {
	s.method = m
	if !m.HasTarget() {
		return
	}
	s.State = append(s.State, tensors.FromScalar(float64(0)))
	for i := range s.baseParams() {
		s.State = append(s.State, hostTensor(s.DType, flat64(s.Params[i]), s.Params[i].Shape().Dimensions))
	}
}

// baseParams is the number of parameters of the network the target copies: all but the predictor's.
func (s *Stepper) baseParams() int {
	if w, ok := s.Model.(models.WithPredictor); ok {
		return w.Base()
	}
	return len(s.Params)
}

// optState returns the optimiser's part of the step's state inputs: the target's follows it.
func (s *Stepper) optState(state []*graph.Node) []*graph.Node {
	if !s.method.HasTarget() {
		return state
	}
	return state[:len(state)-1-s.baseParams()]
}

// stateName is the checkpoint name of state tensor i: "state/i" for the optimiser's, "target/step" and
// "target/<parameter>" for the target network's.
func (s *Stepper) stateName(i int) string {
	if !s.method.HasTarget() {
		return fmt.Sprintf("state/%d", i)
	}
	first := len(s.State) - 1 - s.baseParams()
	switch {
	case i < first:
		return fmt.Sprintf("state/%d", i)
	case i == first:
		return "target/step"
	}
	return "target/" + s.Model.Params()[i-first-1].Name
}

// targetPass is what the loss of a method with a target leaves for the update after the optimiser's: the
// target's state inputs and the batch-norm statistics of its forward pass.
type targetPass struct {
	state []*graph.Node // k, then the target parameters
	stats map[int]*graph.Node
}

// methodLoss is the objective of a method other than SimCLR on the online forward pass fwd of the views.
// Methods with a target run it on the same views (batch statistics of the batch, as the online network) and
// predict its latents with the online predictor. What the metrics' loss_align and loss_unif hold:
//
//	vicreg: λ·s (invariance) and μ·(v+v') + ν·(c+c') (variance and covariance)
//	barlow: Σ(1 − C_ii)² and λ Σ_{i≠j} C_ij²
//	byol, mocov3: the loss and 0
func (s *Stepper) methodLoss(params, state []*graph.Node, views *graph.Node, fwd models.Output) (losses.Terms, targetPass) {
	z := fwd.Z
	zero := graph.ScalarZero(z.Graph(), z.DType())
	m := s.method
	switch m.Name {
	case MethodVICReg:
		t := losses.VICReg(z, m.VICReg)
		unif := graph.Add(graph.MulScalar(t.Variance, m.VICReg.Variance), graph.MulScalar(t.Covariance, m.VICReg.Covariance))
		return losses.Terms{Loss: t.Loss, Align: graph.MulScalar(t.Invariance, m.VICReg.Invariance), Unif: unif}, targetPass{}
	case MethodBarlow:
		t := losses.Barlow(z, m.Barlow)
		return losses.Terms{Loss: t.Loss, Align: t.OnDiagonal, Unif: graph.MulScalar(t.OffDiagonal, m.Barlow.Lambda)}, targetPass{}
	}
	tgt := targetPass{state: state[len(state)-1-s.baseParams():]}
	tf := s.forward(tgt.state[1:], views) // the target network: no gradient reaches it (the losses stop it)
	tgt.stats = tf.Stats
	p := z // --no-predictor: the online latents predict the target's
	if w, ok := s.Model.(models.WithPredictor); ok {
		p = w.Predict(params, z)
	}
	var loss *graph.Node
	if m.Name == MethodBYOL {
		loss = losses.BYOL(p, tf.Z)
	} else {
		loss = losses.MoCoV3(p, tf.Z, m.Temperature)
	}
	return losses.Terms{Loss: loss, Align: loss, Unif: zero}, tgt
}

// updateTarget returns the target's new state after the online update to newParams: k + 1 and, with
// τ_k = losses.MomentumTau(k, K, τ_base) (Grill et al. 2020, §3.2),
//
//	ξ ← τ_k ξ + (1 − τ_k) θ   for the trainable parameters,
//
// the batch-norm running averages of the target's own forward pass, and the other (frozen) parameters as
// they are. Nothing for a method without a target.
func (s *Stepper) updateTarget(tgt targetPass, newParams []*graph.Node) []*graph.Node {
	if !s.method.HasTarget() {
		return nil
	}
	k, xi := tgt.state[0], tgt.state[1:]
	tau := losses.MomentumTau(k, s.method.Steps, s.method.TauBase)
	out := []*graph.Node{graph.OnePlus(k)}
	for i, x := range xi {
		switch {
		case tgt.stats[i] != nil:
			out = append(out, tgt.stats[i])
		case s.trainable[i]:
			out = append(out, losses.EMA([]*graph.Node{x}, []*graph.Node{newParams[i]}, tau)[0])
		default:
			out = append(out, x)
		}
	}
	return out
}

// TargetValues copies the target network's parameters to the host as float64 slices, in the order of the
// wrapped model's parameters, and the step counter k; nil without a target.
func (s *Stepper) TargetValues() (k float64, values [][]float64) {
	if !s.method.HasTarget() {
		return 0, nil
	}
	first := len(s.State) - 1 - s.baseParams()
	for _, t := range s.State[first+1:] {
		values = append(values, flat64(t))
	}
	return flat64(s.State[first])[0], values
}

// ExportTarget is ExportRun for the target (momentum) network of a --method byol or mocov3 run: its
// parameters replace the online encoder's (the predictor is never exported), by default into
// dir/encoder-target.FORMAT.
func ExportTarget(dir string, step int, format, out string, log io.Writer) ([]string, error) {
	return exportRun(dir, step, format, out, true, log)
}

// targetValues reads the target network's parameters from the run's checkpoint, as float64 slices.
func (r *OpenedRun) targetValues() ([][]float64, error) {
	ts, err := checkpoint.Read(r.path, nil)
	if err != nil {
		return nil, err
	}
	target, err := checkpointTarget(r.Model, r.DType, ts)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(target))
	for i, t := range target {
		out[i] = flat64(t)
	}
	return out, nil
}

// checkpointTarget returns the target network's parameters of a checkpoint ("target/<name>" entries) for the
// parameters of m that the target copies (a predictor's excepted), checked in name, shape and dtype dt.
func checkpointTarget(m models.Model, dt dtypes.DType, ts []checkpoint.Tensor) ([]*tensors.Tensor, error) {
	specs := m.Params()
	if w, ok := m.(models.WithPredictor); ok {
		specs = specs[:w.Base()]
	}
	byName := map[string]checkpoint.Tensor{}
	for _, t := range ts {
		byName[t.Name] = t
	}
	var out []*tensors.Tensor
	for _, p := range specs {
		t, ok := byName["target/"+p.Name]
		if !ok {
			return nil, usagef("the checkpoint has no target network (target/%s): --target is for --method byol or mocov3 runs", p.Name)
		}
		if fmt.Sprint(normDims(t.Dims)) != fmt.Sprint(normDims(p.Dims)) || (t.F32 != nil) != (dt == dtypes.Float32) {
			return nil, fmt.Errorf("checkpoint tensor target/%s is %v, this model needs %v in %s", p.Name, t.Dims, p.Dims, dt)
		}
		out = append(out, fromCkpt(t))
	}
	return out, nil
}
