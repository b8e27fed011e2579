package experiments

import (
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
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/ref"
	"github.com/gosimclr/gosimclr/train"
)

// trainee is one model trained full-batch on a fixed data set: a network or the particles.
type trainee struct {
	name   string
	model  models.Model
	latent func(params [][]float64) []float64 // the latents of the clean data [N·k], on the host
	input  *tensors.Tensor                    // the full batch fed to every step
	views  train.ViewsFn                      // nil: both views are the input (particles)
	opt    optim.Optimizer
}

// runCfg says how long to train and what to record.
type runCfg struct {
	steps, logEvery int
	loss            losses.Config
	seed            uint64
	snapshots       []int // steps whose latents are kept
	keepAll         bool  // keep the latents of every logged step (trajectory plots)
	labels          []int
	classes, k      int
	sphere          bool
	metrics         bool // compute Geometry at logged steps (else only the loss)
}

// trajectory is what a run records.
type trajectory struct {
	steps   []int
	rows    []Geometry
	latents map[int][]float64 // step → latents [N·k], for snapshots (and every logged step with keepAll)
	seconds float64
	final   [][]float64 // final parameters
}

func (c runCfg) logged(t int) bool {
	return t == 0 || t%c.logEvery == 0 || t == c.steps || slices.Contains(c.snapshots, t)
}

// run trains tr for c.steps SGD/Adam steps and records the metrics of its latent points.
func run(b compute.Backend, tr trainee, c runCfg) (*trajectory, error) {
	st, err := train.NewStepper(b, tr.model, tr.opt, c.loss, tr.views, dtypes.Float32, c.seed)
	if err != nil {
		return nil, fmt.Errorf("experiments: %s: %w", tr.name, err)
	}
	out := &trajectory{latents: map[int][]float64{}}
	start := time.Now()
	n := len(c.labels)
	for t := 0; t <= c.steps; t++ {
		var z []float64
		if c.logged(t) {
			z = tr.latent(st.ParamValues())
		}
		r, err := st.Step(tr.input) // the loss at the parameters of step t, then the update to t+1
		if err != nil {
			return nil, fmt.Errorf("experiments: %s: step %d: %w", tr.name, t, err)
		}
		if z == nil {
			continue
		}
		g := Geometry{Loss: r.Loss, Spread: math.NaN(), MinSep: math.NaN(), Silhouette: math.NaN(), Probe: math.NaN(), Uniformity: math.NaN()}
		if c.metrics {
			g = Measure(latentSet{Z: z, N: n, K: c.k, Labels: c.labels, C: c.classes, Sphere: c.sphere}, r.Loss)
		}
		out.steps = append(out.steps, t)
		out.rows = append(out.rows, g)
		if c.keepAll || slices.Contains(c.snapshots, t) {
			out.latents[t] = z
		}
		if !r.Finite {
			return out, fmt.Errorf("experiments: %s: loss or gradient not finite at step %d; lower the learning rate", tr.name, t)
		}
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
	return trainee{
		name:   name,
		model:  models.Encoder{Body: models.MLPBody{MLP: a}},
		latent: func(p [][]float64) []float64 { return ref.MLPForward(a, p, x, n).Out },
		input:  pointsTensor(x, n, a.In),
		views:  vectorViews(spec),
		opt:    opt,
	}
}

// particleTrainee optimises the n latent points directly, starting from start [n·k] (projected on the sphere).
func particleTrainee(start []float64, n, k int, opt optim.Optimizer) trainee {
	return trainee{
		name:   "particles",
		model:  models.Particle{N: n, K: k, Start: start},
		latent: func(p [][]float64) []float64 { return append([]float64(nil), p[0]...) },
		input:  indexTensor(n),
		opt:    opt,
	}
}

// initialLatents is the latent embedding of x by the untrained MLP a drawn from seed (as train.NewStepper draws it).
func initialLatents(a arch.MLP, x []float64, n int, seed uint64) []float64 {
	return ref.MLPForward(a, a.Init(seed), x, n).Out
}
