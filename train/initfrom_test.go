package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/internal/tensorfile"
)

// writeMNISTFixture writes MNIST's four files with 28×28 random images (8 train, 4 test, labels 0/1) into dir.
func writeMNISTFixture(t *testing.T, dir string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, split := range []struct {
		prefix string
		n      int
	}{{"train", 8}, {"t10k", 4}} {
		img := binary.BigEndian.AppendUint32(nil, 0x803)
		img = binary.BigEndian.AppendUint32(img, uint32(split.n))
		img = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(img, 28), 28)
		lab := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 0x801), uint32(split.n))
		for i := range split.n {
			for range 28 * 28 {
				img = append(img, byte(rng.IntN(256)))
			}
			lab = append(lab, byte(i%2))
		}
		if err := os.WriteFile(filepath.Join(dir, split.prefix+"-images-idx3-ubyte"), img, 0o644); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, split.prefix+"-labels-idx1-ubyte"), lab, 0o644)
	}
}

// startFrom starts (without taking a step) a run like src's config c but with another seed and --init-from
// from, and returns its features and latents of src's test split, and the config.json it wrote.
func startFrom(t *testing.T, c Config, from string, src *OpenedRun) (feats, z []float32, rec RunRecord) {
	t.Helper()
	c.Seed, c.OutDir, c.InitFrom = c.Seed+6, t.TempDir(), InitFrom{Path: from}
	s, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	r, err := startSession(s, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	feats, z, _, _, err = r.feats.run(src.test)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err = ReadRunRecord(filepath.Join(c.OutDir, "config.json"), Defaults()); err != nil {
		t.Fatal(err)
	}
	return feats, z, rec
}

func sha256File(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// maxRelDiff is max |a−b| / max |b|, and whether a and b are the same bits.
func maxRelDiff(a, b []float32) (float64, bool) {
	if len(a) != len(b) {
		return math.Inf(1), false
	}
	d, m, same := 0.0, 0.0, true
	for i := range a {
		d, m = max(d, math.Abs(float64(a[i])-float64(b[i]))), max(m, math.Abs(float64(b[i])))
		same = same && math.Float32bits(a[i]) == math.Float32bits(b[i])
	}
	return d / m, same
}

// TestInitFromRoundTrip: a run trained for a few steps, exported (safetensors and npz) or named by its folder,
// starts a new run (another seed) whose features and latents before its first step are those of the trained
// run, bit for bit, for the small CNN (export and folder), an MLP (folder) and ResNet-18 (folder, batch-norm
// running averages included); config.json records the file read and its SHA-256. An MLP read back from an
// export differs by the rounding of its multipliers (folded into the float32 weights, divided out again): at
// most 1e-6 of the largest feature.
func TestInitFromRoundTrip(t *testing.T) {
	mnist := filepath.Join(t.TempDir(), "mnist")
	writeMNISTFixture(t, mnist)
	cnn := smallRun("", 3)
	cnn.Data, cnn.DataDir, cnn.Model, cnn.Channels, cnn.Width, cnn.BatchSize, cnn.HeadDim, cnn.HeadHidden = "mnist", mnist, "cnn", []int{3, 5}, 8, 4, 6, 10
	mlp := smallRun("", 3)
	mlp.Model, mlp.Depth, mlp.Activation, mlp.HeadDim, mlp.HeadHidden, mlp.LatentDim = "mlp", 2, arch.Tanh, 4, 6, 3
	resnet := cnn
	resnet.Model, resnet.Stem, resnet.Width, resnet.Steps, resnet.Channels = "resnet18", arch.StemCIFAR, 2, 2, nil
	for _, c := range []struct {
		name    string
		c       Config
		exports bool
		exact   bool // the exports too
	}{{"cnn", cnn, true, true}, {"mlp", mlp, true, false}, {"resnet18", resnet, false, true}} {
		if testing.Short() && c.name == "resnet18" {
			continue
		}
		dir := t.TempDir()
		c.c.OutDir = dir
		mustRun(t, c.c)
		src, err := OpenRun(dir, 0, "", io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		want, wantZ, _, _, err := src.Featurizer(src.Params).run(src.test)
		if err != nil {
			t.Fatal(err)
		}
		files := []string{dir}
		if c.exports {
			for _, f := range []string{"npz", "safetensors"} {
				out := filepath.Join(t.TempDir(), "encoder."+f)
				if _, err := ExportRun(dir, 0, f, out, io.Discard); err != nil {
					t.Fatal(err)
				}
				files = append(files, out)
			}
		}
		for _, f := range files {
			feats, z, rec := startFrom(t, c.c, f, src)
			d, same := maxRelDiff(feats, want)
			dz, sameZ := maxRelDiff(z, wantZ)
			exact := f == dir || c.exact
			if (exact && (!same || !sameZ)) || d > 1e-6 || dz > 1e-6 {
				t.Errorf("%s from %s: features differ by %.3g, latents by %.3g of the largest (bit-identical: %v, %v)", c.name, filepath.Base(f), d, dz, same, sameZ)
			}
			t.Logf("%s from %s: features bit-identical %v (largest difference %.3g of the largest feature), latents %v", c.name, filepath.Base(f), same, d, sameZ)
			read := f
			if f == dir {
				read = filepath.Join(dir, ckptName(c.c.Steps))
			}
			if rec.InitFrom.Path != read || rec.InitFrom.SHA256 != sha256File(t, read) {
				t.Errorf("%s: config.json records init-from %+v, want %s with its sha256", c.name, rec.InitFrom, read)
			}
		}
	}
}

// TestInitFromHeadFromSeed: an encoder-only export (no head tensors) loads the encoder and leaves the head as
// the seed draws it; a file holding only part of the head is refused.
func TestInitFromHeadFromSeed(t *testing.T) {
	c := smallRun("", 1)
	c.Model, c.HeadDim, c.HeadHidden, c.LatentDim = "mlp", 4, 6, 3
	s, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	init := s.Model.Init(99)
	ts, _, err := torchTensors(s.Model, init)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "enc.safetensors")
	if err := tensorfile.WriteSafetensors(path, ts[:3], nil); err != nil { // 0.weight, 0.bias, 2.weight
		t.Fatal(err)
	}
	values, got, note, err := initWeights(InitFrom{Path: path}, s.Model)
	if err != nil {
		t.Fatal(err)
	}
	if values[0] == nil || values[3] != nil || len(values) != 7 || !strings.Contains(note, "projection head (4 tensors)") || got.Path != path {
		t.Errorf("encoder-only: loaded %v, note %q", values, note)
	}
	for i, v := range values[1] { // the bias: exact
		if v != float64(float32(init[1][i])) {
			t.Fatalf("0.bias[%d] = %g, want %g", i, v, init[1][i])
		}
	}
	tensorfile.WriteSafetensors(path, ts[:4], nil)
	if _, _, _, err := initWeights(InitFrom{Path: path}, s.Model); err == nil || !strings.Contains(err.Error(), "part of the projection head") {
		t.Errorf("part of the head: %v", err)
	}
}

// TestInitFromErrors: each bad file or mismatch is a one-line usage error that names what is wrong.
func TestInitFromErrors(t *testing.T) {
	c := smallRun("", 1)
	c.Model, c.HeadDim = "mlp", 0
	s, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err := torchTensors(s.Model, s.Model.Init(1)) // 0.weight [32 2], 0.bias [32], 2.weight [2 32]
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, ts []tensorfile.Tensor) string {
		p := filepath.Join(dir, name)
		if err := tensorfile.WriteSafetensors(p, ts, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	with := func(i int, t tensorfile.Tensor) []tensorfile.Tensor {
		out := append([]tensorfile.Tensor(nil), ts...)
		out[i] = t
		return out
	}
	nan := with(1, tensorfile.Tensor{Name: "0.bias", Shape: []int{32}, F32: make([]float32, 32)})
	nan[1].F32[7] = float32(math.NaN())
	ckpt := filepath.Join(dir, "a.ckpt")
	checkpoint.Write(ckpt, nil, []checkpoint.Tensor{{Name: "param/hidden_0/weights", Dims: []int{2, 32}, F32: make([]float32, 64)}})
	garbage := filepath.Join(dir, "g.bin")
	os.WriteFile(garbage, []byte("not weights at all"), 0o644)
	os.WriteFile(filepath.Join(dir, "e.onnx"), []byte("\x08\x08"), 0o644)
	good := write("good.safetensors", ts)
	for _, e := range []struct {
		name, want string
		from       InitFrom
	}{
		{"no file", "no such file", InitFrom{Path: filepath.Join(dir, "none")}},
		{"not weights", "not a checkpoint, .npz or safetensors file", InitFrom{Path: garbage}},
		{"onnx", "an ONNX model is not read back", InitFrom{Path: filepath.Join(dir, "e.onnx")}},
		{"missing", "this model's 2.weight [2 32] is not in the file", InitFrom{Path: write("m.safetensors", ts[:2])}},
		{"extra", "it holds 9.weight [1], which this model has no parameter of", InitFrom{Path: write("x.safetensors", append(ts, tensorfile.Tensor{Name: "9.weight", Shape: []int{1}, F32: []float32{1}}))}},
		{"shape", "0.bias has shape [31] there, this model's is [32]", InitFrom{Path: write("s.safetensors", with(1, tensorfile.Tensor{Name: "0.bias", Shape: []int{31}, F32: make([]float32, 31)}))}},
		{"dtype", "0.bias is of dtype I64", InitFrom{Path: write("i.safetensors", with(1, tensorfile.Tensor{Name: "0.bias", Shape: []int{32}, I64: make([]int64, 32)}))}},
		{"not finite", "0.bias[7] is NaN", InitFrom{Path: write("n.safetensors", nan)}},
		{"our names", "hidden_0/bias [32] is not in the file", InitFrom{Path: ckpt}},
		{"changed file", "the file changed since", InitFrom{Path: good, SHA256: strings.Repeat("0", 64)}},
		{"empty folder", "a folder must hold a run's checkpoints", InitFrom{Path: t.TempDir()}},
	} {
		_, _, _, err := initWeights(e.from, s.Model)
		if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), e.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want a one-line usage error saying %q", e.name, err, e.want)
		}
	}
	rc := c
	rc.Model, rc.Data, rc.DataDir, rc.BatchSize, rc.Width = "resnet18", "mnist", filepath.Join(dir, "mnist"), 4, 2
	writeMNISTFixture(t, rc.DataDir)
	rs, err := Open(rc)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := initWeights(InitFrom{Path: good}, rs.Model); err == nil || !strings.Contains(err.Error(), "for this model pass a run folder") {
		t.Errorf("PyTorch layout for resnet18: %v", err)
	}
}
