package experiments

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/internal/hostmath"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/train"
)

// trainee is one model trained full-batch on a fixed data set: a network or the particles.
type trainee struct {
	name  string
	model models.Model
	input *tensors.Tensor // the full batch fed to every step
	clean *tensors.Tensor // what the recorded latents are of: the unaugmented data (or the particles' indices)
	views train.ViewsFn   // nil: both views are the input (particles)
	opt   optim.Optimizer
	// raw, if not nil, is model without its output normalisation (same parameters): OutNorm is measured on it.
	raw models.Model
}

// errStopped ends a run that runCfg.stop ended: not a failure.
var errStopped = errors.New("stopped: event decided")

// errNotFinite is the error of a run whose loss or gradient stopped being finite (a divergence).
var errNotFinite = errors.New("loss or gradient not finite")

// runCfg says how long to train and what to record.
type runCfg struct {
	steps, logEvery int
	// denseUntil, if > 0, logs every denseEvery steps before it as well (a fast start, then logEvery).
	denseUntil, denseEvery int
	loss                   losses.Config
	seed                   uint64
	snapshots              []int // steps whose latents are kept
	keepAll                bool  // keep the latents of every logged step (trajectory plots)
	labels                 []int
	classes, k             int
	sphere                 bool
	metrics                bool // compute Geometry at logged steps (else only the loss)
	silOnly                bool // without metrics: the silhouette alone (the sweeps' statistic; the probe is the costly one)
	// observe, if not nil, sees the parameters of every logged step t before its update (the NTK's kernel).
	observe func(t int, params [][]float64)
	// stop, if not nil, ends the run after a logged step for which it returns true (an event already decided).
	stop func(steps []int, rows []Geometry) bool
	// effStep: measure the effective step of every logged step (effectiveStep), from the latents of the step
	// after it.
	effStep bool
}

// trajectory is what a run records.
type trajectory struct {
	steps   []int
	rows    []Geometry
	latents map[int][]float64 // step → latents [N·k], for snapshots (and every logged step with keepAll)
	seconds float64
	final   [][]float64 // final parameters
	// eff is the effective step of each logged step (runCfg.effStep), NaN where the run ended before the next step.
	eff []float64
}

func (c runCfg) logged(t int) bool {
	if t < c.denseUntil && t%c.denseEvery == 0 {
		return true
	}
	return t == 0 || t%c.logEvery == 0 || t == c.steps || slices.Contains(c.snapshots, t)
}

// run trains tr for c.steps SGD/Adam steps with train.Loop and records the metrics of its latent points: at a
// logged step t, the latents of the clean data at the parameters of step t (the featurizer graph, evaluation
// mode) and the loss of step t's update.
func run(b compute.Backend, tr trainee, c runCfg) (*trajectory, error) {
	s := train.Setup{Model: tr.model, Views: tr.views, Opt: tr.opt, Loss: c.loss, Seed: c.seed, Backend: b, DType: dtypes.Float32}
	st, err := s.Stepper()
	if err != nil {
		return nil, fmt.Errorf("experiments: %s: %w", tr.name, err)
	}
	feats := s.Featurizer(st.Params)
	var rawFeats *train.Featurizer
	if tr.raw != nil {
		rs := s
		rs.Model = tr.raw
		rawFeats = rs.Featurizer(st.Params)
	}
	out := &trajectory{latents: map[int][]float64{}}
	n := len(c.labels)
	var z []float64 // the latents of the step being taken, when it is logged
	var outNorm float64
	latentGrad := latentGradient(b, c.loss)
	var prevZ, prevG []float64 // latents and host gradient of the last logged step, until the next step measures its effective step
	loop := train.Loop{Stepper: st, First: 0, Last: c.steps,
		Batch: func(int) (*tensors.Tensor, error) { return tr.input, nil },
		Before: func(t int) (err error) {
			z = nil
			if prevZ != nil { // the step after a logged one: its latents give that step's effective step
				_, z1, err := feats.Latents(tr.clean)
				if err != nil {
					return err
				}
				out.eff[len(out.eff)-1] = effectiveStep(prevZ, z1, prevG, c.k)
				prevZ, prevG = nil, nil
				if c.logged(t) {
					z = z1
				}
			}
			if !c.logged(t) {
				return nil
			}
			if c.observe != nil {
				c.observe(t, st.ParamValues())
			}
			if z == nil {
				if _, z, err = feats.Latents(tr.clean); err != nil {
					return err
				}
			}
			if c.effStep {
				g, err := latentGrad(z, n, c.k)
				if err != nil {
					return err
				}
				prevZ, prevG = z, g
			}
			if rawFeats == nil {
				outNorm = meanRowNorm(z, c.k)
				return nil
			}
			_, g, err := rawFeats.Latents(tr.clean)
			outNorm = meanRowNorm(g, c.k)
			return err
		},
		After: func(t int, r train.StepResult) error {
			if z == nil {
				return nil
			}
			g := Geometry{Loss: r.Loss, Spread: math.NaN(), MinSep: math.NaN(), Silhouette: math.NaN(), Probe: math.NaN(), Uniformity: math.NaN()}
			switch set := (latentSet{Z: z, N: n, K: c.k, Labels: c.labels, C: c.classes, Sphere: c.sphere}); {
			case c.metrics:
				g = Measure(set, r.Loss)
			case c.silOnly:
				g.Silhouette = Silhouette(set)
			}
			g.OutNorm = outNorm
			out.steps = append(out.steps, t)
			out.rows = append(out.rows, g)
			if c.effStep {
				out.eff = append(out.eff, math.NaN())
			}
			if c.keepAll || slices.Contains(c.snapshots, t) {
				out.latents[t] = z
			}
			if !r.Finite {
				return fmt.Errorf("%w at step %d; lower the learning rate", errNotFinite, t)
			}
			if c.stop != nil && c.stop(out.steps, out.rows) {
				return errStopped
			}
			return nil
		}}
	start := time.Now()
	if err := loop.Run(); err != nil && !errors.Is(err, errStopped) {
		return out, fmt.Errorf("experiments: %s: %w", tr.name, err)
	}
	out.seconds = time.Since(start).Seconds()
	out.final = st.ParamValues()
	return out, nil
}

