package models

import (
	"math"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/ops"
)

// modelGrads runs m.Forward in training mode on x [dims] and returns z and the gradient of Σ z·r with
// respect to every trainable parameter (or only z when grads is false).
func modelGrads(t *testing.T, m Model, params [][]float64, x []float64, dims []int, r []float64, grads bool) [][]float64 {
	t.Helper()
	specs := m.Params()
	args := []any{tensorOf(dtypes.Float64, x, dims...)}
	for i, p := range params {
		args = append(args, tensorOf(dtypes.Float64, p, specs[i].Dims...))
	}
	outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		z := m.Forward(in[1:], in[0], true).Z
		out := []*graph.Node{z}
		if grads {
			var tr []*graph.Node
			for i, p := range specs {
				if p.Trainable {
					tr = append(tr, in[1+i])
				}
			}
			w := graph.Reshape(graph.Const(g, r), z.Shape().Dimensions...)
			out = append(out, graph.Gradient(graph.ReduceAllSum(graph.Mul(z, w)), tr...)...)
		}
		return out
	}, args...)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		res[i] = flat(o)
	}
	return res
}

// withSubstitutes returns f() built with ops.ForceSubstitutes(on) in force (graph and gradient are both built
// inside f).
func withSubstitutes[T any](on bool, f func() T) T {
	defer ops.ForceSubstitutes(on)()
	return f()
}

// TestOpsSwitch builds the same networks with the stock ops and with the substitutes (ops.ForceSubstitutes): the
// outputs agree and, where the backend can differentiate the stock ops, so do the gradients. On the Go backend
// graph.MaxPool has no gradient (no SelectAndScatterMax) and there is no stock batch norm for training, so the
// ResNet uses the exact batch norm in both builds (the switch then changes convolution and pooling) and
// max-pooling networks are compared on values only; the ops tests compare the CNN's fast path and the general
// substitutes there. On XLA everything is compared: stock convolution, max-pool and fused batch norm against
// the substitutes, values and gradients.
func TestOpsSwitch(t *testing.T) {
	rng := newRand(11)
	canPoolGrad := testBackend.Capabilities().Operations[compute.OpTypeSelectAndScatterMax]
	fusedBN := testBackend.Capabilities().Operations[compute.OpTypeBatchNormForTraining]
	for _, c := range []struct {
		name     string
		model    Model
		dims     []int
		pool, bn bool
	}{
		{"cnn", Encoder{Body: CNNBody{arch.CNN{H: 8, W: 8, C: 2, Channels: []int{3, 4}, Dense: 5}}, Head: arch.Head{In: 5, Hidden: 6, Out: 3}},
			[]int{3, 8, 8, 2}, true, false},
		// 9×7: the general substitutes (odd edges dropped), not the fast path
		{"cnn/odd", Encoder{Body: CNNBody{arch.CNN{H: 9, W: 7, C: 1, Channels: []int{2}, Dense: 3}}}, []int{2, 9, 7, 1}, true, false},
		{"resnet18/cifar", Encoder{Body: ResNetBody{arch.ResNet18{H: 8, W: 8, C: 3, Stem: arch.StemCIFAR, Width: 2}}}, []int{4, 8, 8, 3}, false, true},
		{"resnet18/imagenet", Encoder{Body: ResNetBody{arch.ResNet18{H: 16, W: 16, C: 3, Stem: arch.StemImageNet, Width: 2}}}, []int{3, 16, 16, 3}, true, true},
	} {
		params := c.model.Init(4)
		x := randn(rng, prod(c.dims))
		grads := !c.pool || canPoolGrad
		zs := modelGrads(t, c.model, params, x, c.dims, nil, false)
		r := randn(rng, len(zs[0]))
		got := withSubstitutes(true, func() [][]float64 { return modelGrads(t, c.model, params, x, c.dims, r, grads) })
		want := withSubstitutes(false, func() [][]float64 { return modelGrads(t, c.model, params, x, c.dims, r, grads) })
		tol := 1e-10
		if c.bn && fusedBN {
			// XLA's fused batch norm rounds otherwise than the exact form (~1e-13 per layer in float64, see
			// TestBatchNormEvaluation), and the last stages normalise over B·1·1 = 3 or 4 values: through 20
			// batch norms the gradients differed by up to 1.5e-8.
			tol = 1e-7
		}
		for i := range want {
			if e := relNorm(got[i], want[i]); e > tol || math.IsNaN(e) {
				t.Errorf("%s: output %d (z, then gradients) differs between stock ops and substitutes by %.3g > %g", c.name, i, e, tol)
			}
		}
		if !grads {
			t.Logf("%s: values only (this backend cannot differentiate graph.MaxPool)", c.name)
		}
	}
}

// TestReLU: value max(x, 0) on both paths; gradient [x > 0] away from 0, and at x = 0 0 for the substitute
// (as PyTorch and ref) and 1 for the stock graph.Max (GoMLX's rule for a tie).
func TestReLU(t *testing.T) {
	x := []float64{-2, -0.5, 0, 0.5, 3}
	for _, sub := range []bool{true, false} {
		got := withSubstitutes(sub, func() [][]float64 {
			return valueAndGrads(t, func(in []*graph.Node) *graph.Node { return ops.ReLU(in[0]) }, [][]float64{x}, [][]int{{5}}, []float64{1, 1, 1, 1, 1})
		})
		if want := []float64{0, 0, 0, 0.5, 3}; relNorm(got[0], want) != 0 {
			t.Errorf("substitutes %v: ops.ReLU(%v) = %v", sub, x, got[0])
		}
		atZero := 0.0
		if !sub {
			atZero = 1
		}
		if want := []float64{0, 0, atZero, 1, 1}; relNorm(got[1], want) != 0 {
			t.Errorf("substitutes %v: ReLU'(%v) = %v, want %v", sub, x, got[1], want)
		}
	}
}

// TestCustomGradientTwice: two graph.Gradient calls in one graph through hand-written gradients (dense and a
// CNN stage, the substitutes forced on any backend) each get their own cotangents.
func TestCustomGradientTwice(t *testing.T) {
	rng := newRand(13)
	a := arch.CNN{H: 4, W: 4, C: 1, Channels: []int{2}, Dense: 3}
	specs := a.Params()
	args := []any{tensorOf(dtypes.Float64, randn(rng, 2*16), 2, 4, 4, 1)}
	for i, v := range a.Init(5) {
		args = append(args, tensorOf(dtypes.Float64, v, specs[i].Dims...))
	}
	r1, r2 := randn(rng, 6), randn(rng, 6)
	grads := func(both bool) [][]float64 {
		defer ops.ForceSubstitutes(true)()
		outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			h := CNN(a, in[1:], in[0])
			loss := func(r []float64) *graph.Node {
				return graph.ReduceAllSum(graph.Mul(h, graph.Reshape(graph.Const(g, r), 2, 3)))
			}
			if !both {
				return graph.Gradient(loss(r2), in[1:]...)
			}
			_ = graph.Gradient(loss(r1), in[1:]...)
			return graph.Gradient(loss(r2), in[1:]...)
		}, args...)
		if err != nil {
			t.Fatal(err)
		}
		var res [][]float64
		for _, o := range outs {
			res = append(res, flat(o))
		}
		return res
	}
	once, twice := grads(false), grads(true)
	for i := range once {
		if e := relNorm(twice[i], once[i]); e > 1e-14 {
			t.Errorf("%s: the second Gradient call differs by %.3g", specs[i].Name, e)
		}
	}
}
