package arch

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Head describes SimCLR's projection head (Chen et al. 2020, §2.1): a 2-layer MLP
//
//	p = relu(h W_1 + b_1) W_2 + b_2,   W_1 ∈ R^{In×Hidden}, W_2 ∈ R^{Hidden×Out}
//
// in the standard parameterisation (He-normal W_1, LeCun-normal W_2, zero biases). The loss is taken on p;
// evaluation uses the encoder's features h.
type Head struct {
	In, Hidden, Out int
}

// Validate reports the first invalid field.
func (h Head) Validate() error {
	if h.In < 1 || h.Hidden < 1 || h.Out < 1 {
		return fmt.Errorf("arch: projection head dimensions must be ≥ 1, got in=%d hidden=%d out=%d", h.In, h.Hidden, h.Out)
	}
	return nil
}

// Params lists the head's parameters in order: hidden weights, hidden bias, output weights, output bias.
func (h Head) Params() []Param {
	return []Param{
		{Name: "head/hidden/weights", Dims: []int{h.In, h.Hidden}, Trainable: true},
		{Name: "head/hidden/bias", Dims: []int{h.Hidden}, Trainable: true},
		{Name: "head/output/weights", Dims: []int{h.Hidden, h.Out}, Trainable: true},
		{Name: "head/output/bias", Dims: []int{h.Out}, Trainable: true},
	}
}

// Init draws the head's initial parameters from seed, in the order of Params.
func (h Head) Init(seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 0x4ead))
	return [][]float64{
		Normal(r, h.In*h.Hidden, math.Sqrt(2/float64(h.In))),
		make([]float64, h.Hidden),
		Normal(r, h.Hidden*h.Out, math.Sqrt(1/float64(h.Hidden))),
		make([]float64, h.Out),
	}
}
