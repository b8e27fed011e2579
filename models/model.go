package models

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
)

// Model is what the training step needs of an encoder: its parameters, their initial values, and a forward
// pass from a batch of inputs to features (what evaluation uses) and latents (what the loss sees).
type Model interface {
	Params() []arch.Param
	Init(seed uint64) [][]float64
	// Forward maps inputs [B, …] to features [B, F] and latents z [B, k]. In training mode, layers with
	// statistics (batch normalisation) use the batch's and return their updated running averages.
	Forward(params []*graph.Node, x *graph.Node, training bool) Output
	// Project is applied to the parameters after every optimiser step (nil: nothing to do).
	Project(params []*graph.Node) []*graph.Node
}

// Output is what Model.Forward returns.
type Output struct {
	Features, Z *graph.Node
	// Stats maps the index (in Params order) of a non-trainable statistic, such as a batch-norm running mean,
	// to its new value after a training-mode pass; the training step stores it after the optimiser update.
	Stats map[int]*graph.Node
}
