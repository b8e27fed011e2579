package ops

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// GaussianRowMean is the repulsion term of the Gaussian-kernel loss: for a [N, k] and b [M, k],
//
//	r_i = (1/M) Σ_j exp(−‖a_i − b_j‖²/(2τ))                                  [N]
//	∂/∂a_i = −(c_i/τ)·(a_i − (P·b)_i),   ∂/∂b_j = (1/τ)·Σ_i c_i P_ij (a_i − b_j),   c_i = v_i·r_i
//
// with P_ij = e_ij / Σ_j e_ij the row-normalised kernel and v the cotangent of r.
//
// The stock form is eight element-wise passes over [N, M] plus Exp's dozen (range reduction and polynomial),
// and autodiff doubles them. On the Go backend (Substitute, float32) it is one matrix product, the backend's
// fused softmax and a matrix–vector product instead. The product of the augmented rows
//
//	a'_i = [a_i/τ, 1, ‖a_i‖²/(2τ)],   b'_j = [b_j, −‖b_j‖²/(2τ), 0] (j < M),   b'_M = [0, 0, 1]
//
// is s'_ij = −‖a_i − b_j‖²/(2τ) + ‖a_i‖²/(2τ) for j < M, with an extra column s'_iM = ‖a_i‖²/(2τ) ≥ max_j s'_ij.
// Its softmax Q = softmax_j(s') has Q_ij = e_ij·Q_iM, so
//
//	M·r_i = σ_i / Q_iM,   σ_i = Σ_{j<M} Q_ij,   P_ij = Q_ij / σ_i,
//
// with Q_iM ≥ 1/(M+1): the extra column is the largest, so the entries e_ij underflow exactly where the
// stock form's do and nothing else can. No exponential beyond the softmax's, no reduction pass; the backward
// pass reuses Q through two products (Q·[b | 1; 0 | 0], done in the forward, and Qᵀ·(u⊙[a | 1]) with
// u_i = v_i/(M·Q_iM)), and divides by nothing that can be 0.
func GaussianRowMean(a, b *graph.Node, tau float64) *graph.Node {
	if a.Rank() != 2 || b.Rank() != 2 || a.Shape().Dimensions[1] != b.Shape().Dimensions[1] {
		panic(fmt.Sprintf("ops: GaussianRowMean wants a [N, k] and b [M, k], got %s and %s", a.Shape(), b.Shape()))
	}
	if !(tau > 0) {
		panic(fmt.Sprintf("ops: GaussianRowMean wants τ > 0, got %g", tau))
	}
	if !Substitute(a.Graph()) || a.DType() != dtypes.Float32 {
		return gaussianRowMeanStock(a, b, tau)
	}
	return gaussianRowMeanFused(a, b, tau)
}

// gaussianRowMeanStock is GaussianRowMean from its definition, differentiated by autodiff.
func gaussianRowMeanStock(a, b *graph.Node, tau float64) *graph.Node {
	sqa := graph.ReduceSum(graph.Square(a), -1)                                                                    // [N]
	sqb := graph.ReduceSum(graph.Square(b), -1)                                                                    // [M]
	d2 := graph.Sub(graph.Add(graph.ExpandAxes(sqa, 1), graph.ExpandAxes(sqb, 0)), graph.MulScalar(Gram(a, b), 2)) // [N, M]
	return graph.ReduceMean(Exp(graph.DivScalar(d2, -2*tau)), -1)
}

// rowBlocks is the number of row blocks the fused form splits [N, M+1] into: independent softmax and product
// nodes that the Go backend runs in parallel (its fused softmax is one thread). A function of N only, so that
// the summation order, and so every bit of the result, does not depend on the machine.
func rowBlocks(n int) int {
	if n < 512 {
		return 1
	}
	return 4
}

