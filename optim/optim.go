// Package optim implements SGD and Adam as GoMLX graph functions over explicit parameter and state lists, so
// the whole training step is one compiled graph whose state can be checkpointed as plain tensors. Package ref
// holds their plain-Go twins.
package optim

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
)

// Names of the optimisers.
const (
	SGD  = "sgd"
	Adam = "adam"
)

// Names lists the valid optimiser names.
var Names = []string{SGD, Adam}

// Adam's constants (Kingma & Ba 2015; PyTorch defaults).
const (
	Beta1   = 0.9
	Beta2   = 0.999
	Epsilon = 1e-8
)

// Optimizer updates parameters from their gradients inside the step graph.
type Optimizer struct {
	Name string
	LR   float64
}

// Validate reports an unknown name or a learning rate that is not positive.
func (o Optimizer) Validate() error {
	if !slices.Contains(Names, o.Name) {
		return fmt.Errorf("optim: optimizer must be one of %v, got %q", Names, o.Name)
	}
	if !(o.LR > 0) {
		return fmt.Errorf("optim: learning rate must be > 0, got %g", o.LR)
	}
	return nil
}

// State lists the optimiser's state tensors for params, in order: for Adam the step count t (a scalar), then
// m and v of each trainable parameter; SGD has none. Names are part of the checkpoint format.
func (o Optimizer) State(params []arch.Param) []arch.Param {
	if o.Name != Adam {
		return nil
	}
	st := []arch.Param{{Name: "adam/step", Dims: nil}}
	for _, p := range params {
		if p.Trainable {
			st = append(st, arch.Param{Name: "adam/m/" + p.Name, Dims: p.Dims}, arch.Param{Name: "adam/v/" + p.Name, Dims: p.Dims})
		}
	}
	return st
}

// Update returns the new parameters and state after one step. grads[i] may be nil for a parameter that is not
// trainable; such parameters are returned unchanged.
//
//	SGD:  p ← p − lr·g
//	Adam: t ← t+1; m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + ε)
//
// ref.SGD and ref.Adam are its twins.
func (o Optimizer) Update(params, grads []*graph.Node, trainable []bool, state []*graph.Node) (newParams, newState []*graph.Node) {
	return o.UpdateScaled(params, grads, trainable, state, nil)
}

// UpdateScaled is Update with the learning rate lr·scale, where scale is a scalar node (a schedule's factor
// fed to the step each time); a nil scale is 1.
func (o Optimizer) UpdateScaled(params, grads []*graph.Node, trainable []bool, state []*graph.Node, scale *graph.Node) (newParams, newState []*graph.Node) {
	newParams = slices.Clone(params)
	// lr·scale is formed once as a scalar, so each parameter's step takes one pass: x·(lr·scale).
	var lr *graph.Node
	if scale != nil {
		lr = graph.MulScalar(scale, o.LR)
	}
	times := func(x *graph.Node) *graph.Node {
		if lr == nil {
			return graph.MulScalar(x, o.LR)
		}
		return graph.Mul(x, graph.ConvertDType(lr, x.DType()))
	}
	if o.Name == SGD {
		for i, p := range params {
			if trainable[i] {
				newParams[i] = graph.Sub(p, times(grads[i]))
			}
		}
		return newParams, nil
	}
	t := graph.AddScalar(state[0], 1)
	bc1 := graph.OneMinus(graph.Pow(graph.Scalar(t.Graph(), t.DType(), Beta1), t))
	bc2 := graph.OneMinus(graph.Pow(graph.Scalar(t.Graph(), t.DType(), Beta2), t))
	newState = []*graph.Node{t}
	k := 1
	for i, p := range params {
		if !trainable[i] {
			continue
		}
		g := grads[i]
		m := graph.Add(graph.MulScalar(state[k], Beta1), graph.MulScalar(g, 1-Beta1))
		v := graph.Add(graph.MulScalar(state[k+1], Beta2), graph.MulScalar(graph.Square(g), 1-Beta2))
		k += 2
		mHat := graph.Div(m, bc1)
		vHat := graph.Div(v, bc2)
		step := graph.Div(mHat, graph.AddScalar(graph.Sqrt(vHat), Epsilon))
		newParams[i] = graph.Sub(p, times(step))
		newState = append(newState, m, v)
	}
	return newParams, newState
}
