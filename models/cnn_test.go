package models

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/ops"
)

// cnnGrads returns the CNN's features and the gradient of Σ features·wts with respect to x and every
// parameter.
func cnnGrads(t *testing.T, a arch.CNN, mode ops.Mode, params [][]float64, x, wts []float64, b int, dt dtypes.DType) [][]float64 {
	t.Helper()
	specs := a.Params()
	args := []any{tensorOf(dt, x, b, a.H, a.W, a.C), tensorOf(dt, wts, b, a.Dense)}
	for i, p := range params {
		args = append(args, tensorOf(dt, p, specs[i].Dims...))
	}
	outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		h := CNN(a, mode, in[2:], in[0])
		loss := graph.ReduceAllSum(graph.Mul(h, in[1]))
		return append([]*graph.Node{h}, graph.Gradient(loss, append([]*graph.Node{in[0]}, in[2:]...)...)...)
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

// TestCNNFastPathMatchesGeneral: the Go backend's fast path (polyphase layout, hand-written gradients) gives
// the same features and gradients as the general substitutes (Conv2D, MaxPool2x2, autodiff).
func TestCNNFastPathMatchesGeneral(t *testing.T) {
	r := newRand(5)
	for _, c := range []struct {
		a arch.CNN
		b int
	}{
		{arch.CNN{H: 8, W: 8, C: 1, Channels: []int{4, 5}, Dense: 6}, 3},
		{arch.CNN{H: 12, W: 8, C: 3, Channels: []int{3}, Dense: 4}, 2},
		{arch.CNN{H: 16, W: 16, C: 2, Channels: []int{3, 4, 2}, Dense: 5}, 2},
	} {
		params := c.a.Init(3)
		for i := range params { // non-zero biases
			if len(c.a.Params()[i].Dims) == 1 {
				params[i] = randn(r, len(params[i]))
			}
		}
		x, wts := randn(r, c.b*c.a.H*c.a.W*c.a.C), randn(r, c.b*c.a.Dense)
		fast := cnnGrads(t, c.a, ops.Substitutes, params, x, wts, c.b, dtypes.Float64)
		gen := cnnGrads(t, c.a, ops.General, params, x, wts, c.b, dtypes.Float64)
		names := append([]string{"features", "x"}, paramNames(c.a.Params())...)
		for i := range fast {
			if e := relNorm(fast[i], gen[i]); e > 1e-10 || math.IsNaN(e) {
				t.Errorf("%v: %s differs by %.3g", c.a, names[i], e)
			}
		}
	}
}

// TestCNNParamCount pins the small CNN's size, as flax pins CNN_PARAMS: for 28×28×1, channels 32, 64 and
// 256 dense features, (3·3·1·32 + 32) + (3·3·32·64 + 64) + (7·7·64·256 + 256) = 320 + 18,496 + 803,072; for
// 32×32×3 the first convolution has 3·3·3·32 + 32 = 896 and the dense layer 8·8·64·256 + 256 = 1,048,832.
func TestCNNParamCount(t *testing.T) {
	for _, c := range []struct {
		a    arch.CNN
		want int
	}{
		{arch.CNN{H: 28, W: 28, C: 1, Channels: arch.DefaultCNNChannels, Dense: arch.DefaultCNNDense}, 821_888},
		{arch.CNN{H: 32, W: 32, C: 3, Channels: arch.DefaultCNNChannels, Dense: arch.DefaultCNNDense}, 1_068_224},
		{arch.CNN{H: 29, W: 27, C: 1, Channels: []int{8}, Dense: 10}, (9*8 + 8) + (14*13*8*10 + 10)}, // odd sizes: floor
	} {
		trainable, all := trainableCount(c.a.Params())
		if trainable != c.want || all != c.want {
			t.Errorf("%+v: %d parameters (%d trainable), want %d", c.a, all, trainable, c.want)
		}
		if err := c.a.Validate(); err != nil {
			t.Errorf("%+v: %v", c.a, err)
		}
	}
	if err := (arch.CNN{H: 3, W: 28, C: 1, Channels: []int{4, 4}, Dense: 2}).Validate(); err == nil {
		t.Error("a 3-pixel-high image passed two 2×2 pools")
	}
}

func paramNames(ps []arch.Param) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}
