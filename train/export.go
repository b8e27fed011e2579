package train

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/tensorfile"
	"github.com/gosimclr/gosimclr/models"
)

// ExportFormats are the formats simclr export writes.
var ExportFormats = []string{"npz", "safetensors"}

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
	meta := map[string]string{"format": "pt", "layout": "gosimclr torch layout v1"}
	if w, ok := m.(models.WithPredictor); ok { // BYOL, MoCo v3: the encoder without the predictor (its values last)
		m, values = w.Model, values[:w.Base()]
	}
	enc, ok := m.(models.Encoder)
	if !ok {
		return nil, nil, usagef("export supports the mlp, onehidden and cnn models, not %T", m)
	}
	var out []tensorfile.Tensor
	switch b := enc.Body.(type) {
	case models.MLPBody:
		meta["model"], meta["activation"], meta["normalize"] = "mlp", b.Activation, fmt.Sprint(b.Normalize)
		out = torchMLP(b.MLP, values)
	case models.CNNBody:
		meta["model"] = "cnn"
		out = torchCNN(b.CNN, values)
	default:
		return nil, nil, usagef("export supports the mlp, onehidden and cnn models, not %T", enc.Body)
	}
	head, rest := enc.Head, values[len(enc.Body.Params()):]
	if head.Out > 0 {
		out = append(out, linear("head.0", rest[0], head.In, head.Hidden, 1), vec("head.0.bias", rest[1]),
			linear("head.2", rest[2], head.Hidden, head.Out, 1), vec("head.2.bias", rest[3]))
	}
	return out, meta, nil
}

// torchMLP lays out the MLP a: Linear layers with the multipliers folded in.
func torchMLP(a arch.MLP, values [][]float64) []tensorfile.Tensor {
	var out []tensorfile.Tensor
	in := a.In
	for l := range a.Depth {
		c := a.HiddenMultiplier(l)
		out = append(out, linear(fmt.Sprintf("%d", 2*l), values[2*l], in, a.Width, c), vec(fmt.Sprintf("%d.bias", 2*l), values[2*l+1]))
		in = a.Width
	}
	return append(out, linear(fmt.Sprintf("%d", 2*a.Depth), values[2*a.Depth], in, a.Out, a.OutputMultiplier()))
}

// torchCNN lays out the small CNN a: Conv2d weights, then the Linear after Flatten.
func torchCNN(a arch.CNN, values [][]float64) []tensorfile.Tensor {
	var out []tensorfile.Tensor
	in := a.C
	for l, c := range a.Channels {
		out = append(out, conv(fmt.Sprintf("%d.weight", 3*l), values[2*l], in, c), vec(fmt.Sprintf("%d.bias", 3*l), values[2*l+1]))
		in = c
	}
	h, w := a.MapSize(len(a.Channels))
	n, k := len(a.Channels), 3*len(a.Channels)+1 // Flatten at 3n, the Linear after it
	return append(out, flatLinear(fmt.Sprintf("%d.weight", k), values[2*n], h, w, in, a.Dense), vec(fmt.Sprintf("%d.bias", k), values[2*n+1]))
}

// linear is a Linear's weight [out, in] = (c·W)ᵀ of our W [in, out], named prefix.weight.
func linear(prefix string, w []float64, in, outDim int, c float64) tensorfile.Tensor {
	t := tensorfile.Tensor{Name: prefix + ".weight", Shape: []int{outDim, in}, F32: make([]float32, in*outDim)}
	for i := range in {
		for o := range outDim {
			t.F32[o*in+i] = float32(c * w[i*outDim+o])
		}
	}
	return t
}

func vec(name string, v []float64) tensorfile.Tensor {
	t := tensorfile.Tensor{Name: name, Shape: []int{len(v)}, F32: make([]float32, len(v))}
	for i, x := range v {
		t.F32[i] = float32(x)
	}
	return t
}

// conv is a Conv2d weight [out, in, 3, 3] of our kernel [3, 3, in, out].
func conv(name string, k []float64, in, outDim int) tensorfile.Tensor {
	t := tensorfile.Tensor{Name: name, Shape: []int{outDim, in, 3, 3}, F32: make([]float32, len(k))}
	for y := range 3 {
		for x := range 3 {
			for i := range in {
				for o := range outDim {
					t.F32[((o*in+i)*3+y)*3+x] = float32(k[((y*3+x)*in+i)*outDim+o])
				}
			}
		}
	}
	return t
}

