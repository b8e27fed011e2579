package train

import (
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/tensorfile"
)

// pythonWithORT returns a python3 that imports onnxruntime and numpy, or skips t with one line.
func pythonWithORT(t *testing.T) string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import onnxruntime, numpy").Run() == nil {
			return path
		}
	}
	t.Skip(`no python3 with onnxruntime and numpy (python3 -c "import onnxruntime" fails): the ONNX check is skipped`)
	return ""
}

// TestONNXMatchesEmbed: simclr export --format onnx of runs of each encoder kind (MLPs on points and on images
// with each activation, multipliers, normalisation and a head; the small CNN; ResNet-18 with both stems, after
// training steps that moved its batch-norm running averages), run in onnxruntime on simclr embed's inputs,
// gives embed's features and the head's latents to 1e-5 of the largest value. Skipped without onnxruntime.
func TestONNXMatchesEmbed(t *testing.T) {
	py := pythonWithORT(t)
	mnist := filepath.Join(t.TempDir(), "mnist")
	writeMNISTFixture(t, mnist)
	images := func(c Config) Config {
		c.Data, c.DataDir, c.BatchSize, c.Channels = "mnist", mnist, 4, nil
		return c
	}
	mlp := smallRun("", 3)
	mlp.Model, mlp.Depth, mlp.HeadDim, mlp.HeadHidden, mlp.LatentDim = "mlp", 2, 4, 6, 3
	cases := map[string]Config{}
	for _, act := range arch.Activations {
		c := mlp
		c.Activation = act
		cases["mlp-"+act] = c
	}
	c := mlp
	c.Model, c.Depth, c.Scaling, c.Normalize, c.HeadDim = "onehidden", 1, arch.ScalingMeanField, false, 0
	cases["onehidden-meanfield-nohead"] = c
	c = images(mlp)
	c.Activation, c.Width = arch.GELU, 16
	cases["mlp-images"] = c
	c = images(smallRun("", 2))
	c.Model, c.Channels, c.Width, c.HeadDim, c.HeadHidden = "cnn", []int{3, 5}, 8, 6, 10
	cases["cnn"] = c
	for _, stem := range arch.Stems {
		c := images(smallRun("", 2))
		c.Model, c.Stem, c.Width, c.HeadDim, c.HeadHidden = "resnet18", stem, 2, 5, 7
		cases["resnet18-"+stem] = c
	}
	var args, names []string
	for name, c := range cases {
		if testing.Short() && strings.HasPrefix(name, "resnet18") {
			continue
		}
		dir := t.TempDir()
		c.OutDir = dir
		mustRun(t, c)
		onnxPath, x, feats, z := filepath.Join(dir, "e.onnx"), filepath.Join(dir, "x.npy"), filepath.Join(dir, "f.npy"), "-"
		if _, err := ExportRun(dir, 0, "onnx", onnxPath, io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := EmbedRun(dir, 0, "test", feats, x, io.Discard); err != nil {
			t.Fatal(err)
		}
		if c.HeadDim != 0 {
			r, err := OpenRun(dir, 0, "", io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			_, zv, _, zdim, err := r.Featurizer(r.Params).run(r.test)
			if err != nil {
				t.Fatal(err)
			}
			z = filepath.Join(dir, "z.npy")
			if err := tensorfile.WriteNPYFile(z, tensorfile.Tensor{Name: "z", Shape: []int{r.test.n, zdim}, F32: zv}); err != nil {
				t.Fatal(err)
			}
		}
		args, names = append(args, onnxPath, x, feats, z), append(names, name)
	}
	out, err := exec.Command(py, append([]string{"testdata/onnx_check.py"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnxruntime: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(names) {
		t.Fatalf("onnxruntime printed %d lines for %d models:\n%s", len(lines), len(names), out)
	}
	for i, line := range lines {
		f := strings.Fields(line)
		rel := func(d, m string) float64 {
			a, err1 := strconv.ParseFloat(d, 64)
			b, err2 := strconv.ParseFloat(m, 64)
			if err1 != nil || err2 != nil {
				return 1
			}
			return a / max(b, 1e-30)
		}
		rf, rz := rel(f[0], f[1]), 0.0
		if f[2] != "-" {
			rz = rel(f[2], f[3])
		}
		if rf > 1e-5 || rz > 1e-5 || (f[2] != "-") != strings.HasSuffix(f[4], ",z") {
			t.Errorf("%s: onnxruntime vs simclr embed: %s", names[i], line)
		}
		t.Logf("%s: features differ by %.2g of the largest (%s), z by %.2g", names[i], rf, f[1], rz)
	}
}
