package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/internal/tensorfile"
	"github.com/gosimclr/gosimclr/models"
)

// InitFrom is --init-from: the file whose weights a new run starts from, and its SHA-256. config.json records
// the file actually read (a run folder's newest checkpoint, for a folder) and its hash, so that
// `train --config RUN/config.json` starts from the same bytes or says that they changed.
type InitFrom struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256,omitempty"`
}

// namedWeights is a file's tensor as --init-from reads it.
type namedWeights struct {
	name   string
	dims   []int
	values []float64 // nil for an integer tensor
	dtype  string
}

// initWeights reads the weights of from for model m. It returns the values of each parameter in Params()
// order (nil: drawn from the seed as usual, which only the projection head may be), from with Path the file
// read and SHA256 its hash, and a line saying what was loaded. Files (see readWeights):
//
//   - a run folder: its newest complete checkpoint (every model; exact, in our parameter names);
//   - a checkpoint (ckpt-*.ckpt, params.ckpt): its parameters, by our names ("hidden_0/weights", …);
//   - simclr export's .safetensors or .npz: PyTorch's names and layout (torchLayout: mlp, onehidden, cnn), the
//     multipliers divided back out; files with our names (every name has a "/") are read as they are.
//
// Tensors are matched by name and shape: a name of the model missing from the file, a name of the file that
// the model lacks, another shape, a tensor that is not float or a value that is not finite are errors. A
// projection head wholly absent from the file (an encoder-only export) is drawn from the seed.
func initWeights(from InitFrom, m models.Model) ([][]float64, InitFrom, string, error) {
	path, err := initFile(from.Path)
	if err != nil {
		return nil, from, "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, from, "", usagef("--init-from: %v", err)
	}
	sum := sha256.Sum256(b)
	got := InitFrom{Path: path, SHA256: hex.EncodeToString(sum[:])}
	if from.SHA256 != "" && from.SHA256 != got.SHA256 {
		return nil, from, "", usagef("--init-from %s: its SHA-256 is %s, the settings record %s: the file changed since (name it with --init-from again to use it as it is now)", path, got.SHA256, from.SHA256)
	}
	ws, err := readWeights(b)
	if err != nil {
		return nil, from, "", usagef("--init-from %s: %v", path, err)
	}
	values, loaded, seeded, err := matchWeights(ws, m)
	if err != nil {
		return nil, from, "", usagef("--init-from %s: %v", path, err)
	}
	note := fmt.Sprintf("initial weights from %s (sha256 %s…): %d tensors", path, got.SHA256[:12], loaded)
	if seeded > 0 {
		note += fmt.Sprintf("; the projection head (%d tensors) is not in the file and is drawn from --seed as usual", seeded)
	}
	return values, got, note, nil
}

// initFile is the file --init-from reads: path itself, or for a folder its run's newest complete checkpoint.
func initFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", usagef("--init-from: %v", err)
	}
	if strings.HasSuffix(strings.ToLower(path), ".onnx") {
		return "", usagef("--init-from %s: an ONNX model is not read back; pass the run folder, one of its checkpoints, or its .safetensors/.npz export", path)
	}
	if !fi.IsDir() {
		return path, nil
	}
	runID := ""
	if rec, err := ReadRunRecord(filepath.Join(path, "config.json"), Defaults()); err == nil {
		runID = rec.Environment.RunID
	}
	_, _, ckpt, err := latestCheckpoint(path, runID, io.Discard)
	if err != nil {
		return "", usagef("--init-from %s: a folder must hold a run's checkpoints: %v", path, err)
	}
	return ckpt, nil
}

// readWeights parses a checkpoint (by its magic), an .npz (a zip) or a safetensors file.
func readWeights(b []byte) ([]namedWeights, error) {
	var out []namedWeights
	switch {
	case bytes.HasPrefix(b, []byte("GOSIMCLR-CKPT-")):
		ts, err := checkpoint.Decode(b, nil)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !strings.HasPrefix(t.Name, "param/") { // the optimiser's state, the RNG, the online probe's
				continue
			}
			w := namedWeights{name: strings.TrimPrefix(t.Name, "param/"), dims: t.Dims}
			w.values, w.dtype = tensorfile.Tensor{F32: t.F32, F64: t.F64}.Float64(), map[bool]string{true: "I64", false: "float"}[t.I64 != nil]
			out = append(out, w)
		}
		return out, nil
	case bytes.HasPrefix(b, []byte("PK")):
		ts, err := tensorfile.ParseNPZ(b)
		if err != nil {
			return nil, fmt.Errorf("not a readable .npz: %v", err)
		}
		return fromTensorfile(ts), nil
	}
	ts, _, err := tensorfile.ParseSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("not a checkpoint, .npz or safetensors file: %v", err)
	}
	return fromTensorfile(ts), nil
}

