package bench

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/recipe"
)

// TestMLPFLOPs checks the analytic count against a hand count for B = 4 views, d = 3, m = 5, k = 2, L = 2:
// layers = 3·5 + 5·5 + 5·2 = 50; forward 2·4·50 = 400 plus 2·16·2 = 64; weight grads 400; input grads
// 2·4·(25+10) = 280; similarity backward 64. Total 1208.
func TestMLPFLOPs(t *testing.T) {
	if got := mlpFLOPs(4, 3, 5, 2, 2); got != 1208 {
		t.Errorf("mlpFLOPs = %g, want 1208", got)
	}
	if got := LossCase(2, 3).FLOPs; got != 4*4*4*3 {
		t.Errorf("loss FLOPs = %g, want 192", got)
	}
}

// TestRunSmall runs small cases end to end on the Go backend and the reference and checks the fields a
// reader of the JSON relies on.
func TestRunSmall(t *testing.T) {
	cases := []Case{MLPCase("tiny", 16, 32, 2, 8, 8, recipe.Adam, arch.ScalingStandard), LossCase(8, 4), AugmentCase(8)}
	rs, err := Run(cases, Options{Backends: []string{"go"}, Steps: 10, Reference: true}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 6 {
		t.Fatalf("%d results, want 6", len(rs))
	}
	for i, r := range rs {
		want := []string{"reference", "go"}[i%2]
		if r.Backend != want || r.Steps != 10 || !(r.MsPerStep > 0) || r.RatioToReference <= 0 {
			t.Errorf("bad result %+v", r)
		}
		if r.Workload != "augment" && !(r.GFLOPs > 0) {
			t.Errorf("%s: no GFLOP/s", r.Workload)
		}
		if r.MinMs > r.MsPerStep || r.MaxMs < r.MsPerStep {
			t.Errorf("median %g outside [%g, %g]", r.MsPerStep, r.MinMs, r.MaxMs)
		}
	}
	if want := rs[1].MsPerStep / rs[0].MsPerStep; rs[1].RatioToReference != want {
		t.Errorf("ratio %g, want %g", rs[1].RatioToReference, want)
	}
	tab := Table(rs)
	if !strings.Contains(tab, "| tiny | 8 | 8 | 32 | 2 | go |") || strings.Count(tab, "\n") != 8 {
		t.Errorf("table:\n%s", tab)
	}
}

func TestCasesOf(t *testing.T) {
	for _, name := range WorkloadNames() {
		cs, err := CasesOf(name, 0)
		if err != nil || len(cs) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	cs, _ := CasesOf("mlp", 0)
	if c := cs[0]; c.Views != 512 || c.Width != 512 || c.Latent != 128 {
		t.Errorf("mlp = %+v", c)
	}
	if _, err := CasesOf("gpt", 0); err == nil {
		t.Error("want an error for an unknown workload")
	}
}

// BenchmarkMLPStep times the core issue's MLP step on the Go backend (go test -bench MLPStep ./bench/).
func BenchmarkMLPStep(b *testing.B) { benchStep(b, MLP()) }

// BenchmarkCNNStep times the small CNN's SimCLR step (2N = 512 views of 28×28×1, Adam) on the Go backend
// (go test -bench CNNStep ./bench/; add -cpuprofile to see where the time goes).
func BenchmarkCNNStep(b *testing.B) { benchStep(b, CNNCase(256)) }

// benchStep times c's GoMLX step on the Go backend after one compiling step.
func benchStep(b *testing.B, c Case) {
	be, err := backend.New("go")
	if err != nil {
		b.Fatal(err)
	}
	step, err := c.GoMLX(be, StepOptions{Devices: 1})
	if err != nil {
		b.Fatal(err)
	}
	step() // compile
	for b.Loop() {
		if err := step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
}

// BenchmarkLoss times NT-Xent forward and backward (2N = 512, k = 128) on the Go backend.
func BenchmarkLoss(b *testing.B) { benchStep(b, LossCase(256, 128)) }

// TestDevicesOnlyForTrainingSteps: asked for several devices, the loss and augmentation workloads say they run on
// one (Run skips them); a training step on the Go backend is refused, naming XLA.
func TestDevicesOnlyForTrainingSteps(t *testing.T) {
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Case{LossCase(4, 8), AugmentCase(4)} {
		if _, err := c.GoMLX(be, StepOptions{Devices: 2}); !errors.Is(err, ErrOneDevice) {
			t.Errorf("%s with 2 devices: %v, want ErrOneDevice", c.Label(), err)
		}
	}
	if _, err := MLPCase("mlp", 8, 16, 1, 4, 4, "adam", "standard").GoMLX(be, StepOptions{Devices: 2}); err == nil || !strings.Contains(err.Error(), "XLA") {
		t.Errorf("mlp with 2 devices on the Go backend: %v, want an error naming XLA", err)
	}
}
