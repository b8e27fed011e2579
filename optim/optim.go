// Package optim implements SGD (with momentum and weight decay), Adam and LARS as GoMLX graph functions over explicit parameter and state lists, so
// the whole training step is one compiled graph whose state can be checkpointed as plain tensors. Package ref
// holds their plain-Go twins.
package optim

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/recipe"
)

// Names of the optimisers: package recipe's (shared with ref), re-exported for callers of Optimizer.
const (
	SGD  = recipe.SGD
	Adam = recipe.Adam
	LARS = recipe.LARS
)

// Names lists the valid optimiser names.
var Names = recipe.Optimizers

// LARS's trust coefficient η (You et al. 2017; SimCLR's eeta) and its defaults in SimCLR (Chen et al. 2020,
// appendix B.1): momentum 0.9, weight decay 1e-6.
const (
	LARSTrust       = 0.001
	LARSMomentum    = 0.9
	LARSWeightDecay = 1e-6
)

// Adam's constants β1, β2 and ε: recipe's.
const (
	Beta1   = recipe.AdamBeta1
	Beta2   = recipe.AdamBeta2
	Epsilon = recipe.AdamEpsilon
)

// Optimizer updates parameters from their gradients inside the step graph. Momentum and WeightDecay apply to
// SGD and LARS (0: none); Adam ignores them.
type Optimizer struct {
	Name        string
	LR          float64
	Momentum    float64 // μ of the momentum buffer, in [0, 1)
	WeightDecay float64 // λ of the L2 term added to the gradient (not to excluded parameters under LARS)
}

// Excluded reports whether LARS leaves p out of weight decay and trust-ratio scaling: biases and batch-norm
// scales and shifts, i.e. every parameter of rank ≤ 1, as SimCLR excludes them by name.
func Excluded(p arch.Param) bool { return len(p.Dims) <= 1 }

// Validate reports an unknown name or a learning rate that is not positive.
func (o Optimizer) Validate() error {
	if !slices.Contains(Names, o.Name) {
		return fmt.Errorf("optim: optimizer must be one of %v, got %q", Names, o.Name)
	}
	if !(o.LR > 0) {
		return fmt.Errorf("optim: learning rate must be > 0, got %g", o.LR)
	}
	if !(o.Momentum >= 0 && o.Momentum < 1) {
		return fmt.Errorf("optim: momentum must be in [0, 1), got %g", o.Momentum)
	}
	if !(o.WeightDecay >= 0) {
		return fmt.Errorf("optim: weight decay must be ≥ 0, got %g", o.WeightDecay)
	}
	return nil
}

// hasMomentum reports whether the optimiser keeps a momentum buffer per trainable parameter.
func (o Optimizer) hasMomentum() bool { return o.Name == LARS || (o.Name == SGD && o.Momentum > 0) }

// State lists the optimiser's state tensors for params, in order: for Adam the step count t (a scalar), then
// m and v of each trainable parameter; for LARS and SGD with momentum a buffer per trainable parameter; plain
// SGD has none. Names are part of the checkpoint format.
func (o Optimizer) State(params []arch.Param) []arch.Param {
	if o.hasMomentum() {
		var st []arch.Param
		for _, p := range params {
			if p.Trainable {
				st = append(st, arch.Param{Name: "momentum/" + p.Name, Dims: p.Dims})
			}
		}
		return st
	}
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
//	SGD:  g' = g + λ p;  b ← μ b + g';  p ← p − lr·b            (μ = 0: p ← p − lr·g', no buffer; PyTorch's SGD)
//	Adam: t ← t+1; m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + ε)
//	LARS: g' = g + λ p;  r = η‖p‖/‖g'‖ (1 where either norm is 0);  b ← μ b + lr·r·g';  p ← p − b
//	      (You et al. 2017 as in SimCLR's implementation; excluded parameters, see Excluded: g' = g, r = 1)
//
// ref.SGD, ref.Adam and ref.LARS are its twins.
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
	if o.Name == SGD || o.Name == LARS {
		k := 0
		for i, p := range params {
			if !trainable[i] {
				continue
			}
			g := grads[i]
			excluded := o.Name == LARS && p.Rank() <= 1
			if o.WeightDecay > 0 && !excluded {
				g = graph.Add(g, graph.MulScalar(p, o.WeightDecay))
			}
			var step *graph.Node // what p moves by, before the learning rate for SGD
			switch {
			case o.Name == LARS:
				step = times(g)
				if !excluded {
					step = graph.Mul(step, trustRatio(p, g))
				}
			default:
				step = g
			}
			if o.hasMomentum() {
				step = graph.Add(graph.MulScalar(state[k], o.Momentum), step)
				newState = append(newState, step)
				k++
			}
			if o.Name == SGD {
				newParams[i] = graph.Sub(p, times(step))
			} else {
				newParams[i] = graph.Sub(p, step)
			}
		}
		return newParams, newState
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

// trustRatio is LARS's η‖p‖/‖g‖ as a scalar, 1 where either norm is 0 (SimCLR's rule).
func trustRatio(p, g *graph.Node) *graph.Node {
	pn := graph.Sqrt(graph.ReduceAllSum(graph.Square(p)))
	gn := graph.Sqrt(graph.ReduceAllSum(graph.Square(g)))
	zero := graph.ScalarZero(p.Graph(), p.DType())
	ok := graph.LogicalAnd(graph.GreaterThan(pn, zero), graph.GreaterThan(gn, zero))
	safe := graph.Where(ok, gn, graph.OnesLike(gn)) // no 0/0 in the branch not taken
	return graph.Where(ok, graph.MulScalar(graph.Div(pn, safe), LARSTrust), graph.OnesLike(pn))
}
