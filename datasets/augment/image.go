package augment

// Image augmentations: notation and helpers shared by image_*.go.
//
//	B batch size, H×W input height and width, C channels (1 gray or 3 RGB), images [B, H, W, C] float32 in [0, 1]
//
// Every op comes as a pair: Sample<Op>(rng, batch, …) draws its per-example parameter tensors from an explicit RNG
// state node (graph.RNGStateFromSeed), returning the advanced state; <Op>(images, params) applies them and is
// deterministic, so ref.Image<Op> replays it exactly from the parameters fetched as graph outputs. Per-example
// choices (flip or not, jitter or not) are 0/1 masks; the op computes both branches and blends them exactly.

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

// separable applies per-example row and column matrices to images:
//
//	out[b, i, j, c] = Σ_y Σ_x my[b, i, y] · mx[b, j, x] · images[b, y, x, c]
//
// my is [B, outH, H], mx is [B, outW, W]; the result is [B, outH, outW, C]. Two batched matrix products, far
// cheaper on the Go backend than a convolution or a gather, and exact to replay (ref.separable).
func separable(images, my, mx *graph.Node) *graph.Node {
	t := graph.Einsum("biy,byxc->bixc", my, images) // [B, outH, W, C]
	return graph.Einsum("bixc,bjx->bijc", t, mx)    // [B, outH, outW, C]
}
