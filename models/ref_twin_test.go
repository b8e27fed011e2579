package models

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/ref"
)

// twinResult is what both sides of the graph ↔ ref cross-check compute for one batch of views: the loss,
// the features (training mode) and the evaluation-mode features, the gradient of every trainable parameter
// (nil for the others) and the batch norms' new running averages by parameter index.
type twinResult struct {
	loss             float64
	features, evalFt []float64
	grads            [][]float64
	stats            map[int][]float64
}

// graphTwin runs m on the backend: Forward in training and evaluation mode, the loss and graph.Gradient
// with respect to the trainable parameters, as train.Stepper does.
func graphTwin(t *testing.T, m Model, params [][]float64, x []float64, dims []int, cfg losses.Config, dt dtypes.DType) twinResult {
	t.Helper()
	specs := m.Params()
	args := []any{tensorOf(dt, x, dims...)}
	for i, p := range params {
		args = append(args, tensorOf(dt, p, specs[i].Dims...))
	}
	var statIdx, trainIdx []int
	outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		ps := in[1:]
		fwd := m.Forward(ps, in[0], true)
		loss := losses.Loss(fwd.Z, cfg).Loss
		var trainable []*graph.Node
		for i, s := range specs {
			if s.Trainable {
				trainable, trainIdx = append(trainable, ps[i]), append(trainIdx, i)
			}
		}
		out := []*graph.Node{loss, fwd.Features, m.Forward(ps, in[0], false).Features}
		out = append(out, graph.Gradient(loss, trainable...)...)
		statIdx = slices.Sorted(maps.Keys(fwd.Stats))
		for _, i := range statIdx {
			out = append(out, fwd.Stats[i])
		}
		return out
	}, args...)
	if err != nil {
		t.Fatal(err)
	}
	r := twinResult{loss: flat(outs[0])[0], features: flat(outs[1]), evalFt: flat(outs[2]),
		grads: make([][]float64, len(specs)), stats: map[int][]float64{}}
	for k, i := range trainIdx {
		r.grads[i] = flat(outs[3+k])
	}
	for k, i := range statIdx {
		r.stats[i] = flat(outs[3+len(trainIdx)+k])
	}
	return r
}

// refTwin is the same computation on ref.ConvTrainer in T.
func refTwin[T ref.Float](m ref.ConvModel, params [][]float64, x []float64, n2 int, cfg losses.Config) twinResult {
	tr := ref.NewConvTrainer[T](m, 1, ref.LossConfig{Kernel: cfg.Kernel, Part: cfg.Part, Temperature: cfg.Temperature}, ref.OptimizerSGD, 1)
	tr.Params = ref.ConvertParams[T](params)
	xs := ref.ConvertParams[T]([][]float64{x})[0]
	to64 := func(v []T) []float64 {
		if v == nil {
			return nil
		}
		out := make([]float64, len(v))
		for i, e := range v {
			out[i] = float64(e)
		}
		return out
	}
	var r twinResult
	ft, _, _, _ := tr.Forward(xs, n2, false)
	r.evalFt = to64(ft)
	ft, _, _, _ = tr.Forward(xs, n2, true)
	r.features = to64(ft)
	loss, grads, stats := tr.Gradients(xs, n2)
	r.loss, r.stats = loss, map[int][]float64{}
	for _, g := range grads {
		r.grads = append(r.grads, to64(g))
	}
	for i, v := range stats {
		r.stats[i] = to64(v)
	}
	return r
}

// twinCase is one encoder of the cross-check, as a graph Model and its ref twin.
type twinCase struct {
	name  string
	graph Model
	ref   ref.ConvModel
	img   [3]int // H, W, C
}

