package train

import (
	"path/filepath"
	"testing"
)

// TestShippedConfigs: every recipe under configs/ reads as a --config (no unknown key) and validates.
func TestShippedConfigs(t *testing.T) {
	files, _ := filepath.Glob("../configs/*.json")
	if len(files) < 4 {
		t.Fatalf("configs: %v", files)
	}
	for _, f := range files {
		rec, err := ReadRunRecord(f, Defaults())
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if err := rec.Config.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestEpochsAndOptimizerDefaults: --epochs sets the steps to ⌈epochs·examples/N⌉; LARS's momentum and weight
// decay default to SimCLR's, SGD's to none; a LARS run trains.
func TestEpochsAndOptimizerDefaults(t *testing.T) {
	c := smallRun(t.TempDir(), 500)
	c.Epochs, c.Optimizer, c.LR = 2.5, "lars", 0.5 // 96 examples, N = 32: ⌈7.5⌉ = 8 steps
	s := mustRun(t, c)
	if s.Steps != 8 || !(s.FinalLoss < s.InitialLoss) {
		t.Errorf("epochs 2.5: %d steps, loss %g → %g", s.Steps, s.InitialLoss, s.FinalLoss)
	}
	if o := c.Opt(); o.Momentum != 0.9 || o.WeightDecay != 1e-6 {
		t.Errorf("lars defaults %+v", o)
	}
	c.Optimizer = "sgd"
	if o := c.Opt(); o.Momentum != 0 || o.WeightDecay != 0 {
		t.Errorf("sgd defaults %+v", o)
	}
	c.Momentum = 1
	if err := c.Validate(); !IsUsage(err) {
		t.Errorf("momentum 1: %v", err)
	}
}
