package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/onnx"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/ops"
)

// onnxModel builds the evaluation-mode forward pass of m (what simclr embed computes) as an ONNX graph with the
// parameter values baked in as float32 initializers, for examples of shape dims (the data's: [d] for points,
// [H, W, C] for images). Its input "x" is [N, d] for points and [N, C, H, W] (NCHW, values in [0, 1]) for
// images; its outputs are "features" [N, F] and, when m has a projection head, "z" [N, k]. N is symbolic.
//
//	mlp, onehidden: (MatMul W_l, Mul c_l, Add b_l, σ)…, MatMul A, Mul α, then x/(‖x‖₂+1e-12) if it normalises
//	  (ReduceL2, Add, Div), as models.MLP; images are transposed to NHWC and flattened, as MLPBody does.
//	cnn: (Conv 3×3 pad 1 + bias, MaxPool 2×2, Relu)…, Transpose to NHWC, Flatten, MatMul, Add, Relu.
//	resnet18: Conv (no bias), BatchNormalization with the running averages (ε = ops.BNEpsilon), Relu, the
//	  blocks with their shortcuts (Add), GlobalAveragePool, Flatten.
//	head: MatMul, Add, Relu, MatMul, Add.
func onnxModel(m models.Model, values [][]float64, dims []int) (*onnx.Graph, error) {
	m, values = withoutPredictor(m, values)
	enc, ok := m.(models.Encoder)
	if !ok {
		return nil, usagef("ONNX export covers the mlp, onehidden, cnn and resnet18 models, not %T", m)
	}
	g := &onnx.Graph{Name: "gosimclr_encoder"}
	w := onnxWeights{g: g, values: values, params: m.Params()}
	var x string
	if len(dims) == 3 { // images [H, W, C] → input NCHW
		x = g.Input("x", onnx.Batch, dims[2], dims[0], dims[1])
	} else {
		x = g.Input("x", append([]int{onnx.Batch}, dims...)...)
	}
	var h string
	switch b := enc.Body.(type) {
	case models.MLPBody:
		if len(dims) == 3 {
			x = g.Node("Flatten", []string{g.Node("Transpose", []string{x}, onnx.Ints("perm", 0, 2, 3, 1))}, onnx.Int("axis", 1))
		}
		h = onnxMLP(&w, b.MLP, x)
	case models.CNNBody:
		h = onnxCNN(&w, b.CNN, x)
	case models.ResNetBody:
		h = onnxResNet(&w, b.ResNet18, x)
	default:
		return nil, usagef("ONNX export covers the mlp, onehidden, cnn and resnet18 models, not %T", enc.Body)
	}
	g.Output(h, "features", onnx.Batch, enc.Body.Features())
	if enc.Head.Out > 0 {
		y := g.Node("Relu", []string{w.dense(h, true)})
		g.Output(w.dense(y, true), "z", onnx.Batch, enc.Head.Out)
	}
	if w.next != len(values) {
		panic(fmt.Sprintf("train: onnxModel used %d of %d parameters", w.next, len(values)))
	}
	return g, nil
}

// onnxWeights hands out the parameters in Params() order as initializers named after them.
type onnxWeights struct {
	g      *onnx.Graph
	values [][]float64
	params []arch.Param
	next   int
}

// take adds the next parameter with its index permuted by perm (nil: as it is) into shape dims.
func (w *onnxWeights) take(dims []int, perm func(k int) int) string {
	p, v := w.params[w.next], w.values[w.next]
	w.next++
	f := make([]float32, len(v))
	for k := range f {
		i := k
		if perm != nil {
			i = perm(k)
		}
		f[k] = float32(v[i])
	}
	if dims == nil {
		dims = p.Dims
	}
	return w.g.Const(p.Name, dims, f)
}

// dense is x·W (+ b, the next parameter, if bias) with the next parameter W [in, out] as it is.
func (w *onnxWeights) dense(x string, bias bool) string {
	y := w.g.Node("MatMul", []string{x, w.take(nil, nil)})
	if bias {
		y = w.g.Node("Add", []string{y, w.take(nil, nil)})
	}
	return y
}

// kernel is the next convolution kernel [kh, kw, in, out] as ONNX's OIHW.
func (w *onnxWeights) kernel() string {
	d := w.params[w.next].Dims
	kh, kw, in, out := d[0], d[1], d[2], d[3]
	return w.take([]int{out, in, kh, kw}, func(k int) int {
		x := k % kw
		y := k / kw % kh
		i := k / (kw * kh) % in
		o := k / (kw * kh * in)
		return ((y*kw+x)*in+i)*out + o
	})
}

func onnxMLP(w *onnxWeights, a arch.MLP, x string) string {
	g := w.g
	h := x
	for l := range a.Depth {
		pre := g.Node("MatMul", []string{h, w.take(nil, nil)})
		if c := a.HiddenMultiplier(l); c != 1 {
			pre = g.Node("Mul", []string{pre, g.Scalar(fmt.Sprintf("hidden_%d/multiplier", l), float32(c))})
		}
		h = onnxActivation(g, a.Activation, g.Node("Add", []string{pre, w.take(nil, nil)}))
	}
	out := g.Node("MatMul", []string{h, w.take(nil, nil)})
	if alpha := a.OutputMultiplier(); alpha != 1 {
		out = g.Node("Mul", []string{out, g.Scalar("output/multiplier", float32(alpha))})
	}
	if a.Normalize { // x/(‖x‖+1e-12), as graph.L2NormalizeWithEpsilon
		norm := g.Node("ReduceL2", []string{out}, onnx.Ints("axes", 1), onnx.Int("keepdims", 1))
		out = g.Node("Div", []string{out, g.Node("Add", []string{norm, g.Scalar("normalize/epsilon", 1e-12)})})
	}
	return out
}

