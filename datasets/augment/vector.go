package augment

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// Augmentations of vector data x ∈ R^{B×d}: additive Gaussian noise, a random shift along a fixed direction and a
// random rotation in the plane of the first two coordinates. Each Sample… draws one parameter per example (per entry
// for noise); the transforms are deterministic, and ref.AddNoise, ref.Shift and ref.Rotate replay them.

// SampleNoise draws additive Gaussian noise for a batch of shape [batch, d]:
//
//	ε_ij = std·g_ij,   g_ij ~ N(0, 1)   (graph.RandomNormal, Box–Muller)
//
// It returns the advanced RNG state and ε of shape [batch, d] and dtype dt.
func SampleNoise(rng *graph.Node, batch, d int, std float64, dt dtypes.DType) (newRNG, noise *graph.Node) {
	newRNG, noise = graph.RandomNormal(rng, shapes.Make(dt, batch, d))
	return newRNG, graph.MulScalar(noise, std)
}

// AddNoise returns x + ε for x and ε of the same shape [B, d]. ref.AddNoise is its twin.
func AddNoise(x, noise *graph.Node) *graph.Node {
	if !x.Shape().Equal(noise.Shape()) {
		panic(fmt.Errorf("augment: AddNoise wants noise of the shape of x %s, got %s", x.Shape(), noise.Shape()))
	}
	return graph.Add(x, noise)
}

// SampleShift draws one shift length per example:
//
//	ξ_i ~ N(0, std²)
//
// the authors' diagonal-shift augmentation uses std = 1 (paper.md §6.2). It returns the advanced RNG state and ξ of
// shape [batch] and dtype dt.
func SampleShift(rng *graph.Node, batch int, std float64, dt dtypes.DType) (newRNG, xi *graph.Node) {
	newRNG, xi = graph.RandomNormal(rng, shapes.Make(dt, batch))
	return newRNG, graph.MulScalar(xi, std)
}

// Shift moves each example along the fixed direction dir by its own length ξ_i:
//
//	y_i = x_i + ξ_i·dir,   x [B, d], ξ [B], dir [d]
//
// dir is used as given, not normalised: the authors' (1, 1) moves each coordinate by ξ_i (paper.md §6.2).
// A nil dir means that diagonal, (1, …, 1). It panics if x is not rank 2 or the shapes disagree.
// ref.Shift is its twin.
func Shift(x, xi *graph.Node, dir []float64) *graph.Node {
	b, d := batchDims("Shift", x)
	if xi.Rank() != 1 || xi.Shape().Dimensions[0] != b || xi.DType() != x.DType() {
		panic(fmt.Errorf("augment: Shift wants xi of shape (%s)[%d] for x %s, got %s", x.DType(), b, x.Shape(),
			xi.Shape()))
	}
	if dir == nil {
		dir = Diagonal(d)
	}
	if len(dir) != d {
		panic(fmt.Errorf("augment: Shift wants a direction of length d = %d for x %s, got %d", d, x.Shape(), len(dir)))
	}
	u := graph.ConstAsDType(x.Graph(), x.DType(), dir)            // [d]
	u = graph.BroadcastToDims(graph.ExpandAxes(u, 0), b, d)       // [B, d]
	step := graph.BroadcastToDims(graph.ExpandAxes(xi, -1), b, d) // [B, d]
	return graph.Add(x, graph.Mul(step, u))
}

// Diagonal returns the all-ones direction (1, …, 1) of length d, the authors' shift direction for d = 2.
func Diagonal(d int) []float64 {
	dir := make([]float64, d)
	for i := range dir {
		dir[i] = 1
	}
	return dir
}

// SampleRotation draws one angle per example, uniform in [−maxAngle, maxAngle):
//
//	θ_i = maxAngle·(2U_i − 1),   U_i ~ U[0, 1)
//
// The authors' unused rotation takes maxAngle = 2π (paper.md §6.2). It returns the advanced RNG state and θ of shape
// [batch] and dtype dt.
func SampleRotation(rng *graph.Node, batch int, maxAngle float64, dt dtypes.DType) (newRNG, theta *graph.Node) {
	newRNG, u := graph.RandomUniform(rng, shapes.Make(dt, batch))
	return newRNG, graph.MulScalar(graph.AddScalar(graph.MulScalar(u, 2), -1), maxAngle)
}

// Rotate turns each example by its own angle θ_i in the plane of its first two coordinates and leaves the others:
//
//	y_i0 = cos θ_i·x_i0 − sin θ_i·x_i1,   y_i1 = sin θ_i·x_i0 + cos θ_i·x_i1,   y_ij = x_ij (j ≥ 2)
//
// x has shape [B, d] with d ≥ 2, θ shape [B]. A rotation preserves ‖x_i‖. It panics on other shapes.
// ref.Rotate is its twin.
func Rotate(x, theta *graph.Node) *graph.Node {
	b, d := batchDims("Rotate", x)
	if d < 2 {
		panic(fmt.Errorf("augment: Rotate wants x of shape [B, d] with d ≥ 2, got %s", x.Shape()))
	}
	if theta.Rank() != 1 || theta.Shape().Dimensions[0] != b || theta.DType() != x.DType() {
		panic(fmt.Errorf("augment: Rotate wants theta of shape (%s)[%d] for x %s, got %s", x.DType(), b, x.Shape(),
			theta.Shape()))
	}
	c := graph.ExpandAxes(graph.Cos(theta), -1)                    // [B, 1]
	s := graph.ExpandAxes(graph.Sin(theta), -1)                    // [B, 1]
	x0 := graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, 1)) // [B, 1]
	x1 := graph.Slice(x, graph.AxisRange(), graph.AxisRange(1, 2)) // [B, 1]
	parts := []*graph.Node{
		graph.Sub(graph.Mul(c, x0), graph.Mul(s, x1)),
		graph.Add(graph.Mul(s, x0), graph.Mul(c, x1)),
	}
	if d > 2 {
		parts = append(parts, graph.Slice(x, graph.AxisRange(), graph.AxisRangeToEnd(2))) // [B, d−2]
	}
	return graph.Concatenate(parts, 1)
}

// batchDims returns the dimensions of x, panicking (naming fn) unless x is a rank-2 float tensor.
func batchDims(fn string, x *graph.Node) (b, d int) {
	if x.Rank() != 2 || !x.DType().IsFloat() {
		panic(fmt.Errorf("augment: %s wants a float x of shape [B, d], got %s", fn, x.Shape()))
	}
	return x.Shape().Dimensions[0], x.Shape().Dimensions[1]
}
