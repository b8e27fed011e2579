package models

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/ops"
)

// MLP applies the fully connected encoder a (see arch/doc.go) to x [B, a.In] with params in the order of
// a.Params():
//
//	h_l = σ(c_l·(h_{l−1} W_l) + b_l),  g = α_m·(h_L A),  T = g/(‖g‖+1e-12) if a.Normalize
//
// It returns T [B, a.Out]. ref.MLPForward is its twin.
func MLP(a arch.MLP, params []*graph.Node, x *graph.Node) *graph.Node {
	if want := len(a.Params()); len(params) != want {
		panic(fmt.Sprintf("models: MLP wants %d params, got %d", want, len(params)))
	}
	x.AssertDims(-1, a.In)
	h := x
	for l := range a.Depth {
		w, b := params[2*l], params[2*l+1]
		pre := ops.Dense(h, w, nil)
		if c := a.HiddenMultiplier(l); c != 1 {
			pre = graph.MulScalar(pre, c)
		}
		h = Activate(a.Activation, ops.AddBias(pre, b)) // [B, m]
	}
	out := ops.Dense(h, params[2*a.Depth], nil) // [B, k]
	if alpha := a.OutputMultiplier(); alpha != 1 {
		out = graph.MulScalar(out, alpha)
	}
	if a.Normalize {
		out = graph.L2NormalizeWithEpsilon(out, 1e-12, -1)
	}
	return out
}

// MLPBody is the fully connected network of arch as an encoder body; its features are MLP's T [B, Out].
// It reads vectors [B, In], or images [B, H, W, C] flattened to [B, H·W·C] (In = H·W·C). Params and Init are
// arch.MLP's.
type MLPBody struct{ arch.MLP }

// Features is the output width k.
func (b MLPBody) Features() int { return b.Out }

// Forward flattens x beyond its first axis if it has more than two and applies MLP. It has no statistics.
func (b MLPBody) Forward(params []*graph.Node, x *graph.Node, _ bool) (*graph.Node, map[int]*graph.Node) {
	if x.Rank() > 2 {
		x = graph.Reshape(x, x.Shape().Dimensions[0], -1)
	}
	return MLP(b.MLP, params, x), nil
}

// Head applies SimCLR's projection head h (see arch.Head) to features [B, h.In]:
//
//	p = relu(x W_1 + b_1) W_2 + b_2
//
// ref.HeadForward is its twin.
func Head(h arch.Head, params []*graph.Node, x *graph.Node) *graph.Node {
	if len(params) != 4 {
		panic(fmt.Sprintf("models: Head wants 4 params, got %d", len(params)))
	}
	x.AssertDims(-1, h.In)
	y := Activate(arch.ReLU, ops.Dense(x, params[0], params[1]))
	return ops.Dense(y, params[2], params[3])
}
