package ops

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// The Go backend runs an element-wise op whose operands differ in shape (a broadcast) through a per-element
// index iterator, and BroadcastInDim and CumSum likewise: several times slower than an op on equal shapes or a
// matrix product. The forms below give the same values bit for bit with products whose sums are exact: a product
// with a single term, or with terms that are ±1 multiples of the values. On other backends they are the stock ops.

// SpreadColumn returns x [M, 1] copied over n columns, [M, n]: x·1ᵀ, each entry a single product by one.
func SpreadColumn(x *graph.Node, n int) *graph.Node {
	m := checkColumn("SpreadColumn", x)
	if !Substitute(x.Graph()) {
		return graph.BroadcastToDims(x, m, n)
	}
	return graph.Dot(x, graph.Ones(x.Graph(), shapes.Make(x.DType(), 1, n))).Product()
}

// OuterSub returns row − col for row [1, n] and col [M, 1], [M, n], the values of graph.Sub(row, col): on the Go
// backend one product [1, −col]·[row; 1], whose two terms are the values themselves, so that its sum is
// row_j − col_i rounded once, in either order.
func OuterSub(row, col *graph.Node) *graph.Node {
	checkColumn("OuterSub", col)
	if d := row.Shape().Dimensions; len(d) != 2 || d[0] != 1 || row.DType() != col.DType() {
		panic(fmt.Sprintf("ops: OuterSub wants a row [1, n] of col's dtype, got %s and %s", row.Shape(), col.Shape()))
	}
	if !Substitute(row.Graph()) {
		return graph.Sub(row, col)
	}
	return graph.Dot(graph.Concatenate([]*graph.Node{graph.OnesLike(col), graph.Neg(col)}, 1),
		graph.Concatenate([]*graph.Node{row, graph.OnesLike(row)}, 0)).Product()
}

// RunningSum returns the running sums of x [B, K] along its last axis, graph.CumSum(x, 1): on the Go backend a
// product with the triangular 0/1 matrix U[j][i] = [j ≤ i], exact where the sums are (0/1 counts, integers).
// The product adds in its own order, so for general floats the last bits may differ from CumSum's.
func RunningSum(x *graph.Node) *graph.Node {
	if x.Rank() != 2 {
		panic(fmt.Sprintf("ops: RunningSum wants [B, K], got %s", x.Shape()))
	}
	if !Substitute(x.Graph()) {
		return graph.CumSum(x, 1)
	}
	k := x.Shape().Dimensions[1]
	u := make([]float64, k*k)
	for j := range k {
		for i := j; i < k; i++ {
			u[j*k+i] = 1
		}
	}
	tri := graph.ConvertDType(graph.Const(x.Graph(), u), x.DType())
	return graph.Dot(x, graph.Reshape(tri, k, k)).Product()
}

// checkColumn panics unless x is [M, 1]; it returns M.
func checkColumn(fn string, x *graph.Node) int {
	if d := x.Shape().Dimensions; len(d) != 2 || d[1] != 1 {
		panic(fmt.Sprintf("ops: %s wants a column [M, 1], got %s", fn, x.Shape()))
	}
	return x.Shape().Dimensions[0]
}
