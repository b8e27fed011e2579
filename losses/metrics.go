package losses

import (
	"math"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// Alignment is Wang & Isola's (2020) alignment with α = 2, on u = normalise(z), z [2N, k]:
//
//	A = (1/N) Σ_{i<N} ‖u_i − u_{i+N}‖²
//
// ref.Alignment is its twin.
func Alignment(z *graph.Node) *graph.Node {
	n := z.Shape().Dimensions[0] / 2
	u := Normalize(z)
	d := graph.Sub(graph.SliceAxis(u, 0, graph.AxisRange(0, n)), graph.SliceAxis(u, 0, graph.AxisRange(n)))
	return graph.ReduceAllMean(graph.ReduceSum(graph.Square(d), -1))
}

// Uniformity is Wang & Isola's (2020) uniformity with t = 2 over all 2N views, on u = normalise(z):
//
//	U = log( (1/(2N(2N−1))) Σ_{i≠j} exp(−2‖u_i − u_j‖²) )
//
// ref.Uniformity is its twin.
func Uniformity(z *graph.Node) *graph.Node {
	g, n2 := z.Graph(), z.Shape().Dimensions[0]
	u := Normalize(z)
	sq := graph.ReduceSum(graph.Square(u), -1)
	d2 := graph.Sub(graph.Add(graph.ExpandAxes(sq, 1), graph.ExpandAxes(sq, 0)),
		graph.MulScalar(ops.Gram(u, u), 2)) // ‖u_i − u_j‖²   [2N, 2N]
	x := graph.Where(graph.Diagonal(g, n2), graph.Scalar(g, d2.DType(), -largeNum), graph.MulScalar(d2, -2))
	// log of the mean over i ≠ j, as one log-sum-exp over all (i, j) with the diagonal masked out.
	return graph.Reshape(graph.AddScalar(ops.LogSumExp(graph.Reshape(x, 1, n2*n2)), -math.Log(float64(n2*(n2-1)))))
}
