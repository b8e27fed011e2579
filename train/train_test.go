package train

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/internal/backendtest"
)

// testBackend is the backend of the pass under way (backendtest.Main); runs that name none use it too, through
// $GOMLX_BACKEND.
var testBackend compute.Backend

// TestMain runs every test on the Go backend and, where the XLA CPU plugin is installed, the whole-step and
// export tests again on xla:cpu (xlaTests).
func TestMain(m *testing.M) {
	// Raw-baseline caches of the tests go to a folder of their own, removed at the end.
	cache, err := os.MkdirTemp("", "gosimclr-cache")
	if err == nil {
		os.Setenv("GOSIMCLR_CACHE_DIR", cache)
	}
	code := backendtest.Main(m, func(b compute.Backend, spec string) {
		testBackend = b
		os.Setenv("GOMLX_BACKEND", spec)
	}, xlaTests)
	os.RemoveAll(cache)
	os.Exit(code)
}

// xlaTests are the tests repeated on xla:cpu: one whole training step against the reference, export into
// PyTorch, a short training of each convolutional encoder, the data-parallel step on 4 devices, mixed
// precision, the online probe's step (against the reference, beside the encoder, on 4 devices) and BYOL's step.
const xlaTests = "^(TestStepMatchesReference|TestBYOLStepMatchesReference|TestExportIntoPyTorch|TestConvEncodersTrain|TestDistributedStepMatchesOneDevice|TestResumeAcrossDevices|TestLocalNegatives|TestBatchNormPerDevice|TestMixedPrecisionStep|TestMixedPrecisionTrains|TestMixedPrecisionResumes|TestOnlineProbeStepMatchesReference|TestOnlineProbeLeavesEncoderAlone|TestOnlineProbeDistributed)$"

func TestValidateNamesTheFlag(t *testing.T) {
	for flag, mod := range map[string]func(*Config){
		"--data":         func(c *Config) { c.Data = "imagenet" },
		"--model":        func(c *Config) { c.Model = "vit" },
		"--activation":   func(c *Config) { c.Activation = "swish" },
		"--scaling":      func(c *Config) { c.Scaling = "1/m" },
		"--trainable":    func(c *Config) { c.Trainable = "all" },
		"--loss":         func(c *Config) { c.Loss = "vicreg" },
		"--kernel":       func(c *Config) { c.Kernel = "cauchy" },
		"--optimizer":    func(c *Config) { c.Optimizer = "lamb" },
		"--batch-size":   func(c *Config) { c.BatchSize = -1 },
		"--steps":        func(c *Config) { c.Steps = 0 },
		"--temperature":  func(c *Config) { c.Temperature = 0 },
		"--lr":           func(c *Config) { c.LR = -1 },
		"--width":        func(c *Config) { c.Width = -3 },
		"--depth":        func(c *Config) { c.Depth = 3 }, // onehidden needs depth 1
		"--latent-dim":   func(c *Config) { c.LatentDim = -1 },
		"--augment":      func(c *Config) { c.Augment = "blur:3" },
		"--log-every":    func(c *Config) { c.LogEvery = 0 },
		"--dtype":        func(c *Config) { c.DType = "float16" },
		"--lr-schedule":  func(c *Config) { c.LRSchedule = "step" },
		"--warmup-steps": func(c *Config) { c.Warmup = c.Steps },
		"--channels":     func(c *Config) { c.Data, c.Channels = "mnist", []int{16, 0} },
	} {
		c := Defaults()
		mod(&c)
		err := c.Validate()
		if !IsUsage(err) || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s: error %v, want a usage error naming the flag", flag, err)
		}
	}
	if err := Defaults().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

// TestResolveByDataSet checks the settings "auto" stands for on each kind of data.
func TestResolveByDataSet(t *testing.T) {
	for data, want := range map[string][2]string{
		"clusters": {"onehidden", "noise:0.1"}, "mnist": {"cnn", "digits"}, "fashion-mnist": {"cnn", "fashion"},
		"cifar10": {"resnet18", "cifar"}, "stl10": {"resnet18", "stl10"}, "folder:/x": {"resnet18", "imagenet"},
	} {
		c := Defaults()
		c.Data = data
		r := c.Resolve()
		if r.Model != want[0] || r.Augment != want[1] || r.LRSchedule != "constant" {
			t.Errorf("%s: model %s, augment %s, schedule %s; want %s, %s, constant", data, r.Model, r.Augment, r.LRSchedule, want[0], want[1])
		}
	}
}

