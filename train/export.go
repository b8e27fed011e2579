package train

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gosimclr/gosimclr/internal/tensorfile"
	"github.com/gosimclr/gosimclr/models"
)

// ExportFormats are the formats simclr export writes: the PyTorch state_dict (torchTensors) as .npz or
// safetensors, or the whole forward pass as an ONNX model (onnxModel).
var ExportFormats = []string{"npz", "safetensors", "onnx"}

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
	if out == "" {
		out = filepath.Join(dir, name+format)
	}
	if format == "onnx" {
		if target {
			return nil, usagef("--target with --format onnx: ONNX export covers the online encoder; export the target as npz or safetensors")
		}
		return exportONNX(r, dir, out, log)
	}
	ts, meta, err := torchTensors(r.Model, values)
	if err != nil {
		return nil, err
	}
	meta["run"], meta["step"] = dir, fmt.Sprint(r.Step)
	if target {
		meta["target"] = "true"
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

// withoutPredictor returns the encoder of a BYOL or MoCo v3 model (models.WithPredictor) and its values, the
// predictor's dropped (it is a training device, not part of the representation); other models as they are.
func withoutPredictor(m models.Model, values [][]float64) (models.Model, [][]float64) {
	if w, ok := m.(models.WithPredictor); ok {
		return w.Model, values[:min(len(values), w.Base())]
	}
	return m, values
}

// baseModel is m without a BYOL or MoCo v3 predictor.
func baseModel(m models.Model) models.Model {
	if w, ok := m.(models.WithPredictor); ok {
		return w.Model
	}
	return m
}
