package models

import (
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
)

// WithPredictor is a model with a predictor MLP q on its latents, as BYOL (Grill et al. 2020, §3.1) and MoCo
// v3 (Chen, Xie & He 2021, §3) put on the online network only:
//
//	q(z) = relu(z W_1 + b_1) W_2 + b_2,   W_1 ∈ R^{k×Hidden}, W_2 ∈ R^{Hidden×k}
//
// Its parameters are the model's followed by the predictor's, named "predictor/hidden/weights", …; it is drawn
// from seed+2 (the body takes seed, a head seed+1). Forward is the model's: features and latents z are the
// same, and evaluation and export never see the predictor; Predict applies it. The papers' predictors put
// batch normalisation after the hidden layer; ours has none (arch.Head's layout).
type WithPredictor struct {
	Model
	Predictor arch.Head // In = Out = k, the latents' dimension
}

// Params lists the model's parameters, then the predictor's.
func (w WithPredictor) Params() []arch.Param {
	ps := w.Model.Params()
	for _, p := range w.Predictor.Params() {
		p.Name = "predictor/" + strings.TrimPrefix(p.Name, "head/")
		ps = append(ps, p)
	}
	return ps
}

// Init draws the model's parameters from seed and the predictor's from seed+2.
func (w WithPredictor) Init(seed uint64) [][]float64 {
	return append(w.Model.Init(seed), w.Predictor.Init(seed+2)...)
}

// Base returns the number of parameters of the wrapped model: params[:Base()] are its, the rest the predictor's.
func (w WithPredictor) Base() int { return len(w.Model.Params()) }

// Forward is the wrapped model's on params[:Base()].
func (w WithPredictor) Forward(params []*graph.Node, x *graph.Node, training bool) Output {
	return w.Model.Forward(params[:w.Base()], x, training)
}

// Project projects the wrapped model's parameters and leaves the predictor's as they are.
func (w WithPredictor) Project(params []*graph.Node) []*graph.Node {
	nb := w.Base()
	base := w.Model.Project(params[:nb])
	if base == nil {
		base = params[:nb]
	}
	return append(append([]*graph.Node(nil), base...), params[nb:]...)
}

// Predict returns q(z) for the latents z [B, k], with the predictor's parameters params[Base():].
func (w WithPredictor) Predict(params []*graph.Node, z *graph.Node) *graph.Node {
	return Head(w.Predictor, params[w.Base():], z)
}
