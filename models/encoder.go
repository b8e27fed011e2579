package models

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
)

// Body is the trunk of an encoder, the network whose output h = f(x) evaluation uses as features: MLPBody,
// CNNBody or ResNetBody. Its parameters are explicit, in the order of Params.
type Body interface {
	Params() []arch.Param
	// Init draws the initial values of Params from seed.
	Init(seed uint64) [][]float64
	// Features is F, the width of the features.
	Features() int
	// Forward maps x [B, …] to the features h [B, F]. In training mode a body with batch normalisation
	// normalises by the batch and returns the new running averages keyed by their index in Params; otherwise
	// stats is empty.
	Forward(params []*graph.Node, x *graph.Node, training bool) (h *graph.Node, stats map[int]*graph.Node)
}

// Encoder is a body with SimCLR's projection head g on its features (Chen et al. 2020, §2.1):
//
//	h = f(x),  z = g(h) = relu(h W_1 + b_1) W_2 + b_2,   or z = h when Head.Out == 0 (no head)
//
// Its parameters are the body's followed by the head's; the body is drawn from seed and the head from seed+1.
// Head.In must be Body.Features(). ref.Encoder, ref.CNNEncoder and ref.ResNetEncoder are its twins.
type Encoder struct {
	Body Body
	Head arch.Head
}

// Params lists the body's parameters followed by the head's.
func (e Encoder) Params() []arch.Param {
	ps := e.Body.Params()
	if e.Head.Out > 0 {
		ps = append(ps, e.Head.Params()...)
	}
	return ps
}

// Init draws the body's initial values from seed and the head's from seed+1.
func (e Encoder) Init(seed uint64) [][]float64 {
	vs := e.Body.Init(seed)
	if e.Head.Out > 0 {
		vs = append(vs, e.Head.Init(seed+1)...)
	}
	return vs
}

// Forward returns the body's features h, z (the head's output, or h again) and, in training mode, the body's
// new running averages.
func (e Encoder) Forward(params []*graph.Node, x *graph.Node, training bool) Output {
	nb := len(e.Body.Params())
	h, stats := e.Body.Forward(params[:nb], x, training)
	if !training {
		stats = nil
	}
	out := Output{Features: h, Z: h, Stats: stats}
	if e.Head.Out > 0 {
		out.Z = Head(e.Head, params[nb:], h)
	}
	return out
}

// Project does nothing for a network.
func (e Encoder) Project(params []*graph.Node) []*graph.Node { return params }
