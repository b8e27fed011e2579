package bench

import (
	"io"

	"github.com/gosimclr/gosimclr/backend"
	"strings"
	"testing"
)

// TestFLOPs checks the analytic count against a hand count for a small case: B = 4 views, d = 3, m = 5, k = 2,
// L = 2: layers = 3·5 + 5·5 + 5·2 = 50; forward 2·4·50 = 400 plus 2·16·2 = 64; weight grads 400; input grads
// 2·4·(25+10) = 280; similarity backward 64. Total 1208.
func TestFLOPs(t *testing.T) {
	w := Workload{In: 3, Width: 5, Depth: 2, LatentDim: 2, Pairs: 2}
	if got := w.FLOPs(); got != 1208 {
		t.Errorf("FLOPs = %g, want 1208", got)
	}
}

// TestRunSmall runs a tiny workload end to end on the Go backend and the reference and checks the fields
// a reader of the JSON relies on.
func TestRunSmall(t *testing.T) {
	w := Workload{Name: "tiny", In: 16, Width: 32, Depth: 2, LatentDim: 8, Pairs: 8, Tau: 0.5, Optimizer: "adam", Activation: "relu"}
	rs, err := Run([]Workload{w}, []string{"go"}, 10, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Backend != "reference" || rs[1].Backend != "go" {
		t.Fatalf("results %+v", rs)
	}
	for _, r := range rs {
		if r.Steps != 10 || !(r.MsPerStep > 0) || !(r.GFLOPs > 0) || r.Views != 16 || r.RatioToReference <= 0 {
			t.Errorf("bad result %+v", r)
		}
		if r.MinMs > r.MsPerStep || r.MaxMs < r.MsPerStep {
			t.Errorf("median %g outside [%g, %g]", r.MsPerStep, r.MinMs, r.MaxMs)
		}
	}
	if want := rs[1].MsPerStep / rs[0].MsPerStep; rs[1].RatioToReference != want {
		t.Errorf("ratio %g, want %g", rs[1].RatioToReference, want)
	}
	tab := Table(rs)
	if !strings.Contains(tab, "| tiny | go |") || strings.Count(tab, "\n") != 4 {
		t.Errorf("table:\n%s", tab)
	}
}

func TestWorkloadByName(t *testing.T) {
	if w, err := WorkloadByName("mlp"); err != nil || w.In != 784 || w.Width != 512 || w.LatentDim != 128 || w.Pairs != 256 {
		t.Errorf("mlp = %+v, %v", w, err)
	}
	if _, err := WorkloadByName("gpt"); err == nil {
		t.Error("want an error for an unknown workload")
	}
}

// BenchmarkMLPStep times the core issue's MLP step on the Go backend (go test -bench MLPStep ./bench/).
func BenchmarkMLPStep(b *testing.B) {
	be, err := backend.New("go")
	if err != nil {
		b.Fatal(err)
	}
	w := MLP()
	step, err := w.gomlxStep(be)
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
