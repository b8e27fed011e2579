package train

import (
	"math"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
)

// usage returns the process's CPU time (user+system; on a shared machine steadier than wall time), its system
// part (mostly page faults, each first touch of fresh memory) and its count of minor page faults.
func usage() (cpu, sys time.Duration, faults int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), time.Duration(ru.Stime.Nano()), ru.Minflt
}

// uniformImages draws n images of h×w×c uniform in [0, 1) as float64.
func uniformImages(seed uint64, n, h, w, c int) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float64, n*h*w*c)
	for i := range v {
		v[i] = r.Float64()
	}
	return v
}

// TestConvEncodersTrain runs a few SGD steps of the small CNN and of ResNet-18 (CIFAR stem, width 8) on a
// fixed batch of 8 random images (2N = 16 identical views, so only the uniformity part of NT-Xent can move)
// through the compiled training step: every loss is finite, the loss goes down, and for ResNet-18 the
// batch-norm running averages are updated while staying finite.
func TestConvEncodersTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles two convolutional training steps")
	}
	be := testBackend
	head := arch.Head{Hidden: 32, Out: 16}
	for _, c := range []struct {
		name    string
		model   models.Model
		h, w, c int
		lr      float64
	}{
		{"cnn", models.Encoder{Body: models.CNNBody{CNN: arch.CNN{H: 28, W: 28, C: 1, Channels: []int{8, 16}, Dense: 32}}, Head: withIn(head, 32)}, 28, 28, 1, 0.02},
		{"resnet18", models.Encoder{Body: models.ResNetBody{ResNet18: arch.ResNet18{H: 32, W: 32, C: 3, Stem: arch.StemCIFAR, Width: 8}}, Head: withIn(head, 64)}, 32, 32, 3, 0.1},
	} {
		st, err := newStepper(be, c.model, optim.Optimizer{Name: optim.SGD, LR: c.lr}, losses.Config{Temperature: 0.5}, nil, dtypes.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		before := st.ParamValues()
		x := hostTensor(dtypes.Float32, uniformImages(2, 8, c.h, c.w, c.c), []int{8, c.h, c.w, c.c})
		var losses []float64
		for range 5 {
			res, err := st.Step(x)
			if err != nil {
				t.Fatal(err)
			}
			if math.IsNaN(res.Loss) || math.IsInf(res.Loss, 0) {
				t.Fatalf("%s: loss %g", c.name, res.Loss)
			}
			losses = append(losses, res.Loss)
		}
		if losses[len(losses)-1] >= losses[0] {
			t.Errorf("%s: loss did not go down: %v", c.name, losses)
		}
		after := st.ParamValues()
		for i, p := range c.model.Params() {
			if !strings.Contains(p.Name, "/running_") {
				continue
			}
			moved := false
			for j, v := range after[i] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s: %s not finite", c.name, p.Name)
				}
				moved = moved || v != before[i][j]
			}
			if !moved {
				t.Errorf("%s: %s was not updated", c.name, p.Name)
			}
		}
		t.Logf("%s: losses %.4f", c.name, losses)
	}
}

func withIn(h arch.Head, in int) arch.Head { h.In = in; return h }

// BenchmarkCNNStep times one Adam step of the small CNN (32, 64 channels, dense 256) with a 256→256→128 head,
// NT-Xent over 2N = 512 views of 28×28×1 (N = 256 images, each its own second view), on the backend of
// $GOMLX_BACKEND (default go), after compiling and three warm-up steps that fill the backend's buffer pools.
// Besides wall time it reports CPU time, system time and page faults per step.
func BenchmarkCNNStep(b *testing.B) {
	be, err := backend.New(backend.Spec(""))
	if err != nil {
		b.Fatal(err)
	}
	const n2 = 512
	enc := models.Encoder{
		Body: models.CNNBody{CNN: arch.CNN{H: 28, W: 28, C: 1, Channels: arch.DefaultCNNChannels, Dense: arch.DefaultCNNDense}},
		Head: arch.Head{In: arch.DefaultCNNDense, Hidden: 256, Out: 128},
	}
	st, err := newStepper(be, enc, optim.Optimizer{Name: optim.Adam, LR: 1e-3}, losses.Config{Temperature: 0.5}, nil, dtypes.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	x := hostTensor(dtypes.Float32, uniformImages(1, n2/2, 28, 28, 1), []int{n2 / 2, 28, 28, 1})
	for range 4 { // compile, then warm up
		if _, err := st.Step(x); err != nil {
			b.Fatal(err)
		}
	}
	cpu0, sys0, flt0 := usage()
	b.ResetTimer()
	for b.Loop() {
		if _, err := st.Step(x); err != nil {
			b.Fatal(err)
		}
	}
	cpu, sys, flt := usage()
	per := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	b.ReportMetric(per(b.Elapsed()), "ms/step")
	b.ReportMetric(per(cpu-cpu0), "cpu-ms/step")
	b.ReportMetric(per(sys-sys0), "sys-ms/step")
	b.ReportMetric(float64(flt-flt0)/float64(b.N), "faults/step")
}
