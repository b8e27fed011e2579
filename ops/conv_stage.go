package ops

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// convPoolStage is one stage of the small CNN on the fast path (see conv_phase.go): for the feature maps in
// (p×p components, C channels), kernel k [3, 3, C, C_out] and bias [C_out],
//
//	h = relu(maxpool2×2(conv3×3(x, k)) + b) = relu(max_φ(K·P_φ))      (b as the last column of K, ones row in P)
//
// returned as (p/2)×(p/2) components of C_out channels on the same canvases, the images one canvas further
// along the rows. Its gradient is hand-written (customGradient):
//
//	g = v·[h > 0];  the max-pool sends g to the first maximum of each window in row-major order (as
//	graph.MaxPool's SelectAndScatter does), through ≥ comparisons of the three Max: ∂Y_φ;
//	[∂k; ∂b] = Σ_φ P_φ ∂Y_φᵀ;  ∂X_rs = K_rsᵀ Q_rs, the transposed convolution (inputGradients).
//
// It panics if p < 2, the shapes do not match or the rows lack empty canvases at their end.
func convPoolStage(in phased, k, bias *graph.Node) phased {
	if in.p < 2 || k.Rank() != 4 || k.Shape().Dimensions[2] != in.c {
		panic(fmt.Sprintf("ops: convPoolStage wants p ≥ 2 and k [3, 3, %d, C_out], got p=%d, k %s", in.c, in.p, k.Shape()))
	}
	p, cout := in.p, k.Shape().Dimensions[3]
	k.AssertDims(3, 3, in.c, cout)
	bias.AssertDims(cout)
	if in.tail() < 2 {
		panic(fmt.Sprintf("ops: convPoolStage needs ≥ 2 empty canvases at the end of each row, got %d", in.tail()))
	}
	cs, n := in.cs(), len(in.comps)
	rows, grow := in.c+1, 0 // patch rows per tap (the channels and the dummy) and canvases added per row
	if in.c == 1 {
		rows, grow = 1, 2
	}
	out := phased{p: p / 2, c: cout, n: in.n + grow, first: in.first + 1, b: in.b, hc: in.hc, wc: in.wc}
	l, r := in.n*cs, out.n*cs // row lengths of the input and output maps
	g, dt := k.Graph(), k.DType()
	var (
		patches, ys []*graph.Node // per output phase (α, β), row-major: [9·rows+1, R] and [C_out, R]
		m0, m1, zs  []*graph.Node // per output component: the pairwise maxima and the window maximum
		masks       []*graph.Node // per output component: ReLU's mask on real pixels
		k9          *graph.Node   // [9, C, C_out]
	)
	forward := func(w []*graph.Node) []*graph.Node {
		k9 = graph.Reshape(w[n], 9, in.c, cout)
		kb := graph.Concatenate([]*graph.Node{graph.Reshape(withDummy(k9, rows, 1), 9*rows, cout), graph.Reshape(w[n+1], 1, cout)}, 0)
		kt := graph.Transpose(kb, 0, 1) // [C_out, 9·rows+1]: the last column is the bias
		for alpha := range p {
			for beta := range p {
				pm := im2col(w[:n], phaseTaps(in, alpha, beta), rows, r, true) // [9·rows+1, R]
				patches = append(patches, pm)
				ys = append(ys, dot(kt, 1, pm, 0)) // [C_out, R]
			}
		}
		thr := validThreshold(g, dt, out)
		var hs []*graph.Node
		for _, ph := range poolPhases(p) {
			a, c := graph.Max(ys[ph[0]], ys[ph[1]]), graph.Max(ys[ph[2]], ys[ph[3]])
			m0, m1 = append(m0, a), append(m1, c)
			pre := graph.Max(a, c) // max(y+b) = max(y)+b: the bias came with the product
			mask := graph.GreaterThan(pre, thr)
			zs, masks = append(zs, pre), append(masks, mask)
			hs = append(hs, graph.Where(mask, pre, graph.ScalarZero(g, dt)))
		}
		return hs
	}
	vjp := func(v []*graph.Node) []*graph.Node {
		zero := graph.ScalarZero(g, dt)
		grads := make([]*graph.Node, n+2)
		dys := make([]*graph.Node, p*p)
		var dk *graph.Node // [9·rows+1, C_out]
		setDY := func(phi int, dy *graph.Node) {
			dys[phi] = dy
			dk = addOrSet(dk, dot(patches[phi], 1, dy, 1))
		}
		for j, ph := range poolPhases(p) {
			vj := v[j]
			if vj == nil {
				vj = graph.ZerosLike(zs[j])
			}
			gj := graph.Where(masks[j], vj, zero)
			g0 := graph.Where(graph.GreaterOrEqual(m0[j], m1[j]), gj, zero)
			g1 := graph.Sub(gj, g0)
			setDY(ph[0], graph.Where(graph.GreaterOrEqual(ys[ph[0]], ys[ph[1]]), g0, zero))
			setDY(ph[1], graph.Sub(g0, dys[ph[0]]))
			setDY(ph[2], graph.Where(graph.GreaterOrEqual(ys[ph[2]], ys[ph[3]]), g1, zero))
			setDY(ph[3], graph.Sub(g1, dys[ph[2]]))
		}
		grads[n+1] = graph.Reshape(graph.Slice(dk, graph.AxisElem(9*rows)), cout) // Σ_φ Σ_t ∂Y_φ: the ones row
		dk = graph.Reshape(graph.Slice(dk, graph.AxisRange(0, 9*rows)), 9, rows, cout)
		if rows > in.c {
			dk = graph.Slice(dk, graph.AxisRange(), graph.AxisRange(0, in.c))
		}
		grads[n] = graph.Reshape(dk, 3, 3, in.c, cout)
		copy(grads, inputGradients(in, k9, dys, r, l))
		return grads
	}
	out.comps = customGradient(append(append([]*graph.Node{}, in.comps...), k, bias), forward, vjp)
	return out
}

