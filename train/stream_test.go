package train

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
)

// writeImageFolder writes n PNG images of varied sizes (18–40 px) into class folders a/ and b/, and the
// extra files given.
func writeImageFolder(t *testing.T, n int, extra map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		class := []string{"a", "b"}[i%2]
		img := image.NewRGBA(image.Rect(0, 0, 18+i%23, 20+(3*i)%21))
		for k := range img.Pix {
			img.Pix[k] = uint8(rng.IntN(256))
		}
		for y := range img.Rect.Dy() { // a class-dependent stripe, so that there is something to learn
			img.Set((y+7*i)%img.Rect.Dx(), y, color.RGBA{uint8(255 * (i % 2)), 255, 0, 255})
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		extra[filepath.Join(class, fmt.Sprintf("%03d.png", i))] = buf.Bytes()
	}
	for name, b := range extra {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// streamRun is a small streamed training of the CNN on folder root.
func streamRun(root, out string, steps int) Config {
	c := Defaults()
	c.Data, c.Stream, c.ImageSize, c.Model, c.Channels, c.Width, c.HeadDim, c.HeadHidden = "folder:"+root, "on", 12, "cnn", []int{4, 6}, 16, 8, 16
	c.BatchSize, c.Steps, c.LogEvery, c.CheckpointEvery, c.Eval, c.OutDir, c.Seed = 6, steps, 2, 4, false, out, 3
	return c
}

// metricsWithoutTiming is metrics.csv without its timing columns: seconds, images_per_s and data_wait_s (last).
func metricsWithoutTiming(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(readMetrics(t, dir), "\n") {
		out = append(out, line[:strings.LastIndex(line, ",")])
	}
	return strings.Join(out, "\n")
}

// TestStreamedRunResumesExactly: a streamed run stopped at step 4 and resumed ends with the parameters and
// metrics of an uninterrupted one (the host's crops depend on seed, step and position only), and writes the
// data_wait_s column.
func TestStreamedRunResumesExactly(t *testing.T) {
	root := writeImageFolder(t, 30, map[string][]byte{})
	full := t.TempDir()
	sum := mustRun(t, streamRun(root, full, 8))
	stopped := t.TempDir()
	mustRun(t, streamRun(root, stopped, 4))
	c := streamRun(root, stopped, 8)
	c.Resume = stopped
	mustRun(t, c)
	if !reflect.DeepEqual(readParams(t, full), readParams(t, stopped)) {
		t.Error("resumed streamed run: final parameters differ from the uninterrupted run")
	}
	if a, b := metricsWithoutTiming(t, full), metricsWithoutTiming(t, stopped); a != b {
		t.Errorf("resumed streamed run: metrics differ:\n%s\n---\n%s", a, b)
	}
	b, _ := os.ReadFile(filepath.Join(full, "metrics.csv"))
	rows := strings.Split(strings.TrimSpace(string(b)), "\n")
	if !strings.HasSuffix(rows[0], ",data_wait_s") || len(rows) != 6 { // header, steps 1, 2, 4, 6, 8
		t.Fatalf("metrics.csv:\n%s", b)
	}
	last := strings.Split(rows[len(rows)-1], ",")
	if w, err := strconv.ParseFloat(last[len(last)-1], 64); err != nil || w < 0 || w > sum.DataWait+1e-6 {
		t.Errorf("data_wait_s %q, summary %g", last[len(last)-1], sum.DataWait)
	}
}

// TestStreamedRunEvaluates: a streamed run with a corrupt file trains, warns about the file and counts it,
// reports how busy the step was, and evaluates on streamed centre crops without raw-input baselines.
func TestStreamedRunEvaluates(t *testing.T) {
	root := writeImageFolder(t, 40, map[string][]byte{"a/zz-corrupt.png": []byte("\x89PNG\r\n\x1a\nnot really")})
	c := streamRun(root, t.TempDir(), 4)
	c.Eval, c.Stream, c.ImageSize = true, "auto", 0 // auto: small enough to be held in memory, but see below
	var log bytes.Buffer
	if _, err := Run(c, &log); err == nil || !strings.Contains(err.Error(), "zz-corrupt.png") {
		t.Fatalf("in memory: %v, want the corrupt file named", err) // ReadFolder's policy: an error
	}
	c.Stream, c.ImageSize, c.OutDir = "on", 12, t.TempDir()
	log.Reset()
	sum, err := Run(c, &log)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"streaming 37 images from their files", "warning: skipping " + filepath.Join(root, "a", "zz-corrupt.png"),
		"% busy)", "1 image files could not be read or decoded", "no raw-input baselines"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if sum.Eval == nil || sum.Eval.TestExamples != 4 || sum.Eval.RawKNNAccuracy != nil || !(sum.Eval.KNNAccuracy >= 0 && sum.Eval.KNNAccuracy <= 1) {
		t.Errorf("evaluation %+v", sum.Eval)
	}
}

// writeSTL10 writes an STL-10 binary release in dir/stl10_binary: nUnlabeled unlabelled images, nTrain and
// nTest labelled ones (labels cycling 1..10), all of random bytes.
func writeSTL10(t *testing.T, dir string, nUnlabeled, nTrain, nTest int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(4, 5))
	pix := func(n int) []byte {
		b := make([]byte, n*96*96*3)
		for i := range b {
			b[i] = uint8(rng.IntN(256))
		}
		return b
	}
	labels := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(1 + i%10)
		}
		return b
	}
	d := filepath.Join(dir, "stl10_binary")
	os.MkdirAll(d, 0o755)
	for name, b := range map[string][]byte{"unlabeled_X.bin": pix(nUnlabeled), "train_X.bin": pix(nTrain), "train_y.bin": labels(nTrain),
		"test_X.bin": pix(nTest), "test_y.bin": labels(nTest)} {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSTL10UnlabeledPretraining: --split unlabeled+train pretrains on the unlabelled and train images read in
// place, and the evaluation fits on the labelled train split (held in memory) and tests on the test split.
// (Eval is off: the evaluation's forward passes of 1024-image chunks at 96×96 take seconds; its wiring is
// evalSplit, checked on the Setup.)
func TestSTL10UnlabeledPretraining(t *testing.T) {
	dir := t.TempDir()
	writeSTL10(t, dir, 10, 6, 4)
	c := streamRun("", t.TempDir(), 2)
	c.Data, c.DataDir, c.Split, c.Stream, c.ImageSize, c.BatchSize = "stl10", dir, "unlabeled+train", "auto", 0, 4
	var log bytes.Buffer
	if _, err := Run(c, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "on stl10/unlabeled+train (16 examples") || !strings.Contains(log.String(), "streaming 16 images") {
		t.Errorf("log:\n%s", log.String())
	}
	s, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	ev := s.evalSplit()
	if s.train.stream == nil || s.train.n != 16 || ev.stream != nil || ev.n != 6 || ev.classes != 10 || ev.labels[1] != 1 || s.test.n != 4 {
		t.Errorf("training on %d (streamed %v), evaluation on %d examples (streamed %v, %d classes), test %d",
			s.train.n, s.train.stream != nil, ev.n, ev.stream != nil, ev.classes, s.test.n)
	}
}

// TestValidateStream: --stream and --split that do not apply are usage errors naming the flag.
func TestValidateStream(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Stream = "maybe" }, "--stream must be one of [auto on off]"},
		{func(c *Config) { c.Data, c.Stream = "mnist", "on" }, "--stream on applies to --data stl10, folder:PATH only"},
		{func(c *Config) { c.Data, c.Split = "mnist", "unlabeled" }, "--split applies to --data stl10 only"},
		{func(c *Config) { c.Data, c.Split = "stl10", "test" }, "--split must be one of [train unlabeled unlabeled+train]"},
		{func(c *Config) { c.Data, c.Split, c.Stream = "stl10", "unlabeled", "off" }, "drop --stream off"},
	} {
		cfg := Defaults()
		tc.mod(&cfg)
		if err := cfg.Validate(); !IsUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want a usage error containing %q", tc.want, err, tc.want)
		}
	}
	// A checkpoint written before --stream and --split existed resumes: no difference.
	old, now := Defaults(), Defaults()
	old.Stream, old.Split = "", ""
	if d := configDiff(old, now); len(d) > 0 {
		t.Errorf("an older checkpoint's config differs: %v", d)
	}
	if d := configDiff(Defaults(), func() Config { c := Defaults(); c.Stream = datasets.StreamOn; return c }()); len(d) != 1 {
		t.Errorf("--stream auto → on: %v, want one difference", d)
	}
}

