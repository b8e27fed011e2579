package train

import (
	"fmt"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/tensorfile"
	"github.com/gosimclr/gosimclr/models"
)

// torchEntry places one of a model's parameters in a PyTorch state_dict: the tensor Name of shape Shape holds
//
//	t[k] = scale · ours[index[k]]
//
// where ours is parameter Param (in Params() order), flat in C order. Every entry is a permutation with a
// scale, so the same table writes an export (torchTensors) and reads one back (fromTorch).
type torchEntry struct {
	Name  string
	Shape []int
	Param int
	index []int
	scale float64
}

// torchLayout is the table of the PyTorch module of m (see torchTensors), and the metadata that names it.
func torchLayout(m models.Model) ([]torchEntry, map[string]string, error) {
	meta := map[string]string{"format": "pt", "layout": "gosimclr torch layout v1"}
	enc, ok := m.(models.Encoder)
	if !ok {
		return nil, nil, usagef("the PyTorch layout exists for the mlp, onehidden and cnn models, not %T", m)
	}
	var out []torchEntry
	switch b := enc.Body.(type) {
	case models.MLPBody:
		meta["model"], meta["activation"], meta["normalize"] = "mlp", b.Activation, fmt.Sprint(b.Normalize)
		out = torchMLP(b.MLP)
	case models.CNNBody:
		meta["model"] = "cnn"
		out = torchCNN(b.CNN)
	default:
		return nil, nil, usagef("the PyTorch layout exists for the mlp, onehidden and cnn models, not %T", enc.Body)
	}
	if head, p := enc.Head, len(enc.Body.Params()); head.Out > 0 {
		out = append(out, linear("head.0", p, head.In, head.Hidden, 1), vec("head.0.bias", p+1, head.Hidden),
			linear("head.2", p+2, head.Hidden, head.Out, 1), vec("head.2.bias", p+3, head.Out))
	}
	return out, meta, nil
}

// torchMLP lays out the MLP a: Linear layers with the multipliers folded in.
func torchMLP(a arch.MLP) []torchEntry {
	var out []torchEntry
	in := a.In
	for l := range a.Depth {
		out = append(out, linear(fmt.Sprint(2*l), 2*l, in, a.Width, a.HiddenMultiplier(l)), vec(fmt.Sprintf("%d.bias", 2*l), 2*l+1, a.Width))
		in = a.Width
	}
	return append(out, linear(fmt.Sprint(2*a.Depth), 2*a.Depth, in, a.Out, a.OutputMultiplier()))
}

// torchCNN lays out the small CNN a: Conv2d weights, then the Linear after Flatten (at 3n).
func torchCNN(a arch.CNN) []torchEntry {
	var out []torchEntry
	in := a.C
	for l, c := range a.Channels {
		out = append(out, conv(fmt.Sprintf("%d.weight", 3*l), 2*l, in, c), vec(fmt.Sprintf("%d.bias", 3*l), 2*l+1, c))
		in = c
	}
	h, w := a.MapSize(len(a.Channels))
	n, k := len(a.Channels), 3*len(a.Channels)+1
	return append(out, flatLinear(fmt.Sprintf("%d.weight", k), 2*n, h, w, in, a.Dense), vec(fmt.Sprintf("%d.bias", k), 2*n+1, a.Dense))
}

// linear is a Linear's weight [out, in] = (c·W)ᵀ of our W [in, out], named prefix.weight.
func linear(prefix string, p, in, outDim int, c float64) torchEntry {
	e := torchEntry{Name: prefix + ".weight", Shape: []int{outDim, in}, Param: p, index: make([]int, in*outDim), scale: c}
	for i := range in {
		for o := range outDim {
			e.index[o*in+i] = i*outDim + o
		}
	}
	return e
}

// vec is a bias, as it is.
func vec(name string, p, n int) torchEntry {
	e := torchEntry{Name: name, Shape: []int{n}, Param: p, index: make([]int, n), scale: 1}
	for i := range n {
		e.index[i] = i
	}
	return e
}

// conv is a Conv2d weight [out, in, 3, 3] of our kernel [3, 3, in, out].
func conv(name string, p, in, outDim int) torchEntry {
	e := torchEntry{Name: name, Shape: []int{outDim, in, 3, 3}, Param: p, index: make([]int, 9*in*outDim), scale: 1}
	for y := range 3 {
		for x := range 3 {
			for i := range in {
				for o := range outDim {
					e.index[((o*in+i)*3+y)*3+x] = ((y*3+x)*in+i)*outDim + o
				}
			}
		}
	}
	return e
}

// flatLinear is the Linear after Flatten: our rows in (h, w, c) order become PyTorch's columns in (c, h, w).
func flatLinear(name string, p, h, wd, c, outDim int) torchEntry {
	in := h * wd * c
	e := torchEntry{Name: name, Shape: []int{outDim, in}, Param: p, index: make([]int, in*outDim), scale: 1}
	for y := range h {
		for x := range wd {
			for ch := range c {
				ours, theirs := (y*wd+x)*c+ch, (ch*h+y)*wd+x
				for o := range outDim {
					e.index[o*in+theirs] = ours*outDim + o
				}
			}
		}
	}
	return e
}

// torchTensors maps a model's parameters (values in Params() order) onto the state_dict of the PyTorch module
// below (the README has a Python twin that loads them; scripts/peer_pytorch.py's mlp and cnn are the same
// modules), and returns the metadata that says which:
//
//	mlp, onehidden: nn.Sequential(Linear(d, m), σ, …, Linear(m, k, bias=False)): "0.weight" [m, d], "0.bias",
//	  "2.weight", …; the NTK/mean-field multipliers are folded into the weights; then F.normalize(·, dim=1)
//	  when the run normalised (metadata "normalize").
//	cnn: nn.Sequential(Conv2d(C, c₁, 3, padding=1), MaxPool2d(2), ReLU(), …, Flatten(), Linear(h·w·c_L, F),
//	  ReLU()): "0.weight" [c₁, C, 3, 3], "0.bias", "3.weight", …, the Linear's columns in PyTorch's (c, h, w)
//	  flattening order; inputs NCHW in [0, 1].
//	head (when the run has one): "head.0.weight" [hidden, F], "head.0.bias", "head.2.weight", "head.2.bias"
//	  of nn.Sequential(Linear(F, hidden), ReLU(), Linear(hidden, out)).
func torchTensors(m models.Model, values [][]float64) ([]tensorfile.Tensor, map[string]string, error) {
	m, values = withoutPredictor(m, values)
	layout, meta, err := torchLayout(m)
	if err != nil {
		return nil, nil, err
	}
	out := make([]tensorfile.Tensor, len(layout))
	for j, e := range layout {
		t := tensorfile.Tensor{Name: e.Name, Shape: e.Shape, F32: make([]float32, len(e.index))}
		for k, i := range e.index {
			t.F32[k] = float32(e.scale * values[e.Param][i])
		}
		out[j] = t
	}
	return out, meta, nil
}

// fromTorch is the inverse of torchTensors for one entry: ours[index[k]] = t[k] / scale. With scale 1 it is
// exact; with a multiplier folded in, the division rounds (the export rounded c·W to float32 first).
func (e torchEntry) fromTorch(t []float64) []float64 {
	v := make([]float64, len(t))
	for k, i := range e.index {
		v[i] = t[k] / e.scale
	}
	return v
}
