package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
)

// convModels are the tiny encoders the trainer tests run, each with a projection head.
func convModels() []ConvModel {
	ms := []ConvModel{CNNEncoder{CNN: arch.CNN{H: 8, W: 8, C: 1, Channels: []int{3, 4}, Dense: 6}, Head: arch.Head{In: 6, Hidden: 5, Out: 3}}}
	for _, a := range tinyResNets {
		ms = append(ms, ResNetEncoder{ResNet: a, Head: arch.Head{In: a.Features(), Hidden: 8, Out: 4}})
	}
	return ms
}

// modelName names m in subtests.
func modelName(m ConvModel) string {
	if e, ok := m.(ResNetEncoder); ok {
		return "resnet18/" + e.ResNet.Stem
	}
	return "cnn"
}

// imageSize returns H·W·C of m's input.
func imageSize(m ConvModel) int {
	if e, ok := m.(CNNEncoder); ok {
		return e.CNN.H * e.CNN.W * e.CNN.C
	}
	a := m.(ResNetEncoder).ResNet
	return a.H * a.W * a.C
}

// TestConvTrainerStep: one SGD step with lr = 1 moves each trainable parameter by −∂L/∂θ, which must match
// central finite differences of the whole pipeline θ → features → head → NT-Xent (batch norms in training
// mode, through the batch statistics); the running averages must become the batch norms' new values, and
// Step must return the loss before the update.
func TestConvTrainerStep(t *testing.T) {
	if testing.Short() {
		t.Skip("about a second of finite differences")
	}
	const n2 = 6
	r := rand.New(rand.NewPCG(111, 112))
	for _, m := range convModels() {
		t.Run(modelName(m), func(t *testing.T) {
			tr := NewConvTrainer[float64](m, 3, LossConfig{Temperature: 0.5}, OptimizerSGD, 1)
			ps := m.Params()
			tr.Params = perturbBN(r, ps, tr.Params)
			old := make([][]float64, len(tr.Params))
			for i, p := range tr.Params {
				old[i] = slices.Clone(p)
			}
			x := randSlice[float64](r, n2*imageSize(m))
			lossAt := func(params [][]float64) float64 {
				saved := tr.Params
				tr.Params = params
				defer func() { tr.Params = saved }()
				_, z, k, _ := tr.Forward(x, n2, true)
				return Loss(z, n2, k, tr.Loss).Loss
			}
			want := lossAt(old)
			_, _, wantStats := tr.Gradients(x, n2)
			if got := tr.Step(x, n2); got != want {
				t.Errorf("Step returned %g, the loss is %g", got, want)
			}
			step := make([][]float64, len(old))
			for i, p := range ps {
				if !p.Trainable {
					if wantStats == nil || !slices.Equal(tr.Params[i], wantStats[i]) {
						t.Errorf("%s = %v, want the batch norm's new value %v", p.Name, tr.Params[i], wantStats[i])
					}
					continue
				}
				step[i] = make([]float64, len(old[i]))
				for j := range step[i] {
					step[i][j] = old[i][j] - tr.Params[i][j]
				}
			}
			if _, ok := m.(ResNetEncoder); ok && len(wantStats) != 40 {
				t.Errorf("%d statistics, want 40", len(wantStats))
			}
			checkGrads(t, r, ps, old, step, lossAt, nil, 1e-6)
		})
	}
}

// TestConvTrainerFloat32 checks the float32 gradients and statistics against float64's.
func TestConvTrainerFloat32(t *testing.T) {
	const n2 = 8
	r := rand.New(rand.NewPCG(113, 114))
	for _, m := range convModels() {
		t64 := NewConvTrainer[float64](m, 5, LossConfig{Temperature: 0.5}, OptimizerAdam, 1e-3)
		t32 := NewConvTrainer[float32](m, 5, LossConfig{Temperature: 0.5}, OptimizerAdam, 1e-3)
		x := randSlice[float64](r, n2*imageSize(m))
		l64, g64, s64 := t64.Gradients(x, n2)
		l32, g32, s32 := t32.Gradients(toF32(x), n2)
		if math.Abs(l32-l64) > 1e-5*math.Abs(l64) {
			t.Errorf("%s: loss %g in float32, %g in float64", modelName(m), l32, l64)
		}
		for i, p := range m.Params() {
			if p.Trainable {
				if e := relErr(g32[i], g64[i]); e > 1e-3 || math.IsNaN(e) {
					t.Errorf("%s: %s: float32 differs by %.3g", modelName(m), p.Name, e)
				}
			} else if e := relErr(s32[i], s64[i]); e > 1e-5 {
				t.Errorf("%s: %s: float32 differs by %.3g", modelName(m), p.Name, e)
			}
		}
	}
}

