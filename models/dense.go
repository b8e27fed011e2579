package models

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// gemmChain serialises the large matrix products of the fast path. The Go backend (compute v0.1.2) runs
// independent ops concurrently, and each large DotGeneral then waits for pool workers while holding one
// itself: with as many ready products as pool slots (2·GOMAXPROCS) it deadlocks. after makes each product's
// operand wait, through a SchedulingBarrier (free when the operand has no other consumer), for the previous
// product of the chain; each product still uses every core.
type gemmChain struct{ last *graph.Node }

// after returns x, ordered after the chain's last product.
func (c *gemmChain) after(x *graph.Node) *graph.Node {
	if c == nil || c.last == nil {
		return x
	}
	return graph.SchedulingBarrier(x, c.last)
}

// dot is DotGeneral(lhs, lhsContract, rhs, rhsContract), recorded as the chain's last product.
func (c *gemmChain) dot(lhs *graph.Node, lc int, rhs *graph.Node, rc int) *graph.Node {
	y := graph.DotGeneral(lhs, []int{lc}, nil, rhs, []int{rc}, nil)
	if c != nil {
		c.last = y
	}
	return y
}

// dense returns x w + b for x [B, F], w [F, D], b [D] (nil: no bias), with the gradients written out so that
// nothing is transposed by hand: ∂x = v wᵀ (one product with both contractions on the last axis), ∂w = xᵀ v
// (the backend transposes x once), ∂b = Σ_rows v. Stock autodiff of MatMul adds a full transpose of ∂x, even
// an identity one, and of ∂wᵀ. The products join chain (nil: none).
func dense(x, w, b *graph.Node, chain *gemmChain) *graph.Node {
	inputs := []*graph.Node{x, w}
	if b != nil {
		inputs = append(inputs, b)
	}
	out := ops.CustomGradient(inputs, func(in []*graph.Node) []*graph.Node {
		y := chain.dot(in[0], 1, chain.after(in[1]), 0)
		if b != nil {
			y = graph.Add(y, graph.ExpandAxes(in[2], 0))
		}
		return []*graph.Node{y}
	}, func(v []*graph.Node) []*graph.Node {
		grads := make([]*graph.Node, len(inputs))
		if v[0] == nil {
			return grads
		}
		grads[0] = chain.dot(v[0], 1, chain.after(w), 1)
		grads[1] = chain.dot(chain.after(x), 0, v[0], 0)
		if b != nil {
			grads[2] = graph.ReduceSum(v[0], 0)
		}
		return grads
	})
	return out[0]
}
