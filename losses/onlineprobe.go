package losses

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// ProbeTerms are the outputs of OnlineProbe: scalars in the features' dtype.
type ProbeTerms struct {
	CE       *graph.Node // mean cross-entropy: what the probe is trained on
	Accuracy *graph.Node // fraction of rows whose label has the largest logit; not differentiable
}

// OnlineProbe is the objective of the online linear probe (solo-learn's online classifier): a linear
// classifier with weights w [F, C] and bias b [C] on features h [M, F] with integer labels y [M] in [0, C):
//
//	ℓ_i = h_i w + b,   CE = (1/M) Σ_i ( log Σ_c exp ℓ_ic − ℓ_{i,y_i} ),
//	acc = (1/M) Σ_i [ ℓ_{i,y_i} > max_{c≠y_i} ℓ_ic ]
//
// A tie is a miss, so an all-zero probe scores 0 rather than the share of one class. The caller detaches h
// (graph.StopGradient) when the encoder must not learn from the probe. It panics on mismatched shapes.
// ref.OnlineProbe is its twin.
func OnlineProbe(h, labels, w, b *graph.Node) ProbeTerms {
	if h.Rank() != 2 || labels.Rank() != 1 || labels.Shape().Dimensions[0] != h.Shape().Dimensions[0] || !labels.DType().IsInt() ||
		w.Rank() != 2 || w.Shape().Dimensions[0] != h.Shape().Dimensions[1] {
		panic(fmt.Sprintf("losses: OnlineProbe wants h [M, F], integer labels [M] and w [F, C], got %s, %s and %s", h.Shape(), labels.Shape(), w.Shape()))
	}
	g, dt, classes := h.Graph(), h.DType(), w.Shape().Dimensions[1]
	logits := ops.Dense(h, w, b) // [M, C]
	// hit_ic = [c = y_i]   [M, C]
	hit := graph.Equal(graph.InsertAxes(labels, -1), graph.Iota(g, shapes.Make(labels.DType(), 1, classes), -1))
	zero := graph.ScalarZero(g, dt)
	picked := graph.ReduceSum(graph.Where(hit, logits, zero), -1) // ℓ_{i,y_i}   [M]; Where, not a product: 0·Inf is NaN
	ce := graph.ReduceAllMean(graph.Sub(ops.LogSumExp(logits), picked))
	others := graph.ReduceMax(graph.Where(hit, graph.Scalar(g, dt, -largeNum), logits), -1) // max_{c≠y_i} ℓ_ic   [M]
	acc := graph.ReduceAllMean(graph.ConvertDType(graph.GreaterThan(graph.StopGradient(picked), graph.StopGradient(others)), dt))
	return ProbeTerms{CE: ce, Accuracy: acc}
}
