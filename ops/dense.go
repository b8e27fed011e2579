package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

// Dense returns x w + b for x [B, F], w [F, D], b [D] (nil: no bias). On XLA it is graph.MatMul and a
// broadcast Add, differentiated by autodiff. On the Go backend the gradients are written out so that as little
// as possible is transposed: ∂x = v wᵀ (one product with both contractions on the last axis), ∂w = xᵀ v (one
// explicit transpose of the smaller side, see denseWeightGrad), ∂b = Σ_rows v (ColumnSums; the bias is spread
// over the rows by SpreadRow). Stock autodiff of MatMul there adds a full transpose of ∂x, even an identity
// one, and of ∂wᵀ.
func Dense(x, w, b *graph.Node) *graph.Node {
	if x.Rank() != 2 || w.Rank() != 2 || x.Shape().Dimensions[1] != w.Shape().Dimensions[0] ||
		(b != nil && (b.Rank() != 1 || b.Shape().Dimensions[0] != w.Shape().Dimensions[1])) {
		bs := "none"
		if b != nil {
			bs = b.Shape().String()
		}
		panic(fmt.Sprintf("ops: Dense wants x [B, F], w [F, D] and b [D] or nil, got x %s, w %s, b %s", x.Shape(), w.Shape(), bs))
	}
	if !Substitute(x.Graph()) {
		y := graph.MatMul(x, w)
		if b != nil {
			y = graph.Add(y, graph.ExpandLeftToRank(b, 2))
		}
		return y
	}
	inputs := []*graph.Node{x, w}
	if b != nil {
		inputs = append(inputs, b)
	}
	out := customGradient(inputs, func(in []*graph.Node) []*graph.Node {
		y := dot(in[0], 1, in[1], 0)
		if b != nil {
			y = graph.Add(y, spreadRowSub(in[2], y.Shape().Dimensions[0]))
		}
		return []*graph.Node{y}
	}, func(v []*graph.Node) []*graph.Node {
		grads := make([]*graph.Node, len(inputs))
		if v[0] == nil {
			return grads
		}
		grads[0] = dot(v[0], 1, w, 1)
		grads[1] = denseWeightGrad(x, v[0])
		if b != nil {
			grads[2] = columnSumsSub(v[0])
		}
		return grads
	})
	return out[0]
}

// dot is DotGeneral(lhs, lhsContract, rhs, rhsContract) with one contraction axis and no batch axes.
func dot(lhs *graph.Node, lc int, rhs *graph.Node, rc int) *graph.Node {
	return graph.DotGeneral(lhs, []int{lc}, nil, rhs, []int{rc}, nil)
}

// denseWeightGrad returns ∂w = xᵀ v [F, D] for x [B, F], v [B, D]. The Go backend's products want the left
// operand's contraction on its last axis; handed xᵀ v as is, it transposes both x and v. One explicit transpose
// suffices: of x (then v is the right operand in its natural [K, N] layout), or of v, giving (vᵀ x)ᵀ, when
// D·(B + F) < F·B elements, as for a first layer of many inputs and few units.
func denseWeightGrad(x, v *graph.Node) *graph.Node {
	b, f, d := x.Shape().Dimensions[0], x.Shape().Dimensions[1], v.Shape().Dimensions[1]
	if d*(b+f) < f*b {
		return graph.Transpose(dot(graph.Transpose(v, 0, 1), 1, x, 0), 0, 1)
	}
	return dot(graph.Transpose(x, 0, 1), 1, v, 0)
}
