package experiments

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/losses"
)

// TestEffectiveStepParticles: particle gradient descent with learning rate η moves its points by η along the
// negative gradient, so its effective step is η to first order (small η: within 1%), at every logged step.
func TestEffectiveStepParticles(t *testing.T) {
	be, err := backend.New(backend.Spec("go"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := pointData(4, 8, 0.15, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	a := arch.MLP{In: 2, Width: 16, Depth: 1, Out: 2, Activation: arch.LeakyReLU, Scaling: arch.ScalingNTK, Trainable: arch.TrainBoth, Normalize: true}
	const eta = 0.02
	rc := runCfg{steps: 4, logEvery: 2, loss: losses.Config{Kernel: losses.KernelExp, Temperature: 0.5}, seed: 1, labels: d.Labels,
		classes: d.K, k: 2, sphere: true, effStep: true, silOnly: true}
	tj, err := pointRun(be, d, method{"particles", 0}, a, augment.VectorSpec{}, eta, eta, rc)
	if err != nil {
		t.Fatal(err)
	}
	if len(tj.eff) != 3 || !math.IsNaN(tj.eff[2]) { // steps 0, 2, 4: the last has no next step
		t.Fatalf("effective steps %v, want 3 with the last NaN", tj.eff)
	}
	for i, e := range tj.eff[:2] {
		if math.Abs(e-eta) > 0.01*eta {
			t.Errorf("logged step %d: effective step %g, want η = %g", tj.steps[i], e, eta)
		}
	}
	if s := cumulativeStep(tj.steps, tj.eff); math.Abs(s[2]-(tj.eff[0]+tj.eff[1])*2) > 1e-15 || s[0] != 0 {
		t.Errorf("cumulative step %v", s)
	}
}

// TestEffectiveStepSweep: a small slice runs its cells, resumes without running them again, starts the
// normalised cells at the target effective step (within 25%: e is linear in lr only to first order), and
// reports every cell with its effective-step clock.
func TestEffectiveStepSweep(t *testing.T) {
	c := DefaultEffectiveStep(true)
	c.Seeds, c.Depths, c.Scalings, c.LRs, c.Steps = 1, []int{1}, []string{arch.ScalingNTK}, []float64{0.05}, 30
	dir := t.TempDir()
	r, err := RunEffectiveStep(c, Common{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := filled(t, r, r.Numbers); !strings.Contains(got, "Cells finished: 2 of 2") {
		t.Fatalf("numbers: %s", got)
	}
	var log strings.Builder
	if _, err := RunEffectiveStep(c, Common{OutDir: dir, Log: &log}); err != nil || strings.Count(log.String(), "skip (done)") != 2 {
		t.Fatalf("resumed: %v\n%s", err, log.String())
	}
	e0 := r.Values["eff0/e0=5-ntk-L1"].V
	if math.Abs(float64(e0)-5) > 1.25 {
		t.Errorf("normalised cell starts at e = %g, want about 5", e0)
	}
	if r.Values["eff0/lr=0.05-ntk-L1"].V <= 0 {
		t.Errorf("fixed-lr cell: e at step 0 %v", r.Values["eff0/lr=0.05-ntk-L1"])
	}
	if _, err := os.Stat(filepath.Join(dir, "effective-step", "summary.json")); err != nil {
		t.Error(err)
	}
}

// TestDenseLogging: with denseUntil a run is logged every denseEvery steps before it and every logEvery after.
func TestDenseLogging(t *testing.T) {
	c := runCfg{steps: 100, logEvery: 20, denseUntil: 10, denseEvery: 2}
	var got []int
	for s := 0; s <= c.steps; s++ {
		if c.logged(s) {
			got = append(got, s)
		}
	}
	if want := []int{0, 2, 4, 6, 8, 20, 40, 60, 80, 100}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("logged %v, want %v", got, want)
	}
}
