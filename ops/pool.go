package ops

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/graph"
)

// MaxPool is a k×k max-pool with stride s and padding pad (by −MaxFloat32, never a window's maximum) of
// x [B, H, W, C] (the ImageNet stem of ResNet uses k = 3, s = 2, pad = 1; the small CNN k = s = 2, pad = 0):
//
//	y[b, p, q, c] = max_{i,j<k} x̃[b, s·p+i, s·q+j, c],   H' = ⌊(H + 2·pad − k)/s⌋ + 1,  W' likewise
//
// A last row or column that no window covers is dropped, as in PyTorch's MaxPool2d (floor mode).
//
// For k = s = 2 without padding (the small CNN's pool) it is a reshape and a ReduceMax (maxPool2x2) on every
// backend: two stock ops, not a substitute. Measured on xla:cpu (AMD EPYC, 2 cores, forward and backward of a
// [512, 28, 28, 32] and a [512, 14, 14, 64] pool), graph.MaxPool took 150 and 84 ms, the reshape form 25 and
// 4.4 ms: XLA's CPU SelectAndScatter, graph.MaxPool's gradient, is the slow part, and it made the small CNN's
// step on xla:cpu 1.6× PyTorch's. Other windows are graph.MaxPool (ReduceWindow) on XLA; on the Go backend,
// which lacks SelectAndScatterMax, the maximum of k² shifted, strided slices. Where a window holds several
// equal maxima, ReduceMax sends the whole gradient to each of them, the slices' chain of Max to the earliest,
// graph.MaxPool's gradient to one.
func MaxPool(x *graph.Node, k, s, pad int) *graph.Node {
	if x.Rank() != 4 || k < 1 || s < 1 || pad < 0 || pad >= k || x.Shape().Dimensions[1]+2*pad < k || x.Shape().Dimensions[2]+2*pad < k {
		panic(fmt.Sprintf("ops: MaxPool wants x [B, H, W, C] and 0 ≤ pad < k ≤ H+2·pad, got %s, k=%d, s=%d, pad=%d", x.Shape(), k, s, pad))
	}
	if k == 2 && s == 2 && pad == 0 {
		return maxPool2x2(x)
	}
	if !Substitute(x.Graph()) {
		return graph.MaxPool(x).Window(k).Strides(s).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
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

// maxPool2x2 is MaxPool with k = s = 2 and no padding, as a reshape and a reduction:
//
//	y[b, p, q, c] = max_{i,j<2} x[b, 2p+i, 2q+j, c],   y [B, ⌊H/2⌋, ⌊W/2⌋, C]
//
// An odd last row or column is dropped first. Where a window holds several equal maxima, each of them receives
// the whole gradient (ReduceMax's rule).
func maxPool2x2(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1]/2, d[2]/2, d[3]
	if 2*h != d[1] || 2*w != d[2] {
		x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, 2*h), graph.AxisRange(0, 2*w))
	}
	return graph.ReduceMax(graph.Reshape(x, b, h, 2, w, 2, c), 2, 4)
}