// pointsTensor returns x [n, d] as a float32 tensor.
func pointsTensor(x []float64, n, d int) *tensors.Tensor {
	f := make([]float32, len(x))
	for i, v := range x {
		f[i] = float32(v)
	}
	return tensors.FromFlatDataAndDimensions(f, n, d)
}

// indexTensor returns 0…n−1 as int32, the input of the particle model.
func indexTensor(n int) *tensors.Tensor {
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(i)
	}
	return tensors.FromFlatDataAndDimensions(v, n)
}

// vectorViews returns the views function of a vector augmentation: two independent draws of spec.
func vectorViews(spec augment.VectorSpec) train.ViewsFn {
	return func(rng, x *graph.Node) (*graph.Node, *graph.Node) {
		bsz, d := x.Shape().Dimensions[0], x.Shape().Dimensions[1]
		rng, p1 := spec.Sample(rng, bsz, d, x.DType())
		rng, p2 := spec.Sample(rng, bsz, d, x.DType())
		return rng, graph.Concatenate([]*graph.Node{spec.Apply(x, p1), spec.Apply(x, p2)}, 0)
	}
}

// mlpTrainee trains the MLP a (no head) on the points x [n, a.In] with the vector augmentation spec.
func mlpTrainee(name string, a arch.MLP, x []float64, n int, spec augment.VectorSpec, opt optim.Optimizer) trainee {
	in := pointsTensor(x, n, a.In)
	raw := a
	raw.Normalize = false
	return trainee{name: name, model: models.Encoder{Body: models.MLPBody{MLP: a}}, input: in, clean: in, views: vectorViews(spec), opt: opt,
		raw: models.Encoder{Body: models.MLPBody{MLP: raw}}}
}

// particleTrainee optimises the n latent points directly, starting from start [n·k] (projected on the sphere).
func particleTrainee(start []float64, n, k int, opt optim.Optimizer) trainee {
	idx := indexTensor(n)
	return trainee{name: "particles", model: models.Particle{N: n, K: k, Start: start}, input: idx, clean: idx, opt: opt}
}

// initialLatents is the latent embedding of the batch x by model m with the parameters that train.NewStepper
// draws from seed, computed by the featurizer graph on b.
func initialLatents(b compute.Backend, m models.Model, x *tensors.Tensor, seed uint64) ([]float64, error) {
	var params []*tensors.Tensor
	specs := m.Params()
	for i, v := range m.Init(seed) {
		f := make([]float32, len(v))
		for j, x := range v {
			f[j] = float32(x)
		}
		params = append(params, tensors.FromFlatDataAndDimensions(f, specs[i].Dims...))
	}
	s := train.Setup{Model: m, Backend: b, DType: dtypes.Float32}
	_, z, err := s.Featurizer(params).Latents(x)
	return z, err
}

// meanRowNorm is the mean Euclidean norm of the rows of z [n·k].
func meanRowNorm(z []float64, k int) float64 {
	var sum float64
	for i := 0; i+k <= len(z); i += k {
		sum += math.Sqrt(hostmath.Dot(z[i:i+k], z[i:i+k]))
	}
	return sum / float64(len(z)/k)
}
