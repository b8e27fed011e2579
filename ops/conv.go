package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

// Conv2D is a 2-D convolution (cross-correlation, as in every deep-learning library) of x [B, H, W, C] with
// w [kh, kw, C, C_out], zero padding pad on each side and stride s:
//
//	y[b, p, q, o] = Σ_{i<kh, j<kw, c} x̃[b, s·p+i, s·q+j, c] · w[i, j, c, o],   x̃ = x zero-padded by pad
//	H' = ⌊(H + 2·pad − kh)/s⌋ + 1,  W' likewise
//
// It returns y [B, H', W', C_out] and panics if the shapes do not match or the output would be empty. On XLA it
// is graph.Convolve (ConvGeneral). On the Go backend, whose ConvGeneral is a naive single-threaded loop
// (0.3–0.6 GFLOP/s), it is im2col from stock ops: the kh·kw shifted (strided) slices of x̃ are concatenated on
// the channel axis into patches [B·H'·W', kh·kw·C] and multiplied by w reshaped to [kh·kw·C, C_out] (Dense,
// with its hand-written gradient). Zero padding uses Concatenate, not Pad: autodiff has no gradient for Pad.
func Conv2D(x, w *graph.Node, stride, pad int) *graph.Node {
	b, _, _, c, kh, kw, cout, ho, wo := convShapes("Conv2D", x, w, stride, pad)
	if !Substitute(x.Graph()) {
		return graph.Convolve(x, w).Strides(stride).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
	}
	xp := zeroPad2D(x, pad, pad)
	var cols []*graph.Node
	for i := range kh {
		for j := range kw {
			cols = append(cols, graph.Slice(xp, graph.AxisRange(),
				graph.AxisRange(i, i+(ho-1)*stride+1).Stride(stride),
				graph.AxisRange(j, j+(wo-1)*stride+1).Stride(stride),
				graph.AxisRange())) // [B, H', W', C]
		}
	}
	patches := cols[0]
	if len(cols) > 1 {
		patches = graph.Concatenate(cols, 3) // [B, H', W', kh·kw·C]
	}
	patches = graph.Reshape(patches, b*ho*wo, kh*kw*c)
	y := Dense(patches, graph.Reshape(w, kh*kw*c, cout), nil) // [B·H'·W', C_out]
	return graph.Reshape(y, b, ho, wo, cout)
}

// convShapes checks the operands of a convolution and returns their dimensions and the output's.
func convShapes(fn string, x, w *graph.Node, stride, pad int) (b, h, wd, c, kh, kw, cout, ho, wo int) {
	if x.Rank() != 4 || w.Rank() != 4 || x.Shape().Dimensions[3] != w.Shape().Dimensions[2] || stride < 1 || pad < 0 {
		panic(fmt.Sprintf("ops: %s wants x [B, H, W, C], w [kh, kw, C, C_out], stride ≥ 1 and pad ≥ 0, got x %s, w %s, stride %d, pad %d",
			fn, x.Shape(), w.Shape(), stride, pad))
	}
	xd, wdims := x.Shape().Dimensions, w.Shape().Dimensions
	b, h, wd, c = xd[0], xd[1], xd[2], xd[3]
	kh, kw, cout = wdims[0], wdims[1], wdims[3]
	ho, wo = (h+2*pad-kh)/stride+1, (wd+2*pad-kw)/stride+1
	if h+2*pad < kh || wd+2*pad < kw {
		panic(fmt.Sprintf("ops: %s: a %dx%d kernel does not fit x %s padded by %d", fn, kh, kw, x.Shape(), pad))
	}
	return
}

// zeroPad2D pads the spatial axes 1 and 2 of x [B, H, W, C] with ph rows and pw columns of zeros on each side,
// by concatenation (autodiff has no gradient for Pad).
func zeroPad2D(x *graph.Node, ph, pw int) *graph.Node {
	return padAxes(x, []int{ph, pw}, 0)
}

// padAxes pads axes 1 and 2 of x [B, H, W, C] by p[0] and p[1] on each side with the constant v.
func padAxes(x *graph.Node, p []int, v float64) *graph.Node {
	for k, n := range p {
		if n == 0 {
			continue
		}
		axis := 1 + k
		dims := x.Shape().Clone().Dimensions
		dims[axis] = n
		fill := graph.BroadcastToDims(graph.Scalar(x.Graph(), x.DType(), v), dims...)
		x = graph.Concatenate([]*graph.Node{fill, x, fill}, axis)
	}
	return x
}
