package bench

import (
	"fmt"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
)

// Case is one benchmarked workload at one size: how to build a step on a GoMLX backend and on the
// reference, and the analytic counts that turn times into GFLOP/s and samples/s.
type Case struct {
	Workload string
	Pairs    int // N: examples per step (0 where it does not apply)
	Latent   int // k
	Width    int // m, or base width
	Depth    int // L
	Views    int // 2N, or images for augment
	FLOPs    float64
	Samples  int // samples (views, or images) per step
	// MaxCPUSteps caps the timed steps on the Go backend and the reference (a ResNet-18 step on a CPU takes
	// seconds); 0: no cap.
	MaxCPUSteps int
	// GoMLX builds the case's step on b; a training step data parallel over o.Devices and in o.Compute.
	GoMLX func(b compute.Backend, o StepOptions) (func() error, error)
	Ref   func() (func() error, error) // nil: no reference for this case
}

// StepOptions are the settings of Run that apply to the training-step workloads (onehidden, mlp, cnn,
// resnet18) only; the others refuse any but the zero value with ErrOneDevice.
type StepOptions struct {
	Devices int          // data-parallel devices (0 or 1: one)
	Compute dtypes.DType // the forward and backward passes' dtype (train.Stepper.Compute): bfloat16, or unset for float32
}

// plain reports whether o asks for nothing but one float32 device.
func (o StepOptions) plain() bool {
	return o.Devices <= 1 && (o.Compute == dtypes.InvalidDType || o.Compute == dtypes.Float32)
}

// Label names the case by its non-zero parameters, e.g. "loss/pairs=512/latent=128".
func (c Case) Label() string {
	s := c.Workload
	for _, kv := range []struct {
		k string
		v int
	}{{"pairs", c.Pairs}, {"latent", c.Latent}, {"width", c.Width}, {"depth", c.Depth}} {
		if kv.v > 0 {
			s += fmt.Sprintf("/%s=%d", kv.k, kv.v)
		}
	}
	return s
}

func (c Case) result(backendName string) Result {
	return Result{Workload: c.Workload, Backend: backendName, Pairs: c.Pairs, LatentDim: c.Latent, Width: c.Width,
		Depth: c.Depth, Views: c.Views}
}

// measure runs one warm-up step and then steps timed steps of step, filling r's timing fields.
func (c Case) measure(r *Result, step func() error, steps int, cpu bool) error {
	if c.MaxCPUSteps > 0 && cpu {
		steps = min(steps, c.MaxCPUSteps)
	}
	mem := newMemSampler()
	t0 := time.Now()
	if err := step(); err != nil {
		return err
	}
	first := time.Since(t0)
	mem.sample()
	times := make([]time.Duration, 0, steps)
	for range steps {
		t0 := time.Now()
		if err := step(); err != nil {
			return err
		}
		times = append(times, time.Since(t0))
		mem.sample()
	}
	r.timing(first, times, c.FLOPs, c.Samples)
	r.PeakRSSMB, r.HeapMB = mem.rss, mem.heap
	return nil
}
