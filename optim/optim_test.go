package optim

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/ref"
)

// TestUpdateMatchesReference runs three updates of SGD and Adam on two parameters (one frozen) with fixed
// gradients, in the graph and with ref.SGD / ref.Adam, and compares the parameters (float64, 1e-12).
func TestUpdateMatchesReference(t *testing.T) {
	b, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	params := []arch.Param{{Name: "w", Dims: []int{3}, Trainable: true}, {Name: "frozen", Dims: []int{2}}}
	trainable := []bool{true, false}
	grads := [][]float64{{0.5, -2, 1e-3}, {1, 1}}
	for _, name := range Names {
		o := Optimizer{Name: name, LR: 0.1}
		p := [][]float64{{1, 2, 3}, {4, 5}}
		var state []*tensors.Tensor
		for _, s := range o.State(params) {
			state = append(state, tensors.FromFlatDataAndDimensions(make([]float64, s.Size()), s.Dims...))
		}
		refP := [][]float64{{1, 2, 3}, {4, 5}}
		adam := ref.NewAdamState(refP, trainable)
		for it, scale := range []float64{1, 0.5, 0.25} { // a schedule's factor, fed to the graph each step
			args := []any{tensors.FromFlatDataAndDimensions(p[0], 3), tensors.FromFlatDataAndDimensions(p[1], 2),
				tensors.FromFlatDataAndDimensions(grads[0], 3), tensors.FromFlatDataAndDimensions(grads[1], 2),
				tensors.FromScalar(scale)}
			for _, s := range state {
				args = append(args, s)
			}
			outs, err := graph.CallOnceN(b, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
				var np, ns []*graph.Node
				if it == 0 { // the plain Update is UpdateScaled with scale 1
					np, ns = o.Update(in[0:2], in[2:4], trainable, in[5:])
				} else {
					np, ns = o.UpdateScaled(in[0:2], in[2:4], trainable, in[5:], in[4])
				}
				return append(np, ns...)
			}, args...)
			if err != nil {
				t.Fatal(err)
			}
			p[0], _ = tensors.CopyFlatData[float64](outs[0])
			p[1], _ = tensors.CopyFlatData[float64](outs[1])
			state = outs[2:]
			if name == SGD {
				ref.SGD(refP, grads, trainable, 0.1*scale)
			} else {
				ref.Adam(refP, grads, trainable, 0.1*scale, adam)
			}
		}
		for i := range p {
			for j := range p[i] {
				if math.Abs(p[i][j]-refP[i][j]) > 1e-12 {
					t.Errorf("%s: param %d[%d] = %.15g, reference %.15g", name, i, j, p[i][j], refP[i][j])
				}
			}
		}
		if p[1][0] != 4 || p[1][1] != 5 {
			t.Errorf("%s: a frozen parameter moved: %v", name, p[1])
		}
	}
	if (Optimizer{Name: "lamb", LR: 1}).Validate() == nil || (Optimizer{Name: SGD, LR: 0}).Validate() == nil {
		t.Error("Validate accepted a bad optimiser")
	}
}
