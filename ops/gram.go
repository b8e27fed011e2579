package ops

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// maskNum masks self-similarities: a large finite negative, not −Inf, since 0·(−Inf) is NaN in any gradient.
const maskNum = 1e9

// GramLogSumExp is NT-Xent's uniformity term for the rows of u [2N, k] (unit rows, in SimCLR) at inverse
// temperature β = 1/τ:
//
//	lse_i = log Σ_{j≠i} exp(β·u_i·u_j)                                    [2N]
//	∂/∂u = β·(G + Gᵀ)·u,   G_ij = v_i·P_ij,   P_ij = exp(β·u_i·u_j − lse_i) (P_ii = 0)
//
// On the Go backend (Substitute) the forward pass is one matrix product, one masked add and the fused softmax
// op; with P_ip the softmax at the partner p(i) = (i+N) mod 2N, read by two strided slices,
//
//	lse_i = β·u_i·u_p(i) − log P_ip,
//
// and the backward pass is two matrix products with P: no reduction, no exponential and no element-wise pass
// over the 2N×2N matrix. This is exact while P_ip stays a normal float: P_ip ≥ e^{−2β}/(2N), so
// it is used when 2β + log 2N < 80 (τ ≳ 0.03); otherwise, and on XLA, lse comes from LogSumExp.
func GramLogSumExp(u *graph.Node, beta float64) *graph.Node {
	if u.Rank() != 2 || u.Shape().Dimensions[0]%2 != 0 {
		panic(fmt.Sprintf("ops: GramLogSumExp wants u of shape [2N, k], got %s", u.Shape()))
	}
	g, dt, n2 := u.Graph(), u.DType(), u.Shape().Dimensions[0]
	if !Substitute(g) || dt != dtypes.Float32 || 2*beta+math.Log(float64(n2)) >= 80 {
		s := graph.Add(graph.MulScalar(Gram(u, u), beta), diagonalMask(g, dt, n2))
		return LogSumExp(s)
	}
	var p, uu, lse *graph.Node
	return customGradient([]*graph.Node{u}, func(in []*graph.Node) []*graph.Node {
		uu = in[0]
		// β·u_i·u_j, masked, and its row softmax, in row blocks: the Go backend's fused softmax runs on one
		// thread, and independent blocks run in parallel (NT-Xent at 2N = 512, k = 128: ~25% of the step).
		bu := graph.MulScalar(uu, beta)
		nb := rowBlocks(n2)
		var blocks []*graph.Node
		for i := range nb {
			r0, r1 := i*n2/nb, (i+1)*n2/nb
			s := graph.Add(Gram(graph.SliceAxis(bu, 0, graph.AxisRange(r0, r1)), uu), diagonalMaskRows(g, dt, r0, r1, n2)) // [2N/nb, 2N]
			blocks = append(blocks, fusedSoftmax(s, 1))
		}
		p = blocks[0]
		if nb > 1 {
			p = graph.Concatenate(blocks, 0)
		}
		p = graph.StopGradient(p)                                                     // [2N, 2N]
		pos := graph.MulScalar(graph.ReduceSum(graph.Mul(uu, Partner(uu)), -1), beta) // β·u_i·u_p(i)   [2N]
		lse = graph.Sub(pos, graph.Log(partnerEntries(p)))
		return []*graph.Node{lse}
	}, func(v []*graph.Node) []*graph.Node {
		if v[0] == nil {
			return []*graph.Node{nil}
		}
		// With G = diag(βv)·P: G·u = βv ⊙ (P·u). For Gᵀ·u = Pᵀ·(βv ⊙ u), P = D⁻¹E with E = exp(s) symmetric
		// and D = diag(e^lse), so Pᵀ = D·P·D⁻¹: Pᵀw = ζ ⊙ (P·(w/ζ)) with ζ_i = e^{lse_i − max lse} ∈ [e^{−2β}, 1]
		// (normal floats on this path). Both products are then one product of P with [u | w/ζ]: no
		// transpose of P and no element-wise pass over [2N, 2N].
		sl := graph.StopGradient(lse)
		zeta := graph.ExpandAxes(expSub(graph.Sub(sl, graph.ReduceMax(sl))), -1) // [2N, 1]
		bv := graph.ExpandAxes(graph.MulScalar(v[0], beta), -1)                  // [2N, 1]
		k := uu.Shape().Dimensions[1]
		bvk, zetak := SpreadColumn(bv, k), SpreadColumn(zeta, k)                             // [2N, k]: equal shapes below, no broadcast
		rhs := graph.Concatenate([]*graph.Node{uu, graph.Div(graph.Mul(bvk, uu), zetak)}, 1) // [2N, 2k]
		pr := graph.DotGeneral(p, []int{1}, nil, rhs, []int{0}, nil)                         // [2N, 2k]
		gu := graph.Mul(bvk, graph.SliceAxis(pr, 1, graph.AxisRange(0, k)))
		gtu := graph.Mul(zetak, graph.SliceAxis(pr, 1, graph.AxisRange(k)))
		return []*graph.Node{graph.Add(gu, gtu)}
	})[0]
}

