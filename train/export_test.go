package train

import (
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
)

// TestExportIntoPyTorch: simclr export's .npz and safetensors of a trained MLP (NTK multipliers, tanh, a
// head) hold the documented names and shapes and the same values; loaded into the PyTorch twin they give
// simclr embed's features to 1e-5. Skipped without Python, NumPy and torch.
func TestExportIntoPyTorch(t *testing.T) {
	py := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import torch, numpy").Run() == nil {
			py = path
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with torch and numpy")
	}
	dir, tmp := t.TempDir(), t.TempDir()
	c := smallRun(dir, 20)
	c.Model, c.Depth, c.Activation, c.Scaling, c.Normalize = "mlp", 2, arch.Tanh, arch.ScalingNTK, true
	c.HeadDim, c.HeadHidden, c.LatentDim = 4, 6, 3
	mustRun(t, c)
	npz, st := filepath.Join(tmp, "e.npz"), filepath.Join(tmp, "e.safetensors")
	names, err := ExportRun(dir, 0, "npz", npz, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := "0.weight [32 2], 0.bias [32], 2.weight [32 32], 2.bias [32], 4.weight [3 32], head.0.weight [6 3], head.0.bias [6], head.2.weight [4 6], head.2.bias [4]"
	if got := strings.Join(names, ", "); got != want {
		t.Errorf("exported %s\nwant %s", got, want)
	}
	if _, err := ExportRun(dir, 0, "safetensors", st, io.Discard); err != nil {
		t.Fatal(err)
	}
	feats, inputs := filepath.Join(tmp, "f.npy"), filepath.Join(tmp, "x.npy")
	if err := EmbedRun(dir, 0, "test", feats, inputs, io.Discard); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/torch_twin.py", npz, st, inputs, feats, "tanh", "true", "2").CombinedOutput()
	if err != nil {
		t.Fatalf("torch twin: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	diff, err := strconv.ParseFloat(f[0], 64)
	if err != nil || diff > 1e-5 || f[1] != "mlp" {
		t.Errorf("PyTorch twin vs simclr embed: %s", out)
	}
	t.Logf("largest feature difference %g", diff)
	if _, err := ExportRun(dir, 0, "onnx", "", io.Discard); !IsUsage(err) {
		t.Errorf("--format onnx: %v", err)
	}

	// The small CNN on MNIST: kernels to [out, in, 3, 3], the dense layer's rows to PyTorch's (c, h, w)
	// flattening, NHWC inputs permuted to NCHW by the twin.
	if testing.Short() {
		return
	}
	cdir := t.TempDir()
	cc := smallRun(cdir, 2)
	cc.Data, cc.Model, cc.Channels, cc.Width, cc.BatchSize, cc.HeadDim = "mnist", "cnn", []int{3, 5}, 8, 8, 0
	if _, err := Run(cc, io.Discard); err != nil {
		t.Skip(err) // no MNIST here
	}
	if _, err := ExportRun(cdir, 0, "npz", npz, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := ExportRun(cdir, 0, "safetensors", st, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := EmbedRun(cdir, 0, "test", feats, inputs, io.Discard); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(py, "testdata/torch_twin.py", npz, st, inputs, feats, "cnn", "false", "2").CombinedOutput()
	if err != nil {
		t.Fatalf("torch twin (cnn): %v\n%s", err, out)
	}
	f = strings.Fields(string(out))
	if diff, err := strconv.ParseFloat(f[0], 64); err != nil || diff > 1e-5 || f[1] != "cnn" ||
		!strings.Contains(string(out), "0.weight[3, 1, 3, 3]") || !strings.Contains(string(out), "7.weight[8, 245]") {
		t.Errorf("PyTorch CNN twin vs simclr embed: %s", out)
	}
}