// onnxActivation applies σ as models.Activate does.
func onnxActivation(g *onnx.Graph, name, x string) string {
	switch name {
	case arch.ReLU:
		return g.Node("Relu", []string{x})
	case arch.LeakyReLU:
		return g.Node("LeakyRelu", []string{x}, onnx.FloatAttr("alpha", arch.LeakySlope))
	case arch.Tanh:
		return g.Node("Tanh", []string{x})
	case arch.GELU: // x·(erf(x/√2) + 1)·0.5, exact
		erf := g.Node("Erf", []string{g.Node("Div", []string{x, g.Scalar("gelu/sqrt2", math.Sqrt2)})})
		one := g.Node("Add", []string{erf, g.Scalar("gelu/one", 1)})
		return g.Node("Mul", []string{x, g.Node("Mul", []string{one, g.Scalar("gelu/half", 0.5)})})
	case arch.Softplus:
		return g.Node("Softplus", []string{x})
	case arch.Identity:
		return x
	}
	panic(fmt.Sprintf("train: onnxActivation: unknown activation %q", name))
}

func onnxCNN(w *onnxWeights, a arch.CNN, x string) string {
	g := w.g
	for range a.Channels {
		y := g.Node("Conv", []string{x, w.kernel(), w.take(nil, nil)}, onnx.Ints("kernel_shape", 3, 3), onnx.Ints("pads", 1, 1, 1, 1))
		y = g.Node("MaxPool", []string{y}, onnx.Ints("kernel_shape", 2, 2), onnx.Ints("strides", 2, 2))
		x = g.Node("Relu", []string{y})
	}
	flat := g.Node("Flatten", []string{g.Node("Transpose", []string{x}, onnx.Ints("perm", 0, 2, 3, 1))}, onnx.Int("axis", 1))
	return g.Node("Relu", []string{w.dense(flat, true)})
}

func onnxResNet(w *onnxWeights, a arch.ResNet18, x string) string {
	g := w.g
	convBN := func(x string, stride, pad int) string {
		k := w.params[w.next].Dims[0]
		y := g.Node("Conv", []string{x, w.kernel()}, onnx.Ints("kernel_shape", int64(k), int64(k)),
			onnx.Ints("strides", int64(stride), int64(stride)), onnx.Ints("pads", int64(pad), int64(pad), int64(pad), int64(pad)))
		bn := []string{y}
		for range 4 { // scale, bias, running mean, running variance
			bn = append(bn, w.take(nil, nil))
		}
		return g.Node("BatchNormalization", bn, onnx.FloatAttr("epsilon", ops.BNEpsilon))
	}
	k, stride, pool := a.StemKernel()
	h := g.Node("Relu", []string{convBN(x, stride, k/2)})
	if pool {
		h = g.Node("MaxPool", []string{h}, onnx.Ints("kernel_shape", 3, 3), onnx.Ints("strides", 2, 2), onnx.Ints("pads", 1, 1, 1, 1))
	}
	for _, b := range a.Blocks() {
		y := g.Node("Relu", []string{convBN(h, b.Stride, 1)})
		y = convBN(y, 1, 1)
		shortcut := h
		if b.Projection {
			shortcut = convBN(h, b.Stride, 0)
		}
		h = g.Node("Relu", []string{g.Node("Add", []string{y, shortcut})})
	}
	return g.Node("Flatten", []string{g.Node("GlobalAveragePool", []string{h})}, onnx.Int("axis", 1))
}

// exportONNX writes the ONNX model of the opened run r (from folder dir) to out, and returns its inputs' and
// outputs' names and shapes.
func exportONNX(r *OpenedRun, dir, out string, log io.Writer) ([]string, error) {
	if r.Input == models.Indices {
		return nil, usagef("--format onnx: the %s model has no network to export (it reads example indices)", r.Config.Model)
	}
	g, err := onnxModel(r.Model, r.ParamValues(), r.train.dims)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{"run": dir, "step": fmt.Sprint(r.Step), "model": r.Config.Model, "input": "x [N, d]"}
	if len(r.train.dims) == 3 {
		meta["input"] = "x [N, C, H, W] (NCHW), values in [0, 1]"
	}
	if err := os.WriteFile(out, g.Model("gosimclr", GitCommit(), meta), 0o644); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	names := []string{"input " + meta["input"], "output features [N, F]"}
	if r.Model.(models.Encoder).Head.Out > 0 {
		names = append(names, "output z [N, k] (the projection head's)")
	}
	fmt.Fprintf(log, "wrote %s (step %d, ONNX opset %d): %s\n", out, r.Step, onnx.Opset, strings.Join(names, ", "))
	return names, nil
}
