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
// The convolution stages are ops.ConvPoolStages, which computes each as relu(pool(conv) + b): the same function,
// since a 2×2 max commutes with adding a per-channel constant and with the monotone relu, with the bias and relu
// on a quarter of the values. ref.CNNForward is its twin.
func CNN(a arch.CNN, params []*graph.Node, x *graph.Node) *graph.Node {
	if want := len(a.Params()); len(params) != want {
		panic(fmt.Sprintf("models: CNN wants %d params, got %d", want, len(params)))
	}
	x.AssertDims(-1, a.H, a.W, a.C)
	n := len(a.Channels)
	var kernels, biases []*graph.Node
	for l := range n {
		kernels, biases = append(kernels, params[2*l]), append(biases, params[2*l+1])
	}
	feat := ops.ConvPoolStages(x, kernels, biases) // [B, h·w·C_L], (h, w, c) order
	return ops.ReLU(ops.Dense(feat, params[2*n], params[2*n+1]))
}

// CNNBody is the small CNN of arch as an encoder body for images [B, H, W, C]; its features are CNN's h
// [B, Dense]. Params, Init and Features are arch.CNN's.
type CNNBody struct{ arch.CNN }

// Forward is CNN. The CNN has no batch statistics, so training does not matter.
func (b CNNBody) Forward(params []*graph.Node, x *graph.Node, _ bool) (*graph.Node, map[int]*graph.Node) {
	return CNN(b.CNN, params, x), nil
}
