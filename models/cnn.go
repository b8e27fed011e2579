package models

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/ops"
)

// CNN applies the small convolutional encoder a (see arch.CNN) to x [B, H, W, C] with params in the order of
// a.Params(), returning the features h [B, a.Dense]:
//
//	a_l = pool(relu(conv3×3(a_{l−1}, K_l) + b_l)),  h = relu(flatten(a_L) W + b)
//
// It computes each stage as relu(pool(conv) + b), which is the same function: a 2×2 max commutes with adding a
// per-channel constant and with the monotone relu, and this order does the bias and relu on a quarter of the
// values. mode picks the stock or substitute convolution and pooling (package ops); on the Go backend, when H and W are
// multiples of 2^len(Channels), the substitutes take the fast path of conv_phase.go.
func CNN(a arch.CNN, mode ops.Mode, params []*graph.Node, x *graph.Node) *graph.Node {
	if want := len(a.Params()); len(params) != want {
		panic(fmt.Sprintf("models: CNN wants %d params, got %d", want, len(params)))
	}
	x.AssertDims(-1, a.H, a.W, a.C)
	stock := mode.UseStock(x.Graph())
	n := len(a.Channels)
	var feat *graph.Node // [B, h·w·C_L], (h, w, c) order
	var chain *ops.Chain // the substitutes' products, serialised (see ops.Chain)
	if !stock {
		chain = &ops.Chain{}
	}
	if !stock && mode != ops.General && ops.Phaseable(x, n) {
		var kernels, biases []*graph.Node
		for l := range n {
			kernels, biases = append(kernels, params[2*l]), append(biases, params[2*l+1])
		}
		feat = ops.ConvPoolStages(x, kernels, biases, chain)
	} else {
		feat = cnnStages(a, stock, params, x, chain)
	}
	return ops.ReLU(ops.Dense(feat, params[2*n], params[2*n+1], chain))
}

// cnnStages runs the convolution stages with the stock ops or the general substitutes and flattens the result.
func cnnStages(a arch.CNN, stock bool, params []*graph.Node, x *graph.Node, chain *ops.Chain) *graph.Node {
	h := x
	for l := range a.Channels {
		k, bias := params[2*l], params[2*l+1]
		if stock {
			h = ops.StockMaxPool(ops.StockConv2D(h, k, 1, 1), 2, 2, 0)
		} else {
			h = ops.MaxPool2x2(ops.Conv2DChained(h, k, 1, 1, chain))
		}
		h = ops.ReLU(ops.AddBias(h, bias)) // [B, H/2^l, W/2^l, C_l]
	}
	return graph.Reshape(h, h.Shape().Dimensions[0], -1)
}

// CNNBody is the small CNN of arch as an encoder body for images [B, H, W, C]; its features are CNN's h
// [B, Dense]. Params, Init and Features are arch.CNN's.
type CNNBody struct {
	arch.CNN
	Ops ops.Mode // stock or substitute convolution and pooling; the zero value chooses by backend
}

// Forward is CNN. The CNN has no batch statistics, so training does not matter.
func (b CNNBody) Forward(params []*graph.Node, x *graph.Node, _ bool) (*graph.Node, map[int]*graph.Node) {
	return CNN(b.CNN, b.Ops, params, x), nil
}