func fromTensorfile(ts []tensorfile.Tensor) []namedWeights {
	out := make([]namedWeights, len(ts))
	for i, t := range ts {
		out[i] = namedWeights{name: t.Name, dims: t.Shape, values: t.Float64(), dtype: map[bool]string{true: "I64", false: "float"}[t.I64 != nil]}
	}
	return out
}

// matchWeights places the file's tensors on m's parameters, by name and shape, in our layout (every name has
// a "/") or PyTorch's. It returns the values (nil where the seed draws them), how many tensors it loaded and
// how many head tensors the seed draws.
func matchWeights(ws []namedWeights, m models.Model) (values [][]float64, loaded, seeded int, err error) {
	ours := len(ws) > 0
	for _, w := range ws {
		ours = ours && strings.Contains(w.name, "/")
	}
	var layout []torchEntry
	if ours {
		for i, p := range m.Params() {
			layout = append(layout, torchEntry{Name: p.Name, Shape: p.Dims, Param: i})
		}
	} else if layout, _, err = torchLayout(baseModel(m)); err != nil {
		return nil, 0, 0, fmt.Errorf("it holds PyTorch-layout names (simclr export), which exist for the mlp, onehidden and cnn models only; for this model pass a run folder or one of its checkpoints")
	}
	file := map[string]namedWeights{}
	for _, w := range ws {
		file[w.name] = w
	}
	want := map[string]bool{}
	for _, e := range layout {
		want[e.Name] = true
	}
	for _, w := range ws {
		if !want[w.name] {
			return nil, 0, 0, fmt.Errorf("it holds %s %v, which this model has no parameter of (its parameters: %s)", w.name, w.dims, nameList(layout))
		}
	}
	values = make([][]float64, len(m.Params()))
	var headMissing, headPresent []string
	for _, e := range layout {
		// the projection head and a BYOL/MoCo v3 predictor: drawn from the seed when the file lacks them
		head := strings.HasPrefix(e.Name, "head/") || strings.HasPrefix(e.Name, "head.") || strings.HasPrefix(e.Name, "predictor/")
		w, ok := file[e.Name]
		switch {
		case !ok && head:
			headMissing = append(headMissing, e.Name)
			continue
		case !ok:
			return nil, 0, 0, fmt.Errorf("this model's %s %v is not in the file (it holds: %s)", e.Name, e.Shape, weightList(ws))
		case !reflect.DeepEqual(normDims(w.dims), normDims(e.Shape)):
			return nil, 0, 0, fmt.Errorf("%s has shape %v there, this model's is %v", e.Name, w.dims, e.Shape)
		case w.values == nil:
			return nil, 0, 0, fmt.Errorf("%s is of dtype %s, which does not convert to float weights (F32, F64, F16, BF16)", e.Name, w.dtype)
		}
		for k, v := range w.values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, 0, 0, fmt.Errorf("%s[%d] is %g: weights must be finite", e.Name, k, v)
			}
		}
		if head {
			headPresent = append(headPresent, e.Name)
		}
		if e.index == nil { // our layout: as it is
			values[e.Param] = w.values
		} else {
			values[e.Param] = e.fromTorch(w.values)
		}
		loaded++
	}
	if len(headMissing) > 0 && len(headPresent) > 0 {
		return nil, 0, 0, fmt.Errorf("it holds part of the projection head (%s) but not %s: give all of it or none", strings.Join(headPresent, ", "), strings.Join(headMissing, ", "))
	}
	return values, loaded, len(headMissing), nil
}

// nameList names the layout's tensors, the first few of a long list.
func nameList(layout []torchEntry) string {
	var names []string
	for _, e := range layout {
		names = append(names, fmt.Sprintf("%s %v", e.Name, e.Shape))
	}
	return shortList(names)
}

func weightList(ws []namedWeights) string {
	var names []string
	for _, w := range ws {
		names = append(names, fmt.Sprintf("%s %v", w.name, w.dims))
	}
	return shortList(names)
}

func shortList(names []string) string {
	if len(names) > 8 {
		return strings.Join(names[:8], ", ") + fmt.Sprintf(", … (%d in all)", len(names))
	}
	return strings.Join(names, ", ")
}

// setParams replaces the parameters that values gives (non-nil entries, in Params() order) by those values in
// the step's dtype; the other devices of a distributed step start again from device 0's.
func (s *Stepper) setParams(values [][]float64) {
	specs := s.Model.Params()
	for i, v := range values {
		if v != nil {
			s.Params[i] = hostTensor(s.DType, v, specs[i].Dims)
		}
	}
	s.replicas = nil
}
