package train

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestLoopOrder: the loop calls Before, the batch, the step with Schedule's factor, and After in step order,
// over First…Last inclusive, and the first hook error stops it.
func TestLoopOrder(t *testing.T) {
	c := smallRun(t.TempDir(), 5)
	s, st := openStepper(t, c)
	smp := newSampler(s.train.n, s.Batch, c.Seed)
	var calls []string
	var scales []float64
	stop := errors.New("stop")
	loop := Loop{Stepper: st, First: 3, Last: 6,
		Batch: func(step int) (*tensors.Tensor, error) {
			return batchTensor(s.Input, s.train, smp.batch(step-1), s.DType)
		},
		Schedule: func(step int) float64 { return float64(step) / 10 },
		Before: func(step int) error {
			calls = append(calls, fmt.Sprintf("before%d", step))
			return nil
		},
		After: func(step int, r StepResult) error {
			calls = append(calls, fmt.Sprintf("after%d", step))
			scales = append(scales, st.LRScale)
			if !r.Finite || r.Loss <= 0 {
				t.Errorf("step %d: loss %g, finite %v", step, r.Loss, r.Finite)
			}
			if step == 5 {
				return stop
			}
			return nil
		}}
	if err := loop.Run(); !errors.Is(err, stop) {
		t.Fatalf("Run: %v, want the After hook's error", err)
	}
	if want := []string{"before3", "after3", "before4", "after4", "before5", "after5"}; !slices.Equal(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
	if want := []float64{0.3, 0.4, 0.5}; !slices.Equal(scales, want) {
		t.Errorf("LR factors %v, want %v", scales, want)
	}
}

// TestCheckpointParamsRefusesOtherModel: the parameters of a checkpoint are read back bit-exact for its own
// model, and refused, naming the tensor, for a model of another width or dtype.
func TestCheckpointParamsRefusesOtherModel(t *testing.T) {
	c := smallRun(t.TempDir(), 5)
	s, st := openStepper(t, c)
	ts := st.snapshot()
	ps, err := checkpointParams(s.Model, s.DType, ts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range st.ParamValues() {
		if got := flat64(ps[i]); !slices.Equal(got, v) {
			t.Errorf("param %d differs after the round trip", i)
		}
	}
	c.Width++
	other, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkpointParams(other.Model, other.DType, ts); err == nil || !strings.Contains(err.Error(), "param/") {
		t.Errorf("another width: %v, want an error naming the parameter", err)
	}
	if _, err := checkpointParams(s.Model, dtypes.Float64, ts); err == nil {
		t.Error("another dtype: no error")
	}
	if _, err := checkpointParams(s.Model, s.DType, ts[:1]); err == nil {
		t.Error("a truncated checkpoint: no error")
	}
}

// openStepper opens the settings c on the Go backend and builds their training step.
func openStepper(t *testing.T, c Config) (*Setup, *Stepper) {
	t.Helper()
	c.Backend = "go"
	s, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Stepper()
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}
