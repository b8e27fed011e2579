package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/ref"
	"github.com/gosimclr/gosimclr/train"
)

// benchTemperature is the loss temperature τ of every bench workload, graph and reference alike (our choice,
// not a value from a paper).
const benchTemperature = 0.5

// uniform returns n draws of U[0,1) from seed, as float32.
func uniform(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()
	}
	return v
}

// stepperStep returns one training step of model with optimiser opt (a recipe name) and NT-Xent at
// benchTemperature on the views x [2N, dims…] (identity views: the benchmark times the step, not the data
// pipeline), data parallel over o.Devices, its model's passes in o.Compute (float32 parameters and loss).
func stepperStep(b compute.Backend, o StepOptions, model models.Model, opt string, x *tensors.Tensor) (func() error, error) {
	identity := func(rng, x *graph.Node) (*graph.Node, *graph.Node) { return rng, x }
	s := train.Setup{Model: model, Views: identity, Opt: optim.Optimizer{Name: opt, LR: 1e-3},
		Loss: losses.Config{Kernel: losses.KernelExp, Temperature: benchTemperature}, Seed: 1, Backend: b,
		DType: dtypes.Float32, Compute: o.Compute}
	st, err := s.Stepper()
	if err == nil && o.Devices > 1 {
		err = st.Distribute(o.Devices)
	}
	if err != nil {
		return nil, err
	}
	return func() error {
		r, err := st.Step(x)
		if err == nil && !r.Finite {
			err = fmt.Errorf("bench: loss or gradient not finite")
		}
		return err
	}, nil
}

// mlpFLOPs counts one MLP training step (multiply-add = 2) for B views, d → m (L layers) → k:
//
//	forward  2B(d·m + (L−1)m² + m·k) + 2B²k        (layers, then the similarity matrix u uᵀ)
//	backward 2B(d·m + (L−1)m² + m·k)               (weight gradients)
//	       + 2B((L−1)m² + m·k)                     (input gradients, none for the data)
//	       + 2B²k                                  ((G+Gᵀ)u for the similarity matrix)
//
// Element-wise work (activations, normalisation, softmax, the optimiser) is left out: it is O(B·m + B² + P).
func mlpFLOPs(b, d, m, k, l float64) float64 {
	layers := d*m + (l-1)*m*m + m*k
	return 2*b*layers*2 + 2*b*((l-1)*m*m+m*k) + 2*(2*b*b*k)
}

// MLPCase is an MLP encoder step: d → m (L hidden layers, ReLU) → k, L2-normalised, NT-Xent over 2·pairs
// views, τ = benchTemperature, with opt (recipe.Adam or recipe.SGD). name is the workload name ("mlp",
// "onehidden", "depth").
func MLPCase(name string, d, m, l, k, pairs int, opt string, scaling string) Case {
	a := arch.MLP{In: d, Width: m, Depth: l, Out: k, Activation: arch.ReLU, Scaling: scaling,
		Trainable: arch.TrainBoth, Normalize: true, StandardHidden: scaling == arch.ScalingStandard}
	views := 2 * pairs
	x := uniform(2, views*d)
	c := Case{Workload: name, Pairs: pairs, Latent: k, Width: m, Depth: l, Views: views, Samples: views,
		FLOPs: mlpFLOPs(float64(views), float64(d), float64(m), float64(k), float64(l))}
	c.GoMLX = func(b compute.Backend, o StepOptions) (func() error, error) {
		return stepperStep(b, o, models.Encoder{Body: models.MLPBody{MLP: a}}, opt, tensors.FromFlatDataAndDimensions(x, views, d))
	}
	c.Ref = func() (func() error, error) {
		tr := ref.NewTrainer[float32](ref.Encoder{MLP: a}, 1, ref.LossConfig{Kernel: ref.KernelExp, Temperature: benchTemperature}, opt, 1e-3)
		return func() error {
			if l := tr.Step(x, views); l != l {
				return fmt.Errorf("bench: reference loss is NaN")
			}
			return nil
		}, nil
	}
	return c
}

// LossCase is NT-Xent forward and backward alone on z [2·pairs, k]: 2·(2N)²k for u uᵀ and as much for its
// gradient.
func LossCase(pairs, k int) Case {
	n2 := 2 * pairs
	z := uniform(3, n2*k)
	for i := range z {
		z[i] -= 0.5
	}
	c := Case{Workload: "loss", Pairs: pairs, Latent: k, Views: n2, Samples: n2, FLOPs: 4 * float64(n2) * float64(n2) * float64(k)}
	c.GoMLX = func(b compute.Backend, o StepOptions) (func() error, error) {
		if !o.plain() {
			return nil, errOneDevice("loss")
		}
		e, err := graph.NewExec(b, func(z *graph.Node) (*graph.Node, *graph.Node) {
			l := losses.InfoNCE(z, benchTemperature)
			return l, graph.Gradient(l, z)[0]
		})
		if err != nil {
			return nil, err
		}
		zt := tensors.FromFlatDataAndDimensions(z, n2, k)
		return func() error {
			outs, err := e.Call(zt)
			if err != nil {
				return err
			}
			_ = outs[0].Value() // wait for the result: an accelerator runs asynchronously
			for _, o := range outs {
				o.FinalizeAll()
			}
			return nil
		}, nil
	}
	c.Ref = func() (func() error, error) {
		return func() error { ref.InfoNCE(z, n2, k, benchTemperature); return nil }, nil
	}
	return c
}

// ErrOneDevice is the error of a workload that is not a training step asked to run on several devices or in
// bfloat16 (StepOptions): Run skips it.
var ErrOneDevice = errors.New("a one-device float32 workload; --devices and --dtype apply to the training steps (onehidden, mlp, cnn, resnet18)")

func errOneDevice(workload string) error {
	return fmt.Errorf("the %s workload is %w", workload, ErrOneDevice)
}