// diagonalMask is the constant [n, n] matrix with −1e9 on the diagonal and 0 elsewhere (a constant, so the
// step does not rebuild an identity from Iota and Equal each time).
func diagonalMask(g *graph.Graph, dt dtypes.DType, n int) *graph.Node {
	return diagonalMaskRows(g, dt, 0, n, n)
}

// diagonalMaskRows is rows r0 to r1 of diagonalMask(g, dt, n), [r1−r0, n], made as a constant of its own (a
// Slice of the whole mask would copy it at every step on the Go backend).
func diagonalMaskRows(g *graph.Graph, dt dtypes.DType, r0, r1, n int) *graph.Node {
	if dt == dtypes.Float32 {
		m := make([]float32, (r1-r0)*n)
		for i := r0; i < r1; i++ {
			m[(i-r0)*n+i] = -maskNum
		}
		return graph.ConstTensor(g, tensors.FromFlatDataAndDimensions(m, r1-r0, n))
	}
	m := make([]float64, (r1-r0)*n)
	for i := r0; i < r1; i++ {
		m[(i-r0)*n+i] = -maskNum
	}
	return graph.ConvertDType(graph.ConstTensor(g, tensors.FromFlatDataAndDimensions(m, r1-r0, n)), dt)
}

// Gram is a·bᵀ [A, B] for a [A, k], b [B, k], contracting the last axes directly (no explicit Transpose, which costs a pass over the data on the Go backend).
func Gram(a, b *graph.Node) *graph.Node {
	return graph.DotGeneral(a, []int{1}, nil, b, []int{1}, nil)
}

// Partner returns x with its two halves swapped: row i of the result is row p(i) = (i+N) mod 2N of x.
func Partner(x *graph.Node) *graph.Node {
	n := x.Shape().Dimensions[0] / 2
	return graph.Concatenate([]*graph.Node{
		graph.SliceAxis(x, 0, graph.AxisRange(n)),
		graph.SliceAxis(x, 0, graph.AxisRange(0, n)),
	}, 0)
}

// partnerEntries returns x_{i,p(i)} [2N] of x [2N, 2N]: in the flat row-major buffer they sit at
// i(2N+1) + N for i < N and at i(2N+1) − N for i ≥ N, two strided runs.
func partnerEntries(x *graph.Node) *graph.Node {
	n2 := x.Shape().Dimensions[0]
	n := n2 / 2
	flat := graph.Reshape(x, n2*n2)
	return graph.Concatenate([]*graph.Node{
		graph.Slice(flat, graph.AxisRange(n, n+(n-1)*(n2+1)+1).Stride(n2+1)),
		graph.Slice(flat, graph.AxisRange(n*n2, n*n2+(n-1)*(n2+1)+1).Stride(n2+1)),
	}, 0)
}