func twinCases() []twinCase {
	head := func(in int) arch.Head { return arch.Head{In: in, Hidden: 16, Out: 8} }
	var cs []twinCase
	for _, a := range []arch.CNN{
		{H: 8, W: 8, C: 1, Channels: []int{4, 5}, Dense: 6},      // the Go backend's fast path (sizes divide by 4)
		{H: 9, W: 7, C: 3, Channels: []int{3, 4}, Dense: 5},      // the general substitutes, odd rows dropped
		{H: 12, W: 12, C: 2, Channels: []int{3, 2, 2}, Dense: 4}, // fast path, three stages
	} {
		cs = append(cs, twinCase{fmt.Sprintf("cnn/%dx%dx%d", a.H, a.W, a.C), Encoder{Body: CNNBody{CNN: a}, Head: head(a.Dense)},
			ref.CNNEncoder{CNN: a, Head: head(a.Dense)}, [3]int{a.H, a.W, a.C}})
	}
	for _, a := range []arch.ResNet18{
		{H: 8, W: 8, C: 3, Stem: arch.StemCIFAR, Width: 4},
		{H: 16, W: 16, C: 3, Stem: arch.StemImageNet, Width: 4},
	} {
		cs = append(cs, twinCase{"resnet18/" + a.Stem, Encoder{Body: ResNetBody{ResNet18: a}, Head: head(a.Features())},
			ref.ResNetEncoder{ResNet: a, Head: head(a.Features())}, [3]int{a.H, a.W, a.C}})
	}
	return cs
}

// TestConvEncodersMatchReference: the GoMLX CNN and ResNet-18 (substitute ops on the Go backend, batch norms
// in training mode) give the same loss, features, gradients of every trainable parameter and new running
// averages as their twins in package ref, within 1e-9 relative in float64 and 1e-4 in float32; the
// evaluation-mode features (running averages) agree too. Biases and batch-norm parameters are moved away
// from their initial values so that every term matters.
func TestConvEncodersMatchReference(t *testing.T) {
	const n2 = 6
	r := newRand(121)
	cfg := losses.Config{Temperature: 0.5}
	for _, c := range twinCases() {
		t.Run(c.name, func(t *testing.T) {
			specs := c.graph.Params()
			params := c.graph.Init(7)
			for i, p := range specs {
				switch {
				case strings.HasSuffix(p.Name, "/scale"), strings.HasSuffix(p.Name, "/running_var"):
					params[i] = arch.Normal(r, p.Size(), 0.3)
					for j := range params[i] {
						params[i][j] = 1 + math.Abs(params[i][j])
					}
				case len(p.Dims) == 1:
					params[i] = arch.Normal(r, p.Size(), 0.3)
				}
			}
			x := randn(r, n2*c.img[0]*c.img[1]*c.img[2])
			dims := []int{n2, c.img[0], c.img[1], c.img[2]}
			for _, tc := range []struct {
				dt  dtypes.DType
				tol float64
			}{{dtypes.Float64, 1e-9}, {dtypes.Float32, 1e-4}} {
				g := graphTwin(t, c.graph, params, x, dims, cfg, tc.dt)
				var w twinResult
				if tc.dt == dtypes.Float64 {
					w = refTwin[float64](c.ref, params, x, n2, cfg)
				} else {
					w = refTwin[float32](c.ref, params, x, n2, cfg)
				}
				check := func(what string, got, want []float64) {
					if e := relNorm(got, want); e > tc.tol || math.IsNaN(e) || len(got) != len(want) {
						t.Errorf("%s: %s: graph and ref differ by %.3g > %g", tc.dt, what, e, tc.tol)
					}
				}
				if e := math.Abs(g.loss-w.loss) / math.Max(math.Abs(w.loss), 1); e > tc.tol {
					t.Errorf("%s: loss %.12g, reference %.12g", tc.dt, g.loss, w.loss)
				}
				check("features", g.features, w.features)
				check("evaluation features", g.evalFt, w.evalFt)
				for i, p := range specs {
					if p.Trainable {
						check("∂L/∂"+p.Name, g.grads[i], w.grads[i])
					}
				}
				if !slices.Equal(slices.Sorted(maps.Keys(g.stats)), slices.Sorted(maps.Keys(w.stats))) {
					t.Fatalf("%s: statistics for %v in the graph, %v in ref", tc.dt, slices.Sorted(maps.Keys(g.stats)), slices.Sorted(maps.Keys(w.stats)))
				}
				for i, v := range g.stats {
					check(specs[i].Name, v, w.stats[i])
				}
			}
		})
	}
}
