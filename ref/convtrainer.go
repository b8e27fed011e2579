package ref

import (
	"fmt"

	"github.com/gosimclr/gosimclr/arch"
)

// CNNEncoder is the small CNN of arch with an optional projection head (Head.Out == 0: none), the twin of
// models.Encoder{Body: models.CNNBody{…}, Head: …}: same parameter order and seeds.
type CNNEncoder struct {
	CNN  arch.CNN
	Head arch.Head
}

// ResNetEncoder is ResNet-18 with an optional projection head (Head.Out == 0: none), the twin of
// models.Encoder{Body: models.ResNetBody{…}, Head: …}.
type ResNetEncoder struct {
	ResNet arch.ResNet18
	Head   arch.Head
}

// ConvModel is an image encoder that ConvTrainer trains: CNNEncoder or ResNetEncoder.
type ConvModel interface {
	Params() []arch.Param         // the encoder's parameters, then the head's
	Init(seed uint64) [][]float64 // the encoder's from seed, the head's from seed+1, as in models
	encoder() (params int, head arch.Head)
}

// Params lists the CNN's parameters followed by the head's.
func (e CNNEncoder) Params() []arch.Param { return withHead(e.CNN.Params(), e.Head) }

// Init draws the CNN's initial values from seed and the head's from seed+1, as models.Encoder does.
func (e CNNEncoder) Init(seed uint64) [][]float64 { return initHead(e.CNN.Init(seed), e.Head, seed) }

func (e CNNEncoder) encoder() (int, arch.Head) { return len(e.CNN.Params()), e.Head }

// Params lists the ResNet's parameters followed by the head's.
func (e ResNetEncoder) Params() []arch.Param { return withHead(e.ResNet.Params(), e.Head) }

// Init draws the ResNet's initial values from seed and the head's from seed+1, as models.Encoder does.
func (e ResNetEncoder) Init(seed uint64) [][]float64 {
	return initHead(e.ResNet.Init(seed), e.Head, seed)
}

func (e ResNetEncoder) encoder() (int, arch.Head) { return len(e.ResNet.Params()), e.Head }

func withHead(ps []arch.Param, h arch.Head) []arch.Param {
	if h.Out > 0 {
		ps = append(ps, h.Params()...)
	}
	return ps
}

func initHead(vs [][]float64, h arch.Head, seed uint64) [][]float64 {
	if h.Out > 0 {
		vs = append(vs, h.Init(seed+1)...)
	}
	return vs
}

// ConvTrainer is Trainer for image encoders: it holds the network, the loss, the optimiser, the parameters
// (running averages of batch norms included), the optimiser's state and the buffers one step reuses.
type ConvTrainer[T Float] struct {
	Model     ConvModel
	Loss      LossConfig
	Optimizer string // OptimizerSGD or OptimizerAdam
	LR        float64
	Params    [][]T  // in Model.Params() order; updated in place by Step
	Trainable []bool // from Model.Params()
	Adam      *AdamState[T]

	cnn    *CNNCache[T]
	resnet *ResNet18Cache[T]
}

// NewConvTrainer returns a ConvTrainer whose parameters are m.Init(seed) converted to T. It panics if m is
// invalid, the head does not take the encoder's features or the optimiser is unknown.
func NewConvTrainer[T Float](m ConvModel, seed uint64, loss LossConfig, optimizer string, lr float64) *ConvTrainer[T] {
	var err error
	var features int
	switch e := m.(type) {
	case CNNEncoder:
		err, features = e.CNN.Validate(), e.CNN.Features()
	case ResNetEncoder:
		err, features = e.ResNet.Validate(), e.ResNet.Features()
	default:
		err = fmt.Errorf("want a CNNEncoder or ResNetEncoder, got %T", m)
	}
	if _, h := m.encoder(); err == nil && h.Out > 0 && h.In != features {
		err = fmt.Errorf("head input %d ≠ encoder features %d", h.In, features)
	}
	if err == nil {
		err = checkOptimizer(optimizer)
	}
	if err != nil {
		panic(fmt.Sprintf("ref: NewConvTrainer: %v", err))
	}
	t := &ConvTrainer[T]{Model: m, Loss: loss, Optimizer: optimizer, LR: lr}
	t.Params, t.Trainable, t.Adam = trainState[T](m.Params(), m.Init(seed), optimizer)
	return t
}

// Forward runs the encoder on the images x [n2, H, W, C] (batch norms in training or evaluation mode) and
// the head, returning the features [n2, F], the latents z [n2, k] the loss sees (the head's output, or the
// features) and the head's cache (nil without a head). The slices are buffers of t, overwritten by its next
// Forward or Step.
func (t *ConvTrainer[T]) Forward(x []T, n2 int, training bool) (features, z []T, k int, hc *HeadCache[T]) {
	ne, head := t.Model.encoder()
	switch e := t.Model.(type) {
	case CNNEncoder:
		t.cnn = CNNForward(t.cnn, e.CNN, t.Params[:ne], x, n2)
		features, k = t.cnn.Out, e.CNN.Features()
	case ResNetEncoder:
		t.resnet = ResNet18Forward(t.resnet, e.ResNet, t.Params[:ne], x, n2, training)
		features, k = t.resnet.Features, e.ResNet.Features()
	}
	if head.Out == 0 {
		return features, features, k, nil
	}
	hc = HeadForward(head, t.Params[ne:], features, n2)
	return features, hc.Out, head.Out, hc
}

// Gradients runs one training-mode forward and backward on the views x [2N, H, W, C] (rows i and i+N are
// the two views of example i) and returns the loss, its gradient for every trainable parameter (nil for the
// running averages) and the batch norms' new running averages keyed by parameter index (nil for the CNN).
// Like autodiff of a step, it skips ∂L/∂x. The gradients may be buffers of t, overwritten by its next call.
func (t *ConvTrainer[T]) Gradients(x []T, n2 int) (loss float64, grads [][]T, stats map[int][]T) {
	_, z, k, hc := t.Forward(x, n2, true)
	loss, dHead, dFeatures := lossThroughHead(z, n2, k, t.Loss, hc)
	if _, ok := t.Model.(CNNEncoder); ok {
		grads, _ = cnnBackward(t.cnn, dFeatures, false)
	} else {
		grads, _ = resnetBackward(t.resnet, dFeatures, false)
		stats = t.resnet.Stats()
	}
	return loss, append(grads, dHead...), stats
}

// Step runs one SimCLR training step on the views x [2N, H, W, C], as train.Stepper does with identity
// views: forward in training mode, loss, backward, an optimiser update of the trainable parameters, then
// the batch norms' running averages replaced by their new values (never touched by the optimiser). It
// returns the loss before the update.
func (t *ConvTrainer[T]) Step(x []T, n2 int) float64 {
	loss, grads, stats := t.Gradients(x, n2)
	update(t.Optimizer, t.Params, grads, t.Trainable, t.LR, t.Adam)
	for i, v := range stats {
		copy(t.Params[i], v)
	}
	return loss
}
