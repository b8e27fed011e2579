package augment

// Image augmentations: notation and helpers shared by image_*.go.
//
//	B batch size, H×W input height and width, C channels (1 gray or 3 RGB), images [B, H, W, C] float32 in [0, 1]
//
// Every op comes as a pair: Sample<Op>(rng, batch, …) draws its per-example parameter tensors from an explicit RNG
// state node (graph.RNGStateFromSeed), returning the advanced state; <Op>(images, params) applies them and is
// deterministic, so ref.Image<Op> replays it exactly from the parameters fetched as graph outputs. Per-example
// choices (flip or not, jitter or not) are 0/1 masks that select between both branches exactly: with graph.Where,
// or as 0/1 weights inside the per-example matrices the ops are built from (m·K + (1−m)·I).
//
// The ops run on planes [B, C, H, W] inside (toPlanar): crop and blur are two batched matrix products with
// per-example interpolation or band matrices, colour ops one 3×3 matrix per example, and on the Go backend none
// of these products then needs a transpose. Pipeline.Apply converts once on the way in and once on the way out.

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// uniform draws values ~ U[lo, hi) of the given dimensions in float32 and returns the advanced RNG state.
func uniform(rng *graph.Node, lo, hi float64, dims ...int) (*graph.Node, *graph.Node) {
	rng, u := graph.RandomUniform(rng, shapes.Make(dtypes.Float32, dims...))
	if lo == 0 && hi == 1 {
		return rng, u
	}
	return rng, graph.AddScalar(graph.MulScalar(u, hi-lo), lo)
}

// bernoulli draws a [batch] float32 mask whose entries are 1 with probability p, else 0 (u < p with u ~ U[0, 1),
// so p = 0 never and p = 1 always fires).
func bernoulli(rng *graph.Node, batch int, p float64) (*graph.Node, *graph.Node) {
	rng, u := graph.RandomUniform(rng, shapes.Make(dtypes.Float32, batch))
	return rng, graph.ConvertDType(graph.LessThan(u, graph.Scalar(rng.Graph(), dtypes.Float32, p)), dtypes.Float32)
}

// isOn turns a [B] 0/1 mask into the Bool condition that graph.Where expands over [B, …].
func isOn(mask *graph.Node) *graph.Node {
	return graph.GreaterThan(mask, graph.ScalarZero(mask.Graph(), mask.DType()))
}

// perExample reshapes a [B] tensor to [B, 1, 1, 1] so it broadcasts over images [B, H, W, C].
func perExample(x *graph.Node) *graph.Node {
	return graph.Reshape(x, x.Shape().Dimensions[0], 1, 1, 1)
}

// checkImages panics unless images is float32 [B, H, W, C] with C = 1 or 3; it returns the four dimensions.
func checkImages(fn string, images *graph.Node) (b, h, w, c int) {
	s := images.Shape()
	if s.Rank() != 4 || s.DType != dtypes.Float32 || (s.Dimensions[3] != 1 && s.Dimensions[3] != 3) {
		panic(fmt.Sprintf("augment: %s wants float32 images [B, H, W, C] with C = 1 or 3, got %s", fn, s))
	}
	return s.Dimensions[0], s.Dimensions[1], s.Dimensions[2], s.Dimensions[3]
}

// toPlanar turns images [B, H, W, C] into planes [B, C, H, W], the layout the ops work in: there every matrix
// product of the Go backend contracts a leading or trailing axis, so none needs a transpose. For C = 1 it is a
// reshape.
func toPlanar(images *graph.Node) *graph.Node {
	d := images.Shape().Dimensions
	if d[3] == 1 {
		return graph.Reshape(images, d[0], 1, d[1], d[2])
	}
	return graph.TransposeAllAxes(images, 0, 3, 1, 2)
}

// fromPlanar turns planes [B, C, H, W] back into images [B, H, W, C].
func fromPlanar(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	if d[1] == 1 {
		return graph.Reshape(x, d[0], d[2], d[3], 1)
	}
	return graph.TransposeAllAxes(x, 0, 2, 3, 1)
}

// separable applies per-example row and column matrices to planes x [B, C, H, W]:
//
//	out[b, c, i, j] = Σ_y Σ_x my[b, i, y] · mx[b, j, x] · x[b, c, y, x]
//
// my is [B, outH, H], mx is [B, outW, W]; the result is [B, C, outH, outW]. Two batched matrix products, far
// cheaper on the Go backend than a convolution or a gather, and exact to replay (ref.separable).
func separable(x, my, mx *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	outH := my.Shape().Dimensions[1]
	t := graph.Einsum("bcyx,bjx->bcyj", x, mx) // [B, C, H, outW]
	my = graph.Reshape(my, d[0], 1, outH, d[2])
	if d[1] > 1 {
		my = graph.BroadcastToDims(my, d[0], d[1], outH, d[2]) // a copy per channel makes (b, c) the batch
	}
	return graph.Einsum("bciy,bcyj->bcij", my, t) // [B, C, outH, outW]
}
