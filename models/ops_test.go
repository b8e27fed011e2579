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

// TestOpsSwitch builds the same networks with the stock ops and with the substitutes: the outputs agree and,
// where the backend can differentiate the stock ops, so do the gradients. On the Go backend graph.MaxPool has
// no gradient (no SelectAndScatterMax) and there is no stock batch norm for training, so the ResNet uses
// BatchNorm in both builds (the switch then changes convolution and pooling) and max-pooling networks are
// compared on values only; TestCNNFastPathMatchesGeneral covers the CNN's gradients.
func TestOpsSwitch(t *testing.T) {
	rng := newRand(11)
	canPoolGrad := testBackend.Capabilities().Operations[compute.OpTypeSelectAndScatterMax]
	for _, c := range []struct {
		name  string
		model func(mode ops.Mode) Model
		dims  []int
		pool  bool
	}{
		{"cnn", func(mode ops.Mode) Model {
			return Encoder{Body: CNNBody{CNN: arch.CNN{H: 8, W: 8, C: 2, Channels: []int{3, 4}, Dense: 5}, Ops: mode}, Head: arch.Head{In: 5, Hidden: 6, Out: 3}}
		}, []int{3, 8, 8, 2}, true},
		{"cnn/odd", func(mode ops.Mode) Model { // 9×7: the general substitutes (odd edges dropped), not the fast path
			return Encoder{Body: CNNBody{CNN: arch.CNN{H: 9, W: 7, C: 1, Channels: []int{2}, Dense: 3}, Ops: mode}}
		}, []int{2, 9, 7, 1}, true},
		{"resnet18/cifar", func(mode ops.Mode) Model {
			return Encoder{Body: ResNetBody{ResNet18: arch.ResNet18{H: 8, W: 8, C: 3, Stem: arch.StemCIFAR, Width: 2}, Ops: mode}}
		}, []int{4, 8, 8, 3}, false},
		{"resnet18/imagenet", func(mode ops.Mode) Model {
			return Encoder{Body: ResNetBody{ResNet18: arch.ResNet18{H: 16, W: 16, C: 3, Stem: arch.StemImageNet, Width: 2}, Ops: mode}}
		}, []int{3, 16, 16, 3}, true},
	} {
		stock, sub := c.model(ops.Stock), c.model(ops.Substitutes)
		params := stock.Init(4)
		x := randn(rng, prod(c.dims))
		grads := !c.pool || canPoolGrad
		zs := modelGrads(t, stock, params, x, c.dims, nil, false)
		r := randn(rng, len(zs[0]))
		got, want := modelGrads(t, sub, params, x, c.dims, r, grads), modelGrads(t, stock, params, x, c.dims, r, grads)
		for i := range want {
			if e := relNorm(got[i], want[i]); e > 1e-10 || math.IsNaN(e) {
				t.Errorf("%s: output %d (z, then gradients) differs between stock ops and substitutes by %.3g", c.name, i, e)
			}
		}
		if !grads {
			t.Logf("%s: values only (this backend cannot differentiate graph.MaxPool)", c.name)
		}
	}
}

// TestReLU: value max(x, 0) and gradient [x > 0], 0 at x = 0 as in PyTorch.
func TestReLU(t *testing.T) {
	x := []float64{-2, -0.5, 0, 0.5, 3}
	got := valueAndGrads(t, func(in []*graph.Node) *graph.Node { return ops.ReLU(in[0]) }, [][]float64{x}, [][]int{{5}}, []float64{1, 1, 1, 1, 1})
	if want := []float64{0, 0, 0, 0.5, 3}; relNorm(got[0], want) != 0 {
		t.Errorf("ops.ReLU(%v) = %v", x, got[0])
	}
	if want := []float64{0, 0, 0, 1, 1}; relNorm(got[1], want) != 0 {
		t.Errorf("ReLU'(%v) = %v", x, got[1])
	}
}

// TestCustomGradientTwice: two graph.Gradient calls in one graph through hand-written gradients (dense and a
// CNN stage) each get their own cotangents.
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
		outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			h := CNN(a, ops.Substitutes, in[1:], in[0])
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