// inputGradients is the transposed convolution: for each input component X_rs, the blocks (phase φ, tap k)
// that read it, shifted back, ∂X_rs[u] = Σ K_kᵀ ∂Y_φ[u + a_k], as one im2col and one matrix product whose
// output position u+2cs (the shift 2cs − a_k ≥ 0 must be non-negative) is then moved back to u. The last two
// canvases of each row (empty, their gradient is not used) are left zero.
func inputGradients(in phased, k9 *graph.Node, dys []*graph.Node, r, l int) []*graph.Node {
	cs, cout := in.cs(), k9.Shape().Dimensions[2]
	rows := cout + 1
	if tail := (r-l)/cs + in.tail() - 1; tail < 2 {
		panic(fmt.Sprintf("ops: inputGradients needs ≥ 2 empty canvases after the output images, got %d", tail))
	}
	var blocks = make([][]tap, len(in.comps))   // per input component: (phase, shift) blocks
	var kIndex = make([][]int32, len(in.comps)) // and their taps
	for alpha := range in.p {
		for beta := range in.p {
			for ki, t := range phaseTaps(in, alpha, beta) {
				blocks[t.comp] = append(blocks[t.comp], tap{comp: alpha*in.p + beta, a: 2*cs - t.a})
				kIndex[t.comp] = append(kIndex[t.comp], int32(ki))
			}
		}
	}
	g, dt := k9.Graph(), k9.DType()
	dx := make([]*graph.Node, len(in.comps))
	for c, bs := range blocks {
		kb := graph.Gather(k9, graph.Const(g, expandLast(kIndex[c]))) // [nb, C, C_out]
		kb = graph.TransposeAllAxes(withDummy(kb, rows, 2), 1, 0, 2)  // [C, nb, C_out+1]
		kb = graph.Reshape(kb, in.c, len(bs)*rows)                    // [C, nb·(C_out+1)]
		q := im2col(dys, bs, rows, r, false)                          // [nb·(C_out+1), R]
		full := dot(kb, 1, q, 0)                                      // [C, R], position u+2cs
		end := min(r, 2*cs+l)
		dx[c] = graph.Slice(full, graph.AxisRange(), graph.AxisRange(2*cs, end))
		if end-2*cs < l {
			dx[c] = graph.Concatenate([]*graph.Node{dx[c], graph.Zeros(g, shapes.Make(dt, in.c, l-(end-2*cs)))}, 1)
		}
	}
	return dx
}

// withDummy appends zero entries on axis to make its dimension rows (no-op if it already is).
func withDummy(x *graph.Node, rows, axis int) *graph.Node {
	d := x.Shape().Clone().Dimensions
	if d[axis] == rows {
		return x
	}
	d[axis] = rows - d[axis]
	return graph.Concatenate([]*graph.Node{x, graph.Zeros(x.Graph(), shapes.Make(x.DType(), d...))}, axis)
}

// poolPhases lists, per output component (r', s') of a p×p stage, the 4 input phases of its 2×2 windows in
// row-major window order.
func poolPhases(p int) [][4]int {
	var out [][4]int
	for r := range p / 2 {
		for s := range p / 2 {
			a, b := 2*r, 2*s
			out = append(out, [4]int{a*p + b, a*p + b + 1, (a+1)*p + b, (a+1)*p + b + 1})
		}
	}
	return out
}

func expandLast(v []int32) [][]int32 {
	out := make([][]int32, len(v))
	for i, x := range v {
		out[i] = []int32{x}
	}
	return out
}

func addOrSet(acc, x *graph.Node) *graph.Node {
	if acc == nil {
		return x
	}
	return graph.Add(acc, x)
}
