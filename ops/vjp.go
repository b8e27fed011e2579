package ops

import "github.com/gomlx/gomlx/core/graph"

// customGradient returns forward(inputs), but makes autodiff take the inputs' cotangents from vjp instead of
// differentiating forward's ops. vjp receives the outputs' cotangents (nil for an output that no loss reaches)
// and returns one cotangent per input (nil means zero); it is called at most once, lazily, when the first
// input's gradient is needed, so work for inputs outside the gradient's path is never built.
//
// GoMLX only lets an Identity node carry a custom gradient, so each input and output is wrapped in one: the
// outputs' wrappers record the arriving cotangents (the reverse pass reaches them first, as they are created
// last), and the inputs' wrappers return vjp's answer and ignore what autodiff derived through forward. Those
// derived nodes are left unused, and the backends never execute nodes no output depends on.
//
// Each graph.Gradient call reaches all the output wrappers before any input wrapper; the first output wrapper
// of a new call clears the previous call's cotangents and answer. An input's wrapper is only reached if
// forward keeps a differentiable path from that input to an output: wrap in StopGradient only the ops that
// have no VJP (Floor, Bitcast, a fused op), never the whole computation.
//
// Only the substitutes use it, and their vjp never asks Substitute again (the gradient may be built under
// another ForceSubstitutes setting than the forward): it calls the substitute forms, such as columnSumsSub and
// expSub, directly.
//
// The Go backend needs this for speed: the stock gradient of DotGeneral transposes its result even when the
// permutation is the identity (a full copy at 12–16 ns per value), and stock autodiff of max-pooling and
// concatenation builds many more passes over the data than the hand-written gradients here.
func customGradient(inputs []*graph.Node, forward func(in []*graph.Node) []*graph.Node,
	vjp func(v []*graph.Node) []*graph.Node) []*graph.Node {
	var (
		v     []*graph.Node
		grads []*graph.Node
		done  bool
	)
	gradFor := func(i int, x *graph.Node) *graph.Node {
		if !done {
			grads, done = vjp(v), true
		}
		if grads[i] == nil {
			return graph.ZerosLike(x)
		}
		return grads[i]
	}
	wrapped := make([]*graph.Node, len(inputs))
	for i, x := range inputs {
		wrapped[i] = graph.IdentityWithCustomGradient(x, func(x, _ *graph.Node) *graph.Node { return gradFor(i, x) })
	}
	raw := forward(wrapped)
	v = make([]*graph.Node, len(raw))
	outs := make([]*graph.Node, len(raw))
	for j, y := range raw {
		outs[j] = graph.IdentityWithCustomGradient(y, func(_, vj *graph.Node) *graph.Node {
			if done { // a new Gradient call
				clear(v)
				grads, done = nil, false
			}
			v[j] = vj
			return vj
		})
	}
	return outs
}
