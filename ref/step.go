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
func (e Encoder) Params() []arch.Param { return withHead(e.MLP.Params(), e.Head) }

// Init draws the MLP's initial values from seed and the head's from seed+1, as models.Encoder does.
func (e Encoder) Init(seed uint64) [][]float64 { return initHead(e.MLP.Init(seed), e.Head, seed) }

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
	if err := checkOptimizer(optimizer); err != nil {
		panic(fmt.Sprintf("ref: NewTrainer: %v", err))
	}
	t := &Trainer[T]{Encoder: enc, Loss: loss, Optimizer: optimizer, LR: lr}
	t.Params, t.Trainable, t.Adam = trainState[T](enc.Params(), enc.Init(seed), optimizer)
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
	loss, dHead, dz := lossThroughHead(z, n2, k, t.Loss, hc)
	grads, _ := mlpBackward(mc, dz, false)
	update(t.Optimizer, t.Params, append(grads, dHead...), t.Trainable, t.LR, t.Adam)
	return loss
}

// checkOptimizer reports an optimiser that the trainers do not implement.
func checkOptimizer(optimizer string) error {
	if optimizer != OptimizerSGD && optimizer != OptimizerAdam {
		return fmt.Errorf("unknown optimizer %q", optimizer)
	}
	return nil
}

// trainState returns a trainer's initial state: the values init converted to T, the trainable flag of each
// parameter of ps, and for Adam a fresh state (nil for SGD).
func trainState[T Float](ps []arch.Param, init [][]float64, optimizer string) (
	params [][]T, trainable []bool, adam *AdamState[T]) {
	params = ConvertParams[T](init)
	for _, p := range ps {
		trainable = append(trainable, p.Trainable)
	}
	if optimizer == OptimizerAdam {
		adam = NewAdamState(params, trainable)
	}
	return params, trainable, adam
}

// lossThroughHead evaluates the loss on the latents z [2N, k] and differentiates it back through the head
// whose cache is hc (nil: no head, z is the encoder's output). It returns the loss, the head's gradients
// and ∂L/∂(the head's input), which is ∂L/∂z without a head.
func lossThroughHead[T Float](z []T, n2, k int, cfg LossConfig, hc *HeadCache[T]) (loss float64, dHead [][]T, dIn []T) {
	r := Loss(z, n2, k, cfg)
	dIn = r.DZ
	if hc != nil {
		dHead, dIn = HeadBackward(hc, dIn)
	}
	return r.Loss, dHead, dIn
}

// update applies one step of the named optimiser (SGD or Adam) to the trainable params.
func update[T Float](optimizer string, params, grads [][]T, trainable []bool, lr float64, adam *AdamState[T]) {
	if optimizer == OptimizerAdam {
		Adam(params, grads, trainable, lr, adam)
		return
	}
	SGD(params, grads, trainable, lr)
}
