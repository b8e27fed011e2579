package train

import (
	"slices"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/internal/backendtest"
)

// BenchmarkOnlineProbe times the training step of the README's main job (MNIST, the small CNN, batch 128,
// the digits augmentation, Adam) without and with the online probe, side by side on the backend of each pass:
// two steppers, one step of each per iteration, in alternating order, so that a change of machine load hits
// both alike. It reports the median step time of each (off-ms, on-ms) and the probe's overhead, the ratio of
// the medians less 1 (overhead-%):
//
//	GOEXPERIMENT=simd go test ./train/ -run '^$' -bench OnlineProbe -benchtime 60x -count 3
//
// The batches are gathered before the clock starts (simclr train prefetches them on another goroutine); the
// first step of each, which compiles, is left out.
func BenchmarkOnlineProbe(b *testing.B) {
	c := Defaults()
	c.Data, c.BatchSize, c.Temperature, c.LR, c.OnlineProbe, c.Backend = "mnist", 128, 0.1, 2e-3, "true", backendtest.Current()
	s, err := Open(c)
	if err != nil {
		b.Skip(err)
	}
	off, err := newStepper(s.Backend, s.Model, s.Opt, s.Loss, s.Views, s.DType, s.Seed) // one backend for both
	if err != nil {
		b.Fatal(err)
	}
	on, err := s.Stepper()
	if err != nil || on.probe == nil {
		b.Fatalf("the step with the probe: %v", err)
	}
	steppers := []*Stepper{off, on}
	smp := newSampler(s.train.n, s.Batch, s.Config.Seed)
	var xs, ys []*tensors.Tensor
	for i := range 8 {
		x, err := batchTensor(s.Input, s.train, smp.batch(i), s.DType)
		if err != nil {
			b.Fatal(err)
		}
		xs = append(xs, x)
		ys = append(ys, labelsTensor(s.train, smp.batch(i)))
	}
	var times [2][]float64
	step := func(k, i int) {
		st := steppers[k]
		st.Labels = ys[i%len(ys)]
		t0 := time.Now()
		if _, err := st.Step(xs[i%len(xs)]); err != nil {
			b.Fatal(err)
		}
		times[k] = append(times[k], time.Since(t0).Seconds())
	}
	step(0, 0) // compiles
	step(1, 0)
	times = [2][]float64{}
	i := 1
	for b.Loop() {
		first := i % 2 // alternate which goes first
		step(first, i)
		step(1-first, i)
		i++
	}
	median := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	tOff, tOn := median(times[0]), median(times[1])
	b.ReportMetric(1e3*tOff, "off-ms")
	b.ReportMetric(1e3*tOn, "on-ms")
	b.ReportMetric(100*(tOn/tOff-1), "overhead-%")
}
