package models

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/ops"
)

// ResNet18 applies the ResNet-18 encoder a (see arch.ResNet18) to x [B, H, W, C] with params in the order of
// a.Params(), returning the globally average-pooled features [B, 8w] and, in training, the new running
// averages of every batch norm keyed by their index in params. ref.ResNet18Forward is its twin.
func ResNet18(a arch.ResNet18, params []*graph.Node, x *graph.Node, training bool) (features *graph.Node, stats map[int]*graph.Node) {
	if want := len(a.Params()); len(params) != want {
		panic(fmt.Sprintf("models: ResNet18 wants %d params, got %d", want, len(params)))
	}
	x.AssertDims(-1, a.H, a.W, a.C)
	r := resnetBuilder{params: params, training: training, stats: map[int]*graph.Node{}}

	k, stride, pool := a.StemKernel()
	h := ops.ReLU(r.convBN(x, stride, k/2)) // stem
	if pool {
		h = ops.MaxPool(h, 3, 2, 1)
	}
	for _, b := range a.Blocks() {
		y := ops.ReLU(r.convBN(h, b.Stride, 1))
		y = r.convBN(y, 1, 1)
		shortcut := h
		if b.Projection {
			shortcut = r.convBN(h, b.Stride, 0)
		}
		h = ops.ReLU(graph.Add(y, shortcut))
		h.AssertDims(-1, -1, -1, b.Out)
	}
	return graph.ReduceMean(h, 1, 2), r.stats // [B, 8w]
}

// resnetBuilder walks the parameters in arch order.
type resnetBuilder struct {
	params   []*graph.Node
	next     int
	training bool
	stats    map[int]*graph.Node
}

// convBN applies the next convolution (weights [k, k, C_in, C_out], no bias) and the next batch norm.
func (r *resnetBuilder) convBN(x *graph.Node, stride, pad int) *graph.Node {
	y := ops.Conv2D(x, r.params[r.next], stride, pad)
	i := r.next + 1
	y, mean, variance := ops.BatchNorm(y, r.params[i], r.params[i+1], r.params[i+2], r.params[i+3], r.training)
	if r.training {
		r.stats[i+2], r.stats[i+3] = mean, variance
	}
	r.next += 5
	return y
}

// ResNetBody is ResNet-18 of arch as an encoder body for images [B, H, W, C]; its features are the pooled
// [B, 8w]. Params, Init and Features are arch.ResNet18's.
type ResNetBody struct{ arch.ResNet18 }

// Forward is ResNet18.
func (b ResNetBody) Forward(params []*graph.Node, x *graph.Node, training bool) (*graph.Node, map[int]*graph.Node) {
	return ResNet18(b.ResNet18, params, x, training)
}