// TestFeatureChunks: the evaluation's chunk keeps MNIST's and CIFAR's 1024 and shrinks for large images.
func TestFeatureChunks(t *testing.T) {
	for size, want := range map[int]int{784: 1024, 3072: 1024, 64 * 64 * 3: 256, 96 * 96 * 3: 128, 224 * 224 * 3: 16, 1 << 24: 16} {
		if got := chunkFor(size); got != want {
			t.Errorf("chunkFor(%d) = %d, want %d", size, got, want)
		}
	}
}

// TestHostCrop: the presets' random crops go to the host (the device pipeline then has none); mnist's centred
// zoom stays on the device; none crops nowhere.
func TestHostCrop(t *testing.T) {
	for name, want := range map[string]datasets.CropRange{
		"cifar": datasets.SimCLRCrop, "imagenet": datasets.SimCLRCrop, "stl10": datasets.SimCLRCrop,
		"digits": {Scale: [2]float64{0.2, 1}, Ratio: [2]float64{0.75, 4.0 / 3}}, "mnist": {}, "none": {},
	} {
		pl, err := augment.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		host, dev := hostCrop(pl)
		if host != want {
			t.Errorf("%s: host crop %+v, want %+v", name, host, want)
		}
		if onDevice := dev.Crop != (augment.CropConfig{}); onDevice != (name == "mnist") || dev.Jitter != pl.Jitter || dev.Blur != pl.Blur {
			t.Errorf("%s: device pipeline %+v", name, dev)
		}
	}
}
