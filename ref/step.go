package ref

import (
	"fmt"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/recipe"
)

// Encoder is the MLP of arch with an optional projection head (Head.Out == 0: none), the twin of
// models.Encoder: same parameter order and the same seeds.
type Encoder struct {
	MLP  arch.MLP
	Head arch.Head
}

// Params lists the MLP's parameters followed by the head's.
func (e Encoder) Params() []arch.Param {
	ps := e.MLP.Params()
	if e.Head.Out > 0 {
		ps = append(ps, e.Head.Params()...)
	}
	return ps
}

// Init draws the MLP's initial values from seed and the head's from seed+1, as models.Encoder does.
func (e Encoder) Init(seed uint64) [][]float64 {
	vs := e.MLP.Init(seed)
	if e.Head.Out > 0 {
		vs = append(vs, e.Head.Init(seed+1)...)
	}
	return vs
}

// Optimiser names, package recipe's (ref.SGD and ref.Adam are the update functions).
const (
	OptimizerSGD  = recipe.SGD
	OptimizerAdam = recipe.Adam
)

// Trainer holds what one SimCLR training step reads and updates: the network, the loss, the optimiser, the
// parameters and the optimiser's state.
type Trainer[T Float] struct {
	Encoder   Encoder
	Loss      LossConfig
	Optimizer string // OptimizerSGD or OptimizerAdam
	LR        float64
	Params    [][]T  // in Encoder.Params() order; updated in place by Step
	Trainable []bool // from Encoder.Params()
	Adam      *AdamState[T]
}

// NewTrainer returns a Trainer whose parameters are enc.Init(seed) converted to T. It panics if enc is
// invalid, the head does not fit the MLP's output, or the optimiser is unknown.
func NewTrainer[T Float](enc Encoder, seed uint64, loss LossConfig, optimizer string, lr float64) *Trainer[T] {
	if err := enc.MLP.Validate(); err != nil {
		panic(fmt.Sprintf("ref: NewTrainer: %v", err))
	}
	if enc.Head.Out > 0 && enc.Head.In != enc.MLP.Out {
		panic(fmt.Sprintf("ref: NewTrainer: head input %d ≠ MLP output %d", enc.Head.In, enc.MLP.Out))
	}
	if optimizer != OptimizerSGD && optimizer != OptimizerAdam {
		panic(fmt.Sprintf("ref: NewTrainer: unknown optimizer %q", optimizer))
	}
	t := &Trainer[T]{Encoder: enc, Loss: loss, Optimizer: optimizer, LR: lr, Params: ConvertParams[T](enc.Init(seed))}
	for _, p := range enc.Params() {
		t.Trainable = append(t.Trainable, p.Trainable)
	}
	if optimizer == OptimizerAdam {
		t.Adam = NewAdamState(t.Params, t.Trainable)
	}
	return t
}

// Forward returns the caches of the MLP and (nil without one) of the head, and the latents z [2N, k] the loss
// sees: the head's output, or the MLP's.
func (t *Trainer[T]) Forward(x []T, n2 int) (mc *MLPCache[T], hc *HeadCache[T], z []T, k int) {
	e, nm := t.Encoder, len(t.Encoder.MLP.Params())
	mc = MLPForward(e.MLP, t.Params[:nm], x, n2)
	if e.Head.Out == 0 {
		return mc, nil, mc.Out, e.MLP.Out
	}
	hc = HeadForward(e.Head, t.Params[nm:], mc.Out, n2)
	return mc, hc, hc.Out, e.Head.Out
}

// Step runs one training step on the 2N views x [2N, In] (rows i and i+N are the two views of example i):
// forward, loss, backward, optimiser update of the trainable parameters. It returns the loss before the
// update. The backward skips ∂L/∂x, as autodiff of a step does for inputs that are not variables.
func (t *Trainer[T]) Step(x []T, n2 int) float64 {
	mc, hc, z, k := t.Forward(x, n2)
	r := Loss(z, n2, k, t.Loss)
	dz := r.DZ
	var dHead [][]T
	if hc != nil {
		dHead, dz = HeadBackward(hc, dz)
	}
	grads, _ := mlpBackward(mc, dz, false)
	grads = append(grads, dHead...)
	if t.Optimizer == OptimizerAdam {
		Adam(t.Params, grads, t.Trainable, t.LR, t.Adam)
	} else {
		SGD(t.Params, grads, t.Trainable, t.LR)
	}
	return r.Loss
}
