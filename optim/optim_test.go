package optim

import (
	"math"
	"os"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/backendtest"
	"github.com/gosimclr/gosimclr/ref"
)

var testBackend compute.Backend

// TestMain runs the tests on the Go backend and on xla:cpu where its plugin is installed.
func TestMain(m *testing.M) {
	os.Exit(backendtest.Main(m, func(b compute.Backend, _ string) { testBackend = b }, ""))
}

// TestUpdateMatchesReference runs three updates of SGD and Adam on two parameters (one frozen) with fixed
// gradients, in the graph and with ref.SGD / ref.Adam, and compares the parameters (float64, 1e-12).
func TestUpdateMatchesReference(t *testing.T) {
	b := testBackend
	params := []arch.Param{{Name: "w", Dims: []int{3}, Trainable: true}, {Name: "frozen", Dims: []int{2}}}
	trainable := []bool{true, false}
	grads := [][]float64{{0.5, -2, 1e-3}, {1, 1}}
	for _, name := range []string{SGD, Adam} { // LARS and momentum: TestMomentumAndLARSMatchReference
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

// TestMomentumAndLARSMatchReference runs four scheduled steps of SGD with momentum and weight decay and of
// LARS on a weight matrix, a bias (excluded by LARS), a zero matrix (LARS's ratio falls back to 1) and a frozen
// parameter, with gradients that change each step, against ref.SGDMomentum and ref.LARS (float64, 1e-12).
func TestMomentumAndLARSMatchReference(t *testing.T) {
	b := testBackend
	params := []arch.Param{{Name: "w", Dims: []int{2, 3}, Trainable: true}, {Name: "b", Dims: []int{3}, Trainable: true},
		{Name: "z", Dims: []int{2, 2}, Trainable: true}, {Name: "frozen", Dims: []int{2}}}
	trainable := []bool{true, true, true, false}
	excluded := make([]bool, len(params))
	for i, p := range params {
		excluded[i] = Excluded(p)
	}
	if !excluded[1] || excluded[0] || !excluded[3] {
		t.Fatalf("Excluded: %v", excluded)
	}
	init := func() [][]float64 { return [][]float64{{1, -2, 3, 0.5, 0, -1}, {0.1, 0.2, -0.3}, {0, 0, 0, 0}, {4, 5}} }
	for _, o := range []Optimizer{{Name: SGD, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-2},
		{Name: SGD, LR: 0.1, WeightDecay: 1e-2}, {Name: LARS, LR: 2, Momentum: LARSMomentum, WeightDecay: 1e-3}} {
		p, refP := init(), init()
		refBufs := make([][]float64, len(params))
		for i, q := range refP {
			if trainable[i] {
				refBufs[i] = make([]float64, len(q))
			}
		}
		var state []*tensors.Tensor
		for _, s := range o.State(params) {
			state = append(state, tensors.FromFlatDataAndDimensions(make([]float64, s.Size()), s.Dims...))
		}
		if want := map[bool]int{true: 3, false: 0}[o.Momentum > 0 || o.Name == LARS]; len(state) != want {
			t.Fatalf("%+v: %d state tensors, want %d", o, len(state), want)
		}
		for it, scale := range []float64{1, 0.5, 0.25, 1} {
			grads := [][]float64{{0.5, -2, 1e-3, float64(it), 1, -1}, {1, -1, 0.5 * float64(it)}, {0.1, -0.2, 0.3, float64(it)}, {1, 1}}
			args := []any{tensors.FromScalar(scale)}
			for i := range p {
				args = append(args, tensors.FromFlatDataAndDimensions(p[i], params[i].Dims...))
			}
			for i := range grads {
				args = append(args, tensors.FromFlatDataAndDimensions(grads[i], params[i].Dims...))
			}
			for _, s := range state {
				args = append(args, s)
			}
			outs, err := graph.CallOnceN(b, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
				np, ns := o.UpdateScaled(in[1:5], in[5:9], trainable, in[9:], in[0])
				return append(np, ns...)
			}, args...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range p {
				p[i], _ = tensors.CopyFlatData[float64](outs[i])
			}
			state = outs[len(p):]
			if o.Name == LARS {
				ref.LARS(refP, grads, trainable, excluded, o.LR*scale, o.Momentum, o.WeightDecay, LARSTrust, refBufs)
			} else {
				ref.SGDMomentum(refP, grads, trainable, o.LR*scale, o.Momentum, o.WeightDecay, refBufs)
			}
		}
		for i := range p {
			for j := range p[i] {
				if math.Abs(p[i][j]-refP[i][j]) > 1e-12 {
					t.Errorf("%s μ=%g: param %s[%d] = %.15g, reference %.15g", o.Name, o.Momentum, params[i].Name, j, p[i][j], refP[i][j])
				}
			}
		}
		if p[3][0] != 4 || p[3][1] != 5 {
			t.Errorf("%s: a frozen parameter moved: %v", o.Name, p[3])
		}
		if init()[0][0] == p[0][0] {
			t.Errorf("%s: the weight did not move", o.Name)
		}
	}
	for _, bad := range []Optimizer{{Name: LARS, LR: 1, Momentum: 1}, {Name: SGD, LR: 1, WeightDecay: -1}} {
		if bad.Validate() == nil {
			t.Errorf("Validate accepted %+v", bad)
		}
	}
}
