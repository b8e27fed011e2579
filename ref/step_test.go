package ref

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
)

// TestStepGradient: one SGD step with lr = 1 moves each trainable parameter by −∂L/∂θ, so old − new must
// match central finite differences of the whole pipeline θ → z → L (encoder, optional head, loss), and
// frozen parameters must not move.
func TestStepGradient(t *testing.T) {
	const n2, h = 6, 1e-4
	r := rand.New(rand.NewPCG(41, 42))
	for _, head := range []bool{false, true} {
		for _, trainable := range arch.Trainables {
			for _, kern := range allKernels {
				enc := Encoder{MLP: arch.MLP{In: 3, Width: 5, Depth: 2, Out: 4, Activation: arch.Tanh,
					Scaling: arch.ScalingNTK, Trainable: trainable, Normalize: kern == KernelGaussian}}
				if head {
					enc.Head = arch.Head{In: 4, Hidden: 6, Out: 3}
				}
				cfg := LossConfig{Kernel: kern, Temperature: 0.5}
				t.Run(fmt.Sprintf("head=%v/%s/%s", head, trainable, kern), func(t *testing.T) {
					tr := NewTrainer[float64](enc, 3, cfg, OptimizerSGD, 1)
					x := randSlice[float64](r, n2*enc.MLP.In)
					old := make([][]float64, len(tr.Params))
					for i, p := range tr.Params {
						old[i] = slices.Clone(p)
					}
					lossAt := func(params [][]float64) float64 {
						saved := tr.Params
						tr.Params = params
						defer func() { tr.Params = saved }()
						_, _, z, k := tr.Forward(x, n2)
						return Loss(z, n2, k, cfg).Loss
					}
					want := lossAt(old)
					if got := tr.Step(x, n2); got != want {
						t.Errorf("Step returned %g, the loss is %g", got, want)
					}
					for i, p := range enc.Params() {
						step := make([]float64, len(old[i]))
						for j := range step {
							step[j] = old[i][j] - tr.Params[i][j]
						}
						if !p.Trainable {
							if slices.ContainsFunc(step, func(v float64) bool { return v != 0 }) {
								t.Errorf("%s is frozen but moved", p.Name)
							}
							continue
						}
						fd := centralDiff(func(v []float64) float64 {
							ps := slices.Clone(old)
							ps[i] = v
							return lossAt(ps)
						}, old[i], h)
						if e := relErrFloor(step, fd, fdFloor(want, h, len(fd))); e > 1e-6 {
							t.Errorf("%s: relative error %.3g", p.Name, e)
						}
					}
				})
			}
		}
	}
}

// TestStepAdam: training a small network with Adam lowers the loss, deterministically.
func TestStepAdam(t *testing.T) {
	enc := Encoder{MLP: arch.MLP{In: 8, Width: 32, Depth: 1, Out: 4, Activation: arch.ReLU, Scaling: arch.ScalingNTK,
		Trainable: arch.TrainBoth}, Head: arch.Head{In: 4, Hidden: 16, Out: 4}}
	checkLearns(t, "MLP with head", func() []float64 {
		tr := NewTrainer[float32](enc, 1, LossConfig{Temperature: 0.5}, OptimizerAdam, 1e-2)
		const n = 16
		x := noisyViews(rand.New(rand.NewPCG(43, 44)), n, 8)
		var losses []float64
		for range 30 {
			losses = append(losses, tr.Step(x, 2*n))
		}
		return losses
	})
}

// BenchmarkStep times one full SimCLR step of the reference in float32: MLP 784→512 (relu)→128, 2N = 512
// views, NT-Xent at τ = 0.5, Adam.
func BenchmarkStep(b *testing.B) {
	enc := Encoder{MLP: arch.MLP{In: 784, Width: 512, Depth: 1, Out: 128, Activation: arch.ReLU,
		Scaling: arch.ScalingNTK, Trainable: arch.TrainBoth}}
	const n2 = 512
	b.Run(fmt.Sprintf("n=%d/d=%d/m=%d/k=%d", n2, enc.MLP.In, enc.MLP.Width, enc.MLP.Out), func(b *testing.B) {
		tr := NewTrainer[float32](enc, 1, LossConfig{Temperature: 0.5}, OptimizerAdam, 1e-3)
		x := randSlice[float32](rand.New(rand.NewPCG(45, 46)), n2*enc.MLP.In)
		b.ReportAllocs()
		for b.Loop() {
			tr.Step(x, n2)
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/step")
	})
}
