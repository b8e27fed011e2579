package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/ref"
)

// TestStepMatchesReference runs three whole training steps (forward, loss, backward, optimiser) as the
// compiled graph and as ref.Trainer from the same initial parameters and views, for SGD and Adam, with and
// without a head and with frozen weights, and compares losses and parameters.
func TestStepMatchesReference(t *testing.T) {
	b := testBackend
	r := rand.New(rand.NewPCG(21, 22))
	const n2, in = 12, 4
	x := arch.Normal(r, n2*in, 1)
	for _, c := range []struct {
		name string
		enc  models.Encoder
		opt  string
	}{
		{"adam", models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: in, Width: 16, Depth: 2, Out: 3, Activation: arch.Tanh, Scaling: arch.ScalingNTK, Trainable: arch.TrainBoth, Normalize: true}}}, optim.Adam},
		{"sgd", models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: in, Width: 16, Depth: 1, Out: 3, Activation: arch.Softplus, Scaling: arch.ScalingMeanField, Trainable: arch.TrainBoth}}}, optim.SGD},
		{"adam-outer-only", models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: in, Width: 16, Depth: 1, Out: 3, Activation: arch.ReLU, Scaling: arch.ScalingStandard, Trainable: arch.TrainOuter}}}, optim.Adam},
		{"sgd-inner-head", models.Encoder{Body: models.MLPBody{MLP: arch.MLP{In: in, Width: 16, Depth: 1, Out: 5, Activation: arch.LeakyReLU, Scaling: arch.ScalingNTK, Trainable: arch.TrainInner}}, Head: arch.Head{In: 5, Hidden: 8, Out: 3}}, optim.SGD},
	} {
		for _, dt := range []dtypes.DType{dtypes.Float64, dtypes.Float32} {
			lr, tol := 0.05, 1e-9
			if dt == dtypes.Float32 {
				tol = 2e-4
			}
			identity := func(rng, x *graph.Node) (*graph.Node, *graph.Node) { return rng, x }
			st, err := newStepper(b, c.enc, optim.Optimizer{Name: c.opt, LR: lr}, losses.Config{Temperature: 0.5}, identity, dt, 3)
			if err != nil {
				t.Fatal(err)
			}
			xt := hostTensor(dt, x, []int{n2, in})
			rcfg := ref.LossConfig{Temperature: 0.5}
			renc := ref.Encoder{MLP: c.enc.Body.(models.MLPBody).MLP, Head: c.enc.Head}
			var refLoss func(lr float64) float64
			var refParams func() [][]float64
			if dt == dtypes.Float64 {
				tr := ref.NewTrainer[float64](renc, 3, rcfg, c.opt, lr)
				refLoss = func(lr float64) float64 { tr.LR = lr; return tr.Step(x, n2) }
				refParams = func() [][]float64 { return tr.Params }
			} else {
				tr := ref.NewTrainer[float32](renc, 3, rcfg, c.opt, lr)
				x32 := ref.ConvertParams[float32]([][]float64{x})[0]
				refLoss = func(lr float64) float64 { tr.LR = lr; return tr.Step(x32, n2) }
				refParams = func() [][]float64 {
					out := make([][]float64, len(tr.Params))
					for i, p := range tr.Params {
						out[i] = make([]float64, len(p))
						for j, v := range p {
							out[i][j] = float64(v)
						}
					}
					return out
				}
			}
			init := st.ParamValues()
			// The learning rate follows a warm-up and cosine schedule: the graph gets the factor as an input,
			// the reference the scaled rate.
			sched := optim.Schedule{Name: optim.Cosine, Warmup: 1, Total: 3}
			for step := range 3 {
				st.LRScale = sched.Factor(step + 1)
				res, err := st.Step(xt)
				if err != nil {
					t.Fatal(err)
				}
				if rl := refLoss(lr * st.LRScale); math.Abs(res.Loss-rl) > tol*math.Max(1, math.Abs(rl)) {
					t.Errorf("%s/%s step %d: loss %.12g, reference %.12g", c.name, dt, step, res.Loss, rl)
				}
			}
			got, want := st.ParamValues(), refParams()
			specs := c.enc.Params()
			for i := range got {
				moved := false
				for j := range got[i] {
					if math.Abs(got[i][j]-want[i][j]) > tol*math.Max(1, math.Abs(want[i][j])) {
						t.Errorf("%s/%s: %s[%d] = %.12g, reference %.12g", c.name, dt, specs[i].Name, j, got[i][j], want[i][j])
						break
					}
					moved = moved || got[i][j] != init[i][j]
				}
				if moved != specs[i].Trainable {
					t.Errorf("%s/%s: %s trainable=%v but moved=%v", c.name, dt, specs[i].Name, specs[i].Trainable, moved)
				}
			}
		}
	}
}