// TestConvTrainerAdam: Adam lowers the loss of each encoder on fixed views (view 2 = view 1 + noise),
// deterministically.
func TestConvTrainerAdam(t *testing.T) {
	const n = 8
	for _, m := range convModels() {
		checkLearns(t, modelName(m), func() []float64 {
			tr := NewConvTrainer[float32](m, 1, LossConfig{Temperature: 0.5}, OptimizerAdam, 1e-2)
			x := noisyViews(rand.New(rand.NewPCG(115, 116)), n, imageSize(m))
			var losses []float64
			for range 15 {
				losses = append(losses, tr.Step(x, 2*n))
			}
			return losses
		})
	}
}

// TestNewConvTrainerPanics: a head that does not fit the features and an unknown optimiser are rejected.
func TestNewConvTrainerPanics(t *testing.T) {
	cnn := arch.CNN{H: 8, W: 8, C: 1, Channels: []int{2}, Dense: 4}
	for _, c := range []struct {
		m   ConvModel
		opt string
	}{
		{CNNEncoder{CNN: cnn, Head: arch.Head{In: 5, Hidden: 2, Out: 2}}, OptimizerSGD},
		{CNNEncoder{CNN: cnn}, "lbfgs"},
		{ResNetEncoder{ResNet: arch.ResNet18{H: 8, W: 8, C: 3, Stem: "tiny"}}, OptimizerSGD},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v, %s: no panic", c.m, c.opt)
				}
			}()
			NewConvTrainer[float32](c.m, 1, LossConfig{Temperature: 0.5}, c.opt, 1)
		}()
	}
}

// BenchmarkCNNStepRef times one SimCLR step of the reference in float32 on the MNIST CNN: 2N = 512 views of
// 28×28×1, arch.CNN's default channels {32, 64} and Dense 256, head 256→512→128, NT-Xent at τ = 0.5, Adam.
func BenchmarkCNNStepRef(b *testing.B) {
	m := CNNEncoder{CNN: arch.CNN{H: 28, W: 28, C: 1, Channels: arch.DefaultCNNChannels, Dense: arch.DefaultCNNDense},
		Head: arch.Head{In: arch.DefaultCNNDense, Hidden: 512, Out: 128}}
	benchConvStep(b, m, 512, 28*28)
}

// BenchmarkResNet18StepRef times one step of ResNet-18 (CIFAR stem, width 64) on 2N = 32 views of 32×32×3,
// head 512→512→128, NT-Xent at τ = 0.5, Adam, in float32.
func BenchmarkResNet18StepRef(b *testing.B) {
	m := ResNetEncoder{ResNet: arch.ResNet18{H: 32, W: 32, C: 3, Stem: arch.StemCIFAR, Width: 64},
		Head: arch.Head{In: 512, Hidden: 512, Out: 128}}
	benchConvStep(b, m, 32, 32*32*3)
}

func benchConvStep(b *testing.B, m ConvModel, n2, size int) {
	b.Run(fmt.Sprintf("n=%d", n2), func(b *testing.B) {
		tr := NewConvTrainer[float32](m, 1, LossConfig{Temperature: 0.5}, OptimizerAdam, 1e-3)
		r := rand.New(rand.NewPCG(117, 118))
		x := make([]float32, n2*size)
		for i := range x {
			x[i] = r.Float32() // pixel intensities in [0, 1)
		}
		tr.Step(x, n2) // first step: buffers are allocated
		b.ReportAllocs()
		for b.Loop() {
			tr.Step(x, n2)
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/step")
	})
}
