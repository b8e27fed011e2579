package ops

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/graph"
)

// MaxPool2x2 is a 2×2 max-pool with stride 2 of x [B, H, W, C], written as a reshape and a reduction so that
// autodiff can differentiate it on the Go backend (which lacks SelectAndScatterMax, the gradient of
// graph.MaxPool):
//
//	y[b, p, q, c] = max_{i,j<2} x[b, 2p+i, 2q+j, c],   y [B, ⌊H/2⌋, ⌊W/2⌋, C]
//
// An odd last row or column is dropped first, as PyTorch's MaxPool2d (floor mode) and graph.MaxPool without
// padding do. Where a window holds several equal maxima, each of them receives the whole gradient (ReduceMax's
// rule); graph.MaxPool's gradient picks one.
func MaxPool2x2(x *graph.Node) *graph.Node {
	if x.Rank() != 4 || x.Shape().Dimensions[1] < 2 || x.Shape().Dimensions[2] < 2 {
		panic(fmt.Sprintf("ops: MaxPool2x2 wants x [B, H, W, C] with H, W ≥ 2, got %s", x.Shape()))
	}
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1]/2, d[2]/2, d[3]
	if 2*h != d[1] || 2*w != d[2] {
		x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, 2*h), graph.AxisRange(0, 2*w))
	}
	return graph.ReduceMax(graph.Reshape(x, b, h, 2, w, 2, c), 2, 4)
}

// MaxPool is a k×k max-pool with stride s and padding pad (by −MaxFloat32, never a window's maximum) of x [B, H, W, C], as the
// maximum of k² shifted, strided slices (the ImageNet stem of ResNet uses k = 3, s = 2, pad = 1):
//
//	y[b, p, q, c] = max_{i,j<k} x̃[b, s·p+i, s·q+j, c],   H' = ⌊(H + 2·pad − k)/s⌋ + 1
//
// Ties share the gradient, as in MaxPool2x2.
func MaxPool(x *graph.Node, k, s, pad int) *graph.Node {
	if x.Rank() != 4 || k < 1 || s < 1 || pad < 0 || pad >= k || x.Shape().Dimensions[1]+2*pad < k || x.Shape().Dimensions[2]+2*pad < k {
		panic(fmt.Sprintf("ops: MaxPool wants x [B, H, W, C] and 0 ≤ pad < k ≤ H+2·pad, got %s, k=%d, s=%d, pad=%d", x.Shape(), k, s, pad))
	}
	d := x.Shape().Dimensions
	ho, wo := (d[1]+2*pad-k)/s+1, (d[2]+2*pad-k)/s+1
	xp := padAxes(x, []int{pad, pad}, -math.MaxFloat32)
	var y *graph.Node
	for i := range k {
		for j := range k {
			v := graph.Slice(xp, graph.AxisRange(),
				graph.AxisRange(i, i+(ho-1)*s+1).Stride(s),
				graph.AxisRange(j, j+(wo-1)*s+1).Stride(s))
			if y == nil {
				y = v
			} else {
				y = graph.Max(y, v)
			}
		}
	}
	return y
}

// StockMaxPool is MaxPool computed by graph.MaxPool (XLA's ReduceWindow; its gradient needs
// SelectAndScatterMax, which the Go backend lacks).
func StockMaxPool(x *graph.Node, k, s, pad int) *graph.Node {
	return graph.MaxPool(x).Window(k).Strides(s).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
}