// gaussianRowMeanFused is GaussianRowMean's Go-backend form (see there).
func gaussianRowMeanFused(a, b *graph.Node, tau float64) *graph.Node {
	g, dt := a.Graph(), a.DType()
	n, m, k := a.Shape().Dimensions[0], b.Shape().Dimensions[0], a.Shape().Dimensions[1]
	nb := rowBlocks(n)
	bounds := make([]int, nb+1) // block i is rows bounds[i]:bounds[i+1]
	for i := range bounds {
		bounds[i] = i * n / nb
	}
	var (
		qs            []*graph.Node // Q's row blocks
		sigma, qb, mq *graph.Node
		r, aa, bb     *graph.Node
	)
	cat := func(axis int, xs ...*graph.Node) *graph.Node { return graph.Concatenate(xs, axis) }
	return customGradient([]*graph.Node{a, b}, func(in []*graph.Node) []*graph.Node {
		aa, bb = in[0], in[1]
		sqa := graph.ExpandAxes(graph.ReduceSum(graph.Square(aa), -1), -1)                                        // [N, 1]
		sqb := graph.ExpandAxes(graph.ReduceSum(graph.Square(bb), -1), -1)                                        // [M, 1]
		ap := cat(1, graph.DivScalar(aa, tau), graph.Ones(g, shapes.Make(dt, n, 1)), graph.DivScalar(sqa, 2*tau)) // [N, k+2]
		bp := cat(0, cat(1, bb, graph.DivScalar(sqb, -2*tau), graph.Zeros(g, shapes.Make(dt, m, 1))),
			cat(1, graph.Zeros(g, shapes.Make(dt, 1, k+1)), graph.Ones(g, shapes.Make(dt, 1, 1)))) // [M+1, k+2]
		// Q·[b | 1; 0 | 0] gives Σ_{j<M} Q_ij b_j and σ_i in one product.
		rhs := graph.StopGradient(cat(0, cat(1, bb, graph.Ones(g, shapes.Make(dt, m, 1))), graph.Zeros(g, shapes.Make(dt, 1, k+1)))) // [M+1, k+1]
		var qrs, lasts []*graph.Node
		for i := range nb {
			q := graph.StopGradient(fusedSoftmax(Gram(graph.SliceAxis(ap, 0, graph.AxisRange(bounds[i], bounds[i+1])), bp), 1))
			qs = append(qs, q)
			qrs = append(qrs, graph.DotGeneral(q, []int{1}, nil, rhs, []int{0}, nil))
			lasts = append(lasts, graph.SliceAxis(q, 1, graph.AxisRange(m)))
		}
		qr := cat(0, qrs...)                               // [N, k+1]
		sigma = graph.SliceAxis(qr, 1, graph.AxisRange(k)) // [N, 1]
		qb = graph.SliceAxis(qr, 1, graph.AxisRange(0, k)) // Q·b   [N, k]
		mq = graph.MulScalar(cat(0, lasts...), float64(m)) // M·Q_iM ≥ M/(M+1)   [N, 1]
		// r must keep a differentiable path to a and b (customGradient reaches an input only so): add a zero
		// made from them.
		zero := graph.MulScalar(graph.Add(graph.ReduceSum(aa), graph.ReduceSum(bb)), 0)
		r = graph.Add(graph.Reshape(graph.Div(sigma, mq), n), zero)
		return []*graph.Node{r}
	}, func(v []*graph.Node) []*graph.Node {
		if v[0] == nil {
			return []*graph.Node{nil, nil}
		}
		// With u_i = v_i/(M·Q_iM), c_i = v_i·r_i = u_i·σ_i and c_i·P_ij = u_i·Q_ij: no division by σ, which is
		// 0 where every e_ij underflows.
		u := graph.Div(graph.ExpandAxes(v[0], -1), mq)                                               // [N, 1]
		ga := graph.DivScalar(graph.Sub(graph.Mul(graph.Mul(u, sigma), aa), graph.Mul(u, qb)), -tau) // [N, k]
		wt := graph.Transpose(graph.Mul(u, cat(1, aa, graph.OnesLike(u))), 0, 1)                     // [u⊙a | u]ᵀ   [k+1, N]
		// Σ_i u_i Q_ij [a_i | 1] = Σ_i c_i P_ij [a_i | 1], block by block as wᵀ·Q: the Go backend's matmul reads
		// Q in place this way (contracting Q's first axis as lhs would copy it transposed).
		var qtw *graph.Node // [k+1, M+1]
		for i, q := range qs {
			p := graph.DotGeneral(graph.SliceAxis(wt, 1, graph.AxisRange(bounds[i], bounds[i+1])), []int{1}, nil, q, []int{0}, nil)
			if qtw == nil {
				qtw = p
			} else {
				qtw = graph.Add(qtw, p)
			}
		}
		qtw = graph.Transpose(graph.SliceAxis(qtw, 1, graph.AxisRange(0, m)), 0, 1)                            // [M, k+1]
		pca, pc := graph.SliceAxis(qtw, 1, graph.AxisRange(0, k)), graph.SliceAxis(qtw, 1, graph.AxisRange(k)) // [M, k], [M, 1]
		gb := graph.DivScalar(graph.Sub(pca, graph.Mul(pc, bb)), tau)
		return []*graph.Node{ga, gb}
	})[0]
}
