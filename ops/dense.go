package ops

import (
	"github.com/gomlx/gomlx/core/graph"
)

// Chain serialises the large matrix products of the substitutes. With a bounded worker pool, compute v0.1.2
// deadlocks once every pool slot holds a DotGeneral waiting in Saturate for a free slot (2·GOMAXPROCS ready
// products). The backend now uses an unbounded pool, which cannot reach that state (backend.goOptions); the
// chain stays as the guard for a bounded pool asked for by hand (go:ops_parallel,parallelism=N), and costs
// nothing measurable (small CNN step at 2N = 256: 177–234 ms with it, 179–181 ms without, AMD EPYC). After
// makes each product's operand wait, through a SchedulingBarrier (free when the operand has no other
// consumer), for the previous product of the chain; each product still uses every core.
type Chain struct{ last *graph.Node }

// After returns x, ordered after the chain's last product.
func (c *Chain) After(x *graph.Node) *graph.Node {
	if c == nil || c.last == nil {
		return x
	}
	return graph.SchedulingBarrier(x, c.last)
}

// Dot is DotGeneral(lhs, lhsContract, rhs, rhsContract), recorded as the chain's last product.
func (c *Chain) Dot(lhs *graph.Node, lc int, rhs *graph.Node, rc int) *graph.Node {
	y := graph.DotGeneral(lhs, []int{lc}, nil, rhs, []int{rc}, nil)
	if c != nil {
		c.last = y
	}
	return y
}

// denseWeightGrad returns ∂w = xᵀ v [F, D] for x [B, F], v [B, D]. The Go backend's products want the left
// operand's contraction on its last axis; handed xᵀ v as is, it transposes both x and v. One explicit transpose
// suffices: of x (then v is the right operand in its natural [K, N] layout), or of v, giving (vᵀ x)ᵀ, when
// D·(B + F) < F·B elements, as for a first layer of many inputs and few units.
func denseWeightGrad(x, v *graph.Node, chain *Chain) *graph.Node {
	b, f, d := x.Shape().Dimensions[0], x.Shape().Dimensions[1], v.Shape().Dimensions[1]
	if d*(b+f) < f*b {
		return graph.Transpose(chain.Dot(graph.Transpose(v, 0, 1), 1, chain.After(x), 0), 0, 1)
	}
	return chain.Dot(graph.Transpose(chain.After(x), 0, 1), 1, v, 0)
}

// Dense returns x w + b for x [B, F], w [F, D], b [D] (nil: no bias), with the gradients written out so that
// as little as possible is transposed: ∂x = v wᵀ (one product with both contractions on the last axis),
// ∂w = xᵀ v (one explicit transpose of the smaller side, see denseWeightGrad), ∂b = Σ_rows v (ColumnSums; the
// bias is spread over the rows by SpreadRow). Stock autodiff of MatMul adds a full transpose of ∂x, even an
// identity one, and of ∂wᵀ. The products join chain (nil: none).
func Dense(x, w, b *graph.Node, chain *Chain) *graph.Node {
	inputs := []*graph.Node{x, w}
	if b != nil {
		inputs = append(inputs, b)
	}
	out := CustomGradient(inputs, func(in []*graph.Node) []*graph.Node {
		y := chain.Dot(in[0], 1, chain.After(in[1]), 0)
		if b != nil {
			y = graph.Add(y, SpreadRow(in[2], y.Shape().Dimensions[0]))
		}
		return []*graph.Node{y}
	}, func(v []*graph.Node) []*graph.Node {
		grads := make([]*graph.Node, len(inputs))
		if v[0] == nil {
			return grads
		}
		grads[0] = chain.Dot(v[0], 1, chain.After(w), 1)
		grads[1] = denseWeightGrad(x, v[0], chain)
		if b != nil {
			grads[2] = ColumnSums(v[0])
		}
		return grads
	})
	return out[0]
}
