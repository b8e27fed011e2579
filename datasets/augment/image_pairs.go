package augment

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

// PairViews is Views for images that arrive as two crops each, made on the host from the full-resolution
// image (datasets.Stream.Views): pairs [B, 2, H, W, C] float32 in [0, 1]. View v is the pipeline applied to
// pairs[:, v] with parameters p[v] of its own, drawn in that order from rng (as Views draws them). For such
// data the pipeline is usually given without its crop, which the host made. ref.ImagePipeline on each half,
// with p[v]'s values, is its twin. It panics if pairs is not [B, 2, H, W, C] with C = 1 or 3.
func (pl Pipeline) PairViews(rng, pairs *graph.Node) (newRNG, view1, view2 *graph.Node, p [2]PipelineParams) {
	dims := pairs.Shape().Dimensions
	if len(dims) != 5 || dims[1] != 2 || (dims[4] != 1 && dims[4] != 3) {
		panic(fmt.Sprintf("augment: Pipeline.PairViews wants pairs [B, 2, H, W, C] with C = 1 or 3, got %s", pairs.Shape()))
	}
	b, h, w, c := dims[0], dims[2], dims[3], dims[4]
	var views [2]*graph.Node
	for v := range views {
		x := graph.Reshape(graph.Slice(pairs, graph.AxisRange(), graph.AxisElem(v)), b, h, w, c) // [B, H, W, C]
		rng, p[v] = pl.Sample(rng, b, h, w, c)
		views[v] = pl.Apply(x, p[v])
	}
	return rng, views[0], views[1], p
}
