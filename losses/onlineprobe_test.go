package losses

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/internal/backendtest"
	"github.com/gosimclr/gosimclr/ref"
)

// graphProbe evaluates OnlineProbe and the gradient of its CE with respect to w and b on the test backend.
func graphProbe(t *testing.T, h []float64, y []int32, f, classes int, w, b []float64, dt dtypes.DType) (ce, acc float64, dw, db []float64) {
	t.Helper()
	m := len(y)
	outs, err := graph.CallOnceN(testBackend, func(h, y, w, b *graph.Node) []*graph.Node {
		p := OnlineProbe(h, y, w, b)
		grads := graph.Gradient(p.CE, w, b)
		return []*graph.Node{p.CE, p.Accuracy, grads[0], grads[1]}
	}, tensorOf(h, dt, m, f), tensors.FromFlatDataAndDimensions(y, m), tensorOf(w, dt, f, classes), tensorOf(b, dt, classes))
	if err != nil {
		t.Fatal(err)
	}
	return flat(outs[0])[0], flat(outs[1])[0], flat(outs[2]), flat(outs[3])
}

func tensorOf(v []float64, dt dtypes.DType, dims ...int) *tensors.Tensor {
	if dt == dtypes.Float64 {
		return tensors.FromFlatDataAndDimensions(append([]float64(nil), v...), dims...)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensors.FromFlatDataAndDimensions(f, dims...)
}

// TestOnlineProbeMatchesReference: the probe's CE, accuracy and ∂CE/∂w, ∂CE/∂b equal ref.OnlineProbe's within
// 1e-9 relative (float64) and 1e-5 (float32, against the reference fed the same float32 values), the
// accuracy exactly, for M ∈ {1, 8, 64} rows, F ∈ {1, 16, 128} features and C ∈ {2, 10} classes.
//
// On XLA, where each graph is compiled, the grid keeps M ∈ {8, 64}, F = 16.
func TestOnlineProbeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ms, fs := []int{1, 8, 64}, []int{1, 16, 128}
	if backendtest.XLA() {
		ms, fs = []int{8, 64}, []int{16}
	}
	for _, m := range ms {
		for _, f := range fs {
			for _, classes := range []int{2, 10} {
				h, w, b := randomZ(r, m, f), randomZ(r, f, classes), randomZ(r, 1, classes)
				y, yi := make([]int32, m), make([]int, m)
				for i := range y {
					yi[i] = r.IntN(classes)
					y[i] = int32(yi[i])
				}
				for _, dt := range []dtypes.DType{dtypes.Float64, dtypes.Float32} {
					name := fmt.Sprintf("M=%d/F=%d/C=%d/%s", m, f, classes, dt)
					var want ref.ProbeResult[float64]
					tol := 1e-9
					if dt == dtypes.Float64 {
						want = ref.OnlineProbe(h, yi, f, classes, w, b)
					} else {
						tol = 1e-5
						w32 := ref.OnlineProbe(round32(h), yi, f, classes, round32(w), round32(b))
						want = ref.ProbeResult[float64]{CE: w32.CE, Accuracy: w32.Accuracy, DW: toF64(w32.DW), DB: toF64(w32.DB)}
					}
					ce, acc, dw, db := graphProbe(t, h, y, f, classes, w, b, dt)
					if e := math.Abs(ce-want.CE) / math.Max(want.CE, 1e-3); e > tol || math.IsNaN(ce) {
						t.Errorf("%s: CE %.12g, reference %.12g (rel err %.2g)", name, ce, want.CE, e)
					}
					if acc != want.Accuracy {
						t.Errorf("%s: accuracy %g, reference %g", name, acc, want.Accuracy)
					}
					if e := vecRelErr(append(dw, db...), append(want.DW, want.DB...)); e > tol || math.IsNaN(e) {
						t.Errorf("%s: gradient relative error %.3g > %g", name, e, tol)
					}
				}
			}
		}
	}
}

// TestOnlineProbeZero: an all-zero probe has CE = log C and accuracy 0 (every logit ties), on the graph too.
func TestOnlineProbeZero(t *testing.T) {
	const m, f, classes = 6, 3, 5
	h := randomZ(rand.New(rand.NewPCG(1, 1)), m, f)
	y := []int32{0, 1, 2, 3, 4, 0}
	ce, acc, _, _ := graphProbe(t, h, y, f, classes, make([]float64, f*classes), make([]float64, classes), dtypes.Float64)
	if math.Abs(ce-math.Log(classes)) > 1e-12 || acc != 0 {
		t.Errorf("CE %.15g accuracy %g, want log %d = %.15g and 0", ce, acc, classes, math.Log(classes))
	}
}

func round32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// vecRelErr is ‖got − want‖ / max(‖want‖, 1e-12).
func vecRelErr(got, want []float64) float64 {
	var num, den float64
	for i := range want {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), 1e-12)
}
