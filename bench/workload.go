package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

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

// Workload is one benchmarked training step: an MLP encoder (Depth hidden layers of Width) on 2·Pairs views of
// dimension In, latent LatentDim, NT-Xent with temperature Tau, and an optimiser.
type Workload struct {
	Name       string
	In         int
	Width      int
	Depth      int
	LatentDim  int
	Pairs      int
	Tau        float64
	Optimizer  string
	Activation string
}

// MLP is the core issue's workload: one Adam step of 784→512 (ReLU)→128, L2-normalised, NT-Xent over 2N = 512
// views, τ = 0.5.
func MLP() Workload {
	return Workload{Name: "mlp", In: 784, Width: 512, Depth: 1, LatentDim: 128, Pairs: 256, Tau: 0.5, Optimizer: optim.Adam, Activation: arch.ReLU}
}

// Arch is the workload's encoder (standard parameterisation, as in PyTorch's nn.Linear stack).
func (w Workload) Arch() arch.MLP {
	return arch.MLP{In: w.In, Width: w.Width, Depth: w.Depth, Out: w.LatentDim, Activation: w.Activation,
		Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth, Normalize: true, StandardHidden: true}
}

// FLOPs counts the floating-point operations of one step (multiply-add = 2), B = 2·Pairs views:
//
//	forward  2B(d·m + (L−1)m² + m·k) + 2B²k        (layers, then the similarity matrix u uᵀ)
//	backward 2B(d·m + (L−1)m² + m·k)               (weight gradients)
//	       + 2B((L−1)m² + m·k)                     (input gradients, none for the data)
//	       + 2B²k                                  ((G+Gᵀ)u for the similarity matrix)
//
// Element-wise work (activations, normalisation, softmax, the optimiser) is left out: it is O(B·m + B² + P).
func (w Workload) FLOPs() float64 {
	b, d, m, k, l := float64(2*w.Pairs), float64(w.In), float64(w.Width), float64(w.LatentDim), float64(w.Depth)
	layers := d*m + (l-1)*m*m + m*k
	return 2*b*layers*2 + 2*b*((l-1)*m*m+m*k) + 2*(2*b*b*k)
}

func (w Workload) result(backendName string) Result {
	return Result{Workload: w.Name, Backend: backendName, Pairs: w.Pairs, LatentDim: w.LatentDim, Width: w.Width,
		Depth: w.Depth, Views: 2 * w.Pairs}
}

// input draws the benchmark's views: [2N, In] uniform in [0,1), like pixel intensities.
func (w Workload) input(seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float64, 2*w.Pairs*w.In)
	for i := range v {
		v[i] = r.Float64()
	}
	return v
}

// gomlxStep returns a function running one step of the workload on backend b.
func (w Workload) gomlxStep(b compute.Backend) (func() error, error) {
	enc := models.Encoder{MLP: w.Arch()}
	identity := func(rng, x *graph.Node) (*graph.Node, *graph.Node) { return rng, x }
	st, err := train.NewStepper(b, enc, optim.Optimizer{Name: w.Optimizer, LR: 1e-3},
		losses.Config{Kernel: losses.KernelExp, Tau: w.Tau}, identity, dtypes.Float32, 1)
	if err != nil {
		return nil, err
	}
	xs := w.input(2)
	x32 := make([]float32, len(xs))
	for i, v := range xs {
		x32[i] = float32(v)
	}
	x := tensors.FromFlatDataAndDimensions(x32, 2*w.Pairs, w.In)
	return func() error {
		r, err := st.Step(x)
		if err == nil && !r.Finite {
			err = fmt.Errorf("bench: %s: loss or gradient not finite", w.Name)
		}
		return err
	}, nil
}

// RunGoMLX times the workload's step on backend b: one warm-up (compile) step, then steps timed steps.
func (w Workload) RunGoMLX(b compute.Backend, name string, steps int) (Result, error) {
	resetPeakRSS()
	step, err := w.gomlxStep(b)
	if err != nil {
		return Result{}, err
	}
	var first time.Duration
	times := make([]time.Duration, 0, steps)
	for i := range steps + 1 {
		t0 := time.Now()
		if err := step(); err != nil {
			return Result{}, fmt.Errorf("%w (%s, step %d)", err, name, i)
		}
		if i == 0 {
			first = time.Since(t0)
		} else {
			times = append(times, time.Since(t0))
		}
	}
	res := w.result(name)
	res.timing(first, times, w.FLOPs(), 2*w.Pairs)
	res.PeakRSSMB = peakRSSMB()
	res.Device = b.DeviceDescription(0)
	return res, nil
}

// RunReference times the workload's step on the pure-Go reference (ref.Trainer, float32), from the same
// initial parameters and input as RunGoMLX.
func (w Workload) RunReference(steps int) (Result, error) {
	resetPeakRSS()
	tr := ref.NewTrainer[float32](ref.Encoder{MLP: w.Arch()}, 1, ref.LossConfig{Kernel: ref.KernelExp, Tau: w.Tau}, w.Optimizer, 1e-3)
	xs := w.input(2)
	x := make([]float32, len(xs))
	for i, v := range xs {
		x[i] = float32(v)
	}
	var first time.Duration
	times := make([]time.Duration, 0, steps)
	for i := range steps + 1 {
		t0 := time.Now()
		if l := tr.Step(x, 2*w.Pairs); l != l {
			return Result{}, fmt.Errorf("bench: %s on the reference: loss is NaN at step %d", w.Name, i)
		}
		if i == 0 {
			first = time.Since(t0)
		} else {
			times = append(times, time.Since(t0))
		}
	}
	res := w.result("reference")
	res.timing(first, times, w.FLOPs(), 2*w.Pairs)
	res.PeakRSSMB = peakRSSMB()
	res.Device = fmt.Sprintf("pure Go, %d goroutines", runtime.GOMAXPROCS(0))
	return res, nil
}