func TestSampler(t *testing.T) {
	s := newSampler(10, 3, 5)
	seen := map[int]bool{}
	for step := range 3 { // one epoch: 3 batches of 3, one example dropped
		for _, i := range s.batch(step) {
			if seen[i] {
				t.Fatalf("example %d twice in an epoch", i)
			}
			seen[i] = true
		}
	}
	again := newSampler(10, 3, 5)
	if got, want := again.batch(4), s.batch(4); !equalInts(got, want) {
		t.Errorf("sampler not a function of (seed, step): %v vs %v", got, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// dropSeconds removes the timing columns (seconds, images_per_s: timingColumns) from metrics.csv.
func dropSeconds(b []byte) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var keep []string
		for i, f := range strings.Split(line, ",") {
			if !slices.Contains(timingColumns, i) {
				keep = append(keep, f)
			}
		}
		out = append(out, strings.Join(keep, ","))
	}
	return strings.Join(out, "\n")
}

// TestTrainLowersLossAndIsDeterministic is acceptance point 3 of the core issue.
func TestTrainLowersLossAndIsDeterministic(t *testing.T) {
	run := func(dir string) (Summary, string) {
		c := Defaults()
		c.Data, c.Model, c.Steps, c.Seed, c.OutDir, c.LogEvery = "clusters", "onehidden", 300, 7, dir, 25
		sum, err := Run(c, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
		if err != nil {
			t.Fatal(err)
		}
		return sum, dropSeconds(b)
	}
	a, ma := run(t.TempDir())
	_, mb := run(t.TempDir())
	if !(a.FinalLoss < a.InitialLoss-0.1) {
		t.Errorf("loss did not go down: %g → %g", a.InitialLoss, a.FinalLoss)
	}
	if ma != mb {
		t.Errorf("two identical runs differ:\n%s\n---\n%s", ma, mb)
	}
	if !strings.HasPrefix(ma, "step,loss,alignment,uniformity,") || strings.Count(ma, "\n") != 13 {
		t.Errorf("metrics.csv layout:\n%s", ma)
	}
}

func TestTrainEveryModelAndKernel(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Model = "particle"; c.LR = 0.05; c.Optimizer = "sgd" },
		func(c *Config) { c.Model = "mlp"; c.Depth = 3; c.Activation = "gelu"; c.HeadDim = 8; c.HeadHidden = 16 },
		func(c *Config) { c.Kernel = "gaussian"; c.Normalize = false; c.Augment = "shift:1"; c.Data = "disks" },
		func(c *Config) {
			c.Kernel = "linear"
			c.Loss = "uniform"
			c.Scaling = "mean-field"
			c.Trainable = "outer"
		},
		func(c *Config) {
			c.DType = "float64"
			c.Data = "annuli"
			c.Activation = "softplus"
			c.Trainable = "inner"
		},
	} {
		c := Defaults()
		c.Steps, c.OutDir, c.LogEvery, c.Width = 20, t.TempDir(), 10, 32
		mod(&c)
		var log bytes.Buffer
		sum, err := Run(c, &log)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if sum.Steps != 20 || sum.FinalLoss != sum.FinalLoss {
			t.Errorf("%s/%s: %+v", c.Model, c.Kernel, sum)
		}
		for _, f := range []string{"config.json", "metrics.csv", "params.ckpt", "embedding.csv"} {
			if _, err := os.Stat(filepath.Join(c.OutDir, f)); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestParticleStaysOnSphere: the particle model's points are renormalised after every step.
func TestParticleStaysOnSphere(t *testing.T) {
	c := Defaults()
	c.Model, c.Optimizer, c.LR, c.Steps, c.OutDir, c.BatchSize = "particle", "sgd", 0.5, 30, t.TempDir(), 0
	if _, err := Run(c, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(c.OutDir, "embedding.csv"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
	if len(lines) != 512 {
		t.Fatalf("%d embedding rows", len(lines))
	}
	for _, l := range lines {
		var i, lab int
		var x, y float64
		if _, err := fmtSscanf(l, &i, &lab, &x, &y); err != nil {
			t.Fatal(err)
		}
		if r := x*x + y*y; r < 1-1e-5 || r > 1+1e-5 {
			t.Fatalf("point %d has squared norm %g", i, r)
		}
	}
}
func fmtSscanf(line string, i, lab *int, x, y *float64) (int, error) {
	return fmt.Sscanf(strings.ReplaceAll(line, ",", " "), "%d %d %g %g", i, lab, x, y)
}

// TestAutoBackendIsRecorded: --backend auto is written to config.json, and named on the run's first line, as
// the backend it chose (backend.Resolve), so that the run can be repeated and read.
func TestAutoBackendIsRecorded(t *testing.T) {
	want, err := backend.Resolve("auto")
	if err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	c.Data, c.Model, c.Steps, c.OutDir, c.LogEvery, c.Width, c.Backend = "clusters", "onehidden", 2, t.TempDir(), 1, 8, "auto"
	var log bytes.Buffer
	if _, err := Run(c, &log); err != nil {
		t.Fatal(err)
	}
	rec, err := ReadRunRecord(filepath.Join(c.OutDir, "config.json"), Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Backend != want || want == "auto" {
		t.Errorf("config.json backend %q, want %q (what auto resolves to)", rec.Backend, want)
	}
	if first, _, _ := strings.Cut(log.String(), "\n"); !strings.Contains(first, "backend "+want+" (") {
		t.Errorf("first line does not name the backend %s: %q", want, first)
	}
}
