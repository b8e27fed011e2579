package arch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Activation names accepted by MLP.Activation.
const (
	ReLU      = "relu"
	LeakyReLU = "leaky_relu" // slope LeakySlope for x < 0
	Tanh      = "tanh"
	GELU      = "gelu" // exact: x·Φ(x) with Φ the normal CDF (erf form)
	Softplus  = "softplus"
	Identity  = "identity"
)

// LeakySlope is the negative-side slope of LeakyReLU (the authors' later code uses 0.2).
const LeakySlope = 0.2

// Activations lists the valid activation names, in the order help texts show them.
var Activations = []string{ReLU, LeakyReLU, Tanh, GELU, Softplus}

// Output scalings α_m accepted by MLP.Scaling.
const (
	ScalingStandard  = "standard"   // α_m = 1, output weights N(0, 1/m)
	ScalingNTK       = "ntk"        // α_m = 1/√m, output weights N(0, 1)
	ScalingMeanField = "mean-field" // α_m = 1/m, output weights N(0, 1)
)

// Scalings lists the valid scaling names.
var Scalings = []string{ScalingStandard, ScalingNTK, ScalingMeanField}

// Trainable parameter groups accepted by MLP.Trainable.
const (
	TrainInner = "inner" // hidden weights and biases
	TrainOuter = "outer" // output weights A
	TrainBoth  = "both"
)

// Trainables lists the valid trainable-group names.
var Trainables = []string{TrainBoth, TrainInner, TrainOuter}

// Param is one parameter tensor of a network.
type Param struct {
	Name      string // stable, snake_case: part of the checkpoint format, e.g. "hidden_0/weights"
	Dims      []int
	Trainable bool
	// Statistic marks a non-trainable statistic the training step updates (a batch-norm running mean or
	// variance): mixed precision keeps it in the master dtype, where its small updates are not rounded away.
	Statistic bool
}

// Size is the number of scalars in the parameter.
func (p Param) Size() int {
	n := 1
	for _, d := range p.Dims {
		n *= d
	}
	return n
}

// MLP describes the fully connected encoder: L = Depth hidden layers of Width units, then a linear output of
// dimension Out, optionally normalised onto the unit sphere. Depth = 1 is the paper's one-hidden-layer network.
type MLP struct {
	In, Width, Depth, Out int
	Activation            string
	Scaling               string
	Trainable             string
	Normalize             bool
	// Multipliers: when false the hidden layers use the standard parameterisation (c_l = 1, weights drawn
	// N(0, 2/fan_in) for ReLU-like σ, N(0, 1/fan_in) otherwise) instead of the NTK one. The output scaling α_m
	// still applies.
	StandardHidden bool
}

// Validate reports the first invalid field, naming it.
func (a MLP) Validate() error {
	switch {
	case a.In < 1:
		return fmt.Errorf("arch: input dimension must be ≥ 1, got %d", a.In)
	case a.Width < 1:
		return fmt.Errorf("arch: width must be ≥ 1, got %d", a.Width)
	case a.Depth < 1:
		return fmt.Errorf("arch: depth must be ≥ 1, got %d", a.Depth)
	case a.Out < 1:
		return fmt.Errorf("arch: latent dimension must be ≥ 1, got %d", a.Out)
	case !slices.Contains(Activations, a.Activation) && a.Activation != Identity:
		return fmt.Errorf("arch: activation must be one of %v, got %q", Activations, a.Activation)
	case !slices.Contains(Scalings, a.Scaling):
		return fmt.Errorf("arch: scaling must be one of %v, got %q", Scalings, a.Scaling)
	case !slices.Contains(Trainables, a.Trainable):
		return fmt.Errorf("arch: trainable must be one of %v, got %q", Trainables, a.Trainable)
	}
	return nil
}

// Params lists the parameters in their fixed order: for each hidden layer l its weights [d_{l-1}, m] and bias
// [m], then the output weights [m, k].
func (a MLP) Params() []Param {
	inner := a.Trainable != TrainOuter
	outer := a.Trainable != TrainInner
	var ps []Param
	fanIn := a.In
	for l := range a.Depth {
		ps = append(ps,
			Param{Name: fmt.Sprintf("hidden_%d/weights", l), Dims: []int{fanIn, a.Width}, Trainable: inner},
			Param{Name: fmt.Sprintf("hidden_%d/bias", l), Dims: []int{a.Width}, Trainable: inner})
		fanIn = a.Width
	}
	return append(ps, Param{Name: "output/weights", Dims: []int{a.Width, a.Out}, Trainable: outer})
}

// HiddenMultiplier is c_l for hidden layer l (0-based): 1/√fan_in under the NTK parameterisation.
func (a MLP) HiddenMultiplier(l int) float64 {
	if a.StandardHidden {
		return 1
	}
	if l == 0 {
		return 1 / math.Sqrt(float64(a.In))
	}
	return 1 / math.Sqrt(float64(a.Width))
}

// OutputMultiplier is α_m.
func (a MLP) OutputMultiplier() float64 {
	switch a.Scaling {
	case ScalingNTK:
		return 1 / math.Sqrt(float64(a.Width))
	case ScalingMeanField:
		return 1 / float64(a.Width)
	}
	return 1
}

// Init draws the initial parameters from seed, in the order of Params, as float64 (row-major).
// Hidden weights N(0,1) (NTK) or He/LeCun normal (standard), biases N(0, 0.1²), output weights N(0,1)
// (ntk, mean-field) or N(0, 1/m) (standard).
func (a MLP) Init(seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 0x5eed_a7c4))
	ps := a.Params()
	out := make([][]float64, len(ps))
	for i, p := range ps {
		std := 1.0
		switch {
		case p.Name == "output/weights":
			if a.Scaling == ScalingStandard {
				std = 1 / math.Sqrt(float64(a.Width))
			}
		case len(p.Dims) == 1: // bias
			std = 0.1
		case a.StandardHidden:
			gain := 1.0
			if a.Activation == ReLU || a.Activation == LeakyReLU || a.Activation == GELU {
				gain = 2
			}
			std = math.Sqrt(gain / float64(p.Dims[0]))
		}
		out[i] = Normal(r, p.Size(), std)
	}
	return out
}

// Normal returns n draws of N(0, std²) from r.
func Normal(r *rand.Rand, n int, std float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64() * std
	}
	return v
}
