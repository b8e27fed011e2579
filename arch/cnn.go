package arch

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// CNN describes the small convolutional encoder for images of H×W×C (28×28×1 for MNIST): for each entry c of
// Channels a 3×3 convolution to c channels (stride 1, "same" zero padding, bias), ReLU and a 2×2 max-pool
// (stride 2; an odd row or column is dropped, as PyTorch's MaxPool2d does), then the maps are flattened in
// (h, w, c) order and a dense layer with ReLU gives the Dense features:
//
//	a_0 = x,  a_l = pool(relu(conv3×3(a_{l−1}, K_l) + b_l)),  h = relu(flatten(a_L) W + b)
//
// Weights are He-normal, N(0, 2/fan_in) with fan_in = 9·C_in for a convolution; biases start at zero.
type CNN struct {
	H, W, C  int
	Channels []int // default DefaultCNNChannels
	Dense    int   // default DefaultCNNDense
}

// Defaults of the small CNN (our choice, the common MNIST network of the Keras and PyTorch examples).
var (
	DefaultCNNChannels = []int{32, 64}
	DefaultCNNDense    = 256
)

// Validate reports the first invalid field.
func (a CNN) Validate() error {
	if a.H < 1 || a.W < 1 || a.C < 1 {
		return fmt.Errorf("arch: CNN image size must be ≥ 1, got %d×%d×%d", a.H, a.W, a.C)
	}
	if len(a.Channels) == 0 {
		return fmt.Errorf("arch: CNN needs at least one convolution")
	}
	for _, c := range a.Channels {
		if c < 1 {
			return fmt.Errorf("arch: CNN channels must be ≥ 1, got %v", a.Channels)
		}
	}
	if h, w := a.MapSize(len(a.Channels)); h < 1 || w < 1 {
		return fmt.Errorf("arch: a %d×%d image is too small for %d 2×2 pools", a.H, a.W, len(a.Channels))
	}
	if a.Dense < 1 {
		return fmt.Errorf("arch: CNN dense width must be ≥ 1, got %d", a.Dense)
	}
	return nil
}

// MapSize is the spatial size of the feature maps after l conv+pool stages: ⌊H/2^l⌋×⌊W/2^l⌋.
func (a CNN) MapSize(l int) (h, w int) { return a.H >> l, a.W >> l }

// Features is the dimension of the encoder's output h.
func (a CNN) Features() int { return a.Dense }

// Params lists, in order, "conv_l/weights" [3, 3, C_in, C_out] and "conv_l/bias" [C_out] for each convolution,
// then "dense/weights" [h·w·C_L, Dense] and "dense/bias" [Dense].
func (a CNN) Params() []Param {
	var ps []Param
	in := a.C
	for l, c := range a.Channels {
		ps = append(ps,
			Param{Name: fmt.Sprintf("conv_%d/weights", l), Dims: []int{3, 3, in, c}, Trainable: true},
			Param{Name: fmt.Sprintf("conv_%d/bias", l), Dims: []int{c}, Trainable: true})
		in = c
	}
	h, w := a.MapSize(len(a.Channels))
	return append(ps,
		Param{Name: "dense/weights", Dims: []int{h * w * in, a.Dense}, Trainable: true},
		Param{Name: "dense/bias", Dims: []int{a.Dense}, Trainable: true})
}

// Init draws the initial parameters from seed, in the order of Params: He-normal weights, zero biases.
func (a CNN) Init(seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 0xc22))
	ps := a.Params()
	out := make([][]float64, len(ps))
	for i, p := range ps {
		if len(p.Dims) == 1 {
			out[i] = make([]float64, p.Size())
			continue
		}
		fanIn := p.Size() / p.Dims[len(p.Dims)-1]
		out[i] = Normal(r, p.Size(), math.Sqrt(2/float64(fanIn)))
	}
	return out
}