// flatLinear is the Linear after Flatten: our rows in (h, w, c) order become PyTorch's columns in (c, h, w).
func flatLinear(name string, w []float64, h, wd, c, outDim int) tensorfile.Tensor {
	in := h * wd * c
	t := tensorfile.Tensor{Name: name, Shape: []int{outDim, in}, F32: make([]float32, in*outDim)}
	for y := range h {
		for x := range wd {
			for ch := range c {
				ours, theirs := (y*wd+x)*c+ch, (ch*h+y)*wd+x
				for o := range outDim {
					t.F32[o*in+theirs] = float32(w[ours*outDim+o])
				}
			}
		}
	}
	return t
}

// ExportRun writes the encoder (and head) of the run in dir at the checkpoint of step (0: the newest) to out
// in format (ExportFormats), in the PyTorch layout of torchTensors, and returns the tensors' names and shapes.
func ExportRun(dir string, step int, format, out string, log io.Writer) ([]string, error) {
	return exportRun(dir, step, format, out, false, log)
}

// exportRun is ExportRun, of the target (momentum) network of a byol or mocov3 run when target is set: its
// default file is then dir/encoder-target.FORMAT, with metadata "target" = "true".
func exportRun(dir string, step int, format, out string, target bool, log io.Writer) ([]string, error) {
	if !slices.Contains(ExportFormats, format) {
		return nil, usagef("--format must be one of %v, got %q", ExportFormats, format)
	}
	r, err := OpenRun(dir, step, "", log)
	if err != nil {
		return nil, err
	}
	values, name := r.ParamValues(), "encoder."
	if target {
		if values, err = r.targetValues(); err != nil {
			return nil, err
		}
		name = "encoder-target."
	}
	ts, meta, err := torchTensors(r.Model, values)
	if err != nil {
		return nil, err
	}
	meta["run"], meta["step"] = dir, fmt.Sprint(r.Step)
	if target {
		meta["target"] = "true"
	}
	if out == "" {
		out = filepath.Join(dir, name+format)
	}
	if format == "npz" {
		err = tensorfile.WriteNPZ(out, ts)
	} else {
		err = tensorfile.WriteSafetensors(out, ts, meta)
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range ts {
		names = append(names, fmt.Sprintf("%s %v", t.Name, t.Shape))
	}
	fmt.Fprintf(log, "wrote %s (step %d): %s\n", out, r.Step, strings.Join(names, ", "))
	return names, nil
}

// EmbedRun writes the encoder features (before the projection head) of every example of the run's data split
// ("train" or "test") to out (default dir/features.npy, inside the run, so that two runs' features never
// overwrite each other) as .npy [n, F] float32, their labels (when the data has them) beside it as
// <out without .npy>.labels.npy [n] int64, and, if inputsOut is not empty, the inputs as the model sees them
// (points as they are, images [n, H, W, C] in [0, 1]).
func EmbedRun(dir string, step int, split, out, inputsOut string, log io.Writer) error {
	if split != "train" && split != "test" {
		return usagef("--split must be train or test, got %q", split)
	}
	r, err := OpenRun(dir, step, "", log)
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(dir, "features.npy")
	}
	data := r.test
	if split == "train" {
		data = r.train
	}
	f := r.Featurizer(r.Params)
	f.progress = log
	feats, _, dim, _, err := f.run(data)
	if err != nil {
		return err
	}
	if err := tensorfile.WriteNPYFile(out, tensorfile.Tensor{Name: "features", Shape: []int{data.n, dim}, F32: feats}); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrote %s: %d × %d features of the %s split (step %d)\n", out, data.n, dim, split, r.Step)
	if data.classes > 1 {
		labels := make([]int64, data.n)
		for i, l := range data.labels {
			labels[i] = int64(l)
		}
		lp := strings.TrimSuffix(out, ".npy") + ".labels.npy"
		if err := tensorfile.WriteNPYFile(lp, tensorfile.Tensor{Name: "labels", Shape: []int{data.n}, I64: labels}); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote %s\n", lp)
	}
	if inputsOut != "" {
		if err := tensorfile.WriteNPYFile(inputsOut, tensorfile.Tensor{Name: "inputs", Shape: append([]int{data.n}, data.dims...), F32: inputs(data)}); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote %s\n", inputsOut)
	}
	return nil
}
