package train

import (
	"fmt"
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

// refBYOLStep is one BYOL step in package ref, float64, with plain SGD: the online MLP + head + predictor
// (params) against the target MLP + head (target), then the target's EMA with τ_k. It returns the loss.
func refBYOLStep(mlp arch.MLP, head, pred arch.Head, params, target [][]float64, x []float64, n2 int, lr float64, k, total int, base float64) float64 {
	nm, nh := len(mlp.Params()), len(head.Params())
	forward := func(p [][]float64) (*ref.MLPCache[float64], *ref.HeadCache[float64]) {
		mc := ref.MLPForward(mlp, p[:nm], x, n2)
		return mc, ref.HeadForward(head, p[nm:nm+nh], mc.Out, n2)
	}
	mc, hc := forward(params)
	pc := ref.HeadForward(pred, params[nm+nh:], hc.Out, n2)
	_, tc := forward(target)
	loss, dp := ref.BYOL(pc.Out, tc.Out, n2, pred.Out)
	dPred, dz := ref.HeadBackward(pc, dp)
	dHead, dh := ref.HeadBackward(hc, dz)
	dMLP, _ := ref.MLPBackward(mc, dh)
	grads := append(append(dMLP, dHead...), dPred...)
	for i := range params {
		for j := range params[i] {
			params[i][j] -= lr * grads[i][j]
		}
	}
	tau := ref.MomentumTau(k, total, base)
	for i := range target {
		ref.EMA(target[i], target[i], params[i], tau)
	}
	return loss
}

// TestBYOLStepMatchesReference is issue 23's check of the momentum encoder in the step: three compiled BYOL
// steps (MLP + head + predictor, SGD, the target an EMA with τ on the cosine schedule from τ_base = 0.9 over
// K = 4 steps) give the loss, the online parameters (predictor included) and the target parameters of the
// same steps in package ref, to 1e-12 in float64 and 1e-5 in float32; the target starts as the online network
// and its step counter counts the steps.
func TestBYOLStepMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const n2, in, lr, base, total = 12, 4, 0.1, 0.9, 4
	x := arch.Normal(r, n2*in, 1)
	mlp := arch.MLP{In: in, Width: 16, Depth: 1, Out: 5, Activation: arch.ReLU, Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth}
	head, pred := arch.Head{In: 5, Hidden: 8, Out: 3}, arch.Head{In: 3, Hidden: 8, Out: 3}
	model := models.WithPredictor{Model: models.Encoder{Body: models.MLPBody{MLP: mlp}, Head: head}, Predictor: pred}
	identity := func(rng, x *graph.Node) (*graph.Node, *graph.Node) { return rng, x }
	for _, dt := range []dtypes.DType{dtypes.Float64, dtypes.Float32} {
		tol := map[dtypes.DType]float64{dtypes.Float64: 1e-12, dtypes.Float32: 1e-5}[dt]
		st, err := newStepper(testBackend, model, optim.Optimizer{Name: optim.SGD, LR: lr}, losses.Config{Temperature: 0.5}, identity, dt, 3)
		if err != nil {
			t.Fatal(err)
		}
		st.useMethod(Method{Name: MethodBYOL, TauBase: base, Steps: total})
		params := st.ParamValues() // the float32 run's values are float32 numbers: ref starts from the same
		nb := model.Base()
		k, target := st.TargetValues()
		if k != 0 || fmt.Sprint(target) != fmt.Sprint(params[:nb]) {
			t.Fatalf("%s: the target does not start as the online network (k = %g)", dt, k)
		}
		xt := hostTensor(dt, x, []int{n2, in})
		xr := x
		if dt == dtypes.Float32 {
			xr = flat64(xt)
		}
		for step := range 3 {
			res, err := st.Step(xt)
			if err != nil {
				t.Fatal(err)
			}
			want := refBYOLStep(mlp, head, pred, params, target, xr, n2, lr, step, total, base)
			if math.Abs(res.Loss-want) > tol*math.Max(1, want) {
				t.Errorf("%s step %d: loss %.15g, reference %.15g", dt, step, res.Loss, want)
			}
			gk, gotTarget := st.TargetValues()
			if gk != float64(step+1) {
				t.Errorf("%s step %d: target step counter %g, want %d", dt, step, gk, step+1)
			}
			for name, pair := range map[string][2][][]float64{"online": {st.ParamValues(), params}, "target": {gotTarget, target}} {
				for i := range pair[1] {
					var num, den float64
					for j := range pair[1][i] {
						num += (pair[0][i][j] - pair[1][i][j]) * (pair[0][i][j] - pair[1][i][j])
						den += pair[1][i][j] * pair[1][i][j]
					}
					if e := math.Sqrt(num / math.Max(den, 1e-300)); e > tol {
						t.Errorf("%s step %d: %s parameter %s differs from the reference by %.3g (relative)", dt, step, name, model.Params()[i].Name, e)
					}
				}
			}
		}
	}
}
