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

// input is one [rows, cols] argument of a graph under test.
type input struct {
	v          []float64
	rows, cols int
}

// callGraph runs fn on the inputs (converted to dt) on the test backend and returns every output as float64.
func callGraph(t *testing.T, dt dtypes.DType, fn func(in []*graph.Node) []*graph.Node, ins ...input) [][]float64 {
	t.Helper()
	args := make([]any, len(ins))
	for i, in := range ins {
		if dt == dtypes.Float64 {
			args[i] = tensors.FromFlatDataAndDimensions(append([]float64(nil), in.v...), in.rows, in.cols)
		} else {
			args[i] = tensors.FromFlatDataAndDimensions(toF32(in.v), in.rows, in.cols)
		}
	}
	outs, err := graph.CallOnceN(testBackend, fn, args...)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		res[i] = flat(o)
	}
	return res
}

func toF32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// rounded returns x rounded to float32 and back: the input the float32 graph sees, on which the float64
// reference gives the exact answer to compare with.
func rounded(x []float64) []float64 { return toF64(toF32(x)) }

// relVec is ‖got − want‖/max(‖want‖, floor).
func relVec(got, want []float64, floor float64) float64 {
	var num, den float64
	for i := range want {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), floor)
}

// objective is one case of TestObjectivesMatchReference: the graph's loss, terms and gradient(s), and the
// reference's on the same (possibly rounded) inputs.
type objective struct {
	name   string
	inputs func(r *rand.Rand, n, d int) []input
	graph  func(in []*graph.Node) []*graph.Node // loss, terms…, ∂loss/∂in[0], [∂loss/∂in[1] that must be 0]
	ref    func(in [][]float64, n, d int) (vals, grad []float64)
}

// gradFloor64 is the smallest gradient norm a relative error is taken against: frac·max(|L|, 1)/‖x‖, the size of
// a gradient of L with respect to x before any projection (normalisation, standardisation) that can cancel it.
// Where the projection does cancel it (d = 1: a normalised row is ±1, a standardised column of N = 2 is ±1
// up to ε), ∂L/∂x is exactly or nearly 0 and only rounding is left; measured against this floor the test stays
// strict elsewhere. frac is 1e-6 in float64 and 1e-1 in float32 (rounding over the tolerance).
func gradFloor64(dt dtypes.DType, loss float64, x []float64) float64 {
	frac := 1e-6
	if dt == dtypes.Float32 {
		frac = 1e-1
	}
	return frac * math.Max(math.Abs(loss), 1) / norm(x)
}

func norm(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

// scaledColumns draws [2N, d] with column j scaled by 0.5 or 2 in turn: batch standard deviations on both
// sides of VICReg's γ = 1.
func scaledColumns(r *rand.Rand, n, d int) []input {
	z := randomZ(r, 2*n, d)
	for i := range z {
		z[i] *= []float64{0.5, 2}[(i%d)%2]
	}
	return []input{{z, 2 * n, d}}
}

func twoInputs(r *rand.Rand, n, d int) []input {
	return []input{{randomZ(r, 2*n, d), 2 * n, d}, {randomZ(r, 2*n, d), 2 * n, d}}
}

var objectives = []objective{
	{"vicreg", scaledColumns, func(in []*graph.Node) []*graph.Node {
		t := VICReg(in[0], DefaultVICReg())
		return []*graph.Node{t.Loss, t.Invariance, t.Variance, t.Covariance, graph.Gradient(t.Loss, in[0])[0]}
	}, func(in [][]float64, n, d int) ([]float64, []float64) {
		r := ref.VICReg(in[0], 2*n, d, ref.DefaultVICReg())
		return []float64{r.Loss, r.Invariance, r.Variance, r.Covariance}, r.DZ
	}},
	{"barlow", func(r *rand.Rand, n, d int) []input { return []input{{randomZ(r, 2*n, d), 2 * n, d}} }, func(in []*graph.Node) []*graph.Node {
		t := Barlow(in[0], DefaultBarlow())
		return []*graph.Node{t.Loss, t.OnDiagonal, t.OffDiagonal, graph.Gradient(t.Loss, in[0])[0]}
	}, func(in [][]float64, n, d int) ([]float64, []float64) {
		r := ref.Barlow(in[0], 2*n, d, ref.DefaultBarlow())
		return []float64{r.Loss, r.OnDiagonal, r.OffDiagonal}, r.DZ
	}},
	{"byol", twoInputs, func(in []*graph.Node) []*graph.Node {
		l := BYOL(in[0], in[1])
		return append([]*graph.Node{l}, graph.Gradient(l, in[0], in[1])...)
	}, func(in [][]float64, n, d int) ([]float64, []float64) {
		l, dp := ref.BYOL(in[0], in[1], 2*n, d)
		return []float64{l}, dp
	}},
	{"mocov3", twoInputs, func(in []*graph.Node) []*graph.Node {
		l := MoCoV3(in[0], in[1], 0.2)
		return append([]*graph.Node{l}, graph.Gradient(l, in[0], in[1])...)
	}, func(in [][]float64, n, d int) ([]float64, []float64) {
		l, dq := ref.MoCoV3(in[0], in[1], 2*n, d, 0.2)
		return []float64{l}, dq
	}},
}

// TestObjectivesMatchReference is acceptance point 1 of issue 23: VICReg, Barlow Twins, BYOL and MoCo v3, their
// terms and their gradients equal the float64 reference for N ∈ {3, 8, 64}, d ∈ {2, 16, 128}, to 1e-9 relative
// in float64 and 1e-5 in float32 (against the reference on the float32-rounded inputs); the gradients with
// respect to the stop-gradient inputs (BYOL's target projections, MoCo v3's keys) are exactly 0. On XLA, where
// each graph is compiled, the grid keeps N = 3, d = 16 and N = 64, d = 128.
//
// d = 1 is left out: a normalised row of one value is ±1, so BYOL's and MoCo v3's gradients are ~1e-12/‖p‖²
// (the ε of the normalisation) and compare only rounding. So is N = 2 for Barlow Twins: two standardised values
// are ±√(σ²/(σ²+ε)) whatever z is, so the gradient is O(ε). Package ref checks both against finite differences.
func TestObjectivesMatchReference(t *testing.T) {
	type size struct{ n, d int }
	var sizes []size
	for _, n := range []int{3, 8, 64} {
		for _, d := range []int{2, 16, 128} {
			sizes = append(sizes, size{n, d})
		}
	}
	if backendtest.XLA() {
		sizes = []size{{3, 16}, {64, 128}}
	}
	r := rand.New(rand.NewPCG(21, 22))
	worst := map[dtypes.DType]*[2]float64{dtypes.Float64: {}, dtypes.Float32: {}} // largest value and gradient errors
	defer func() {
		t.Logf("worst relative errors: float64 values %.2g, gradients %.2g; float32 values %.2g, gradients %.2g",
			worst[dtypes.Float64][0], worst[dtypes.Float64][1], worst[dtypes.Float32][0], worst[dtypes.Float32][1])
	}()
	for _, o := range objectives {
		for _, s := range sizes {
			ins := o.inputs(r, s.n, s.d)
			for _, dt := range []dtypes.DType{dtypes.Float64, dtypes.Float32} {
				name := fmt.Sprintf("%s/N=%d/d=%d/%s", o.name, s.n, s.d, dt)
				vals := make([][]float64, len(ins))
				for i, in := range ins {
					vals[i] = in.v
					if dt == dtypes.Float32 {
						vals[i] = rounded(in.v)
					}
				}
				wantVals, wantGrad := o.ref(vals, s.n, s.d)
				got := callGraph(t, dt, o.graph, ins...)
				tol := map[dtypes.DType]float64{dtypes.Float64: 1e-9, dtypes.Float32: 1e-5}[dt]
				scale := 1e-3 // values relative to the largest term (a term can be ~0 beside the others)
				for _, w := range wantVals {
					scale = math.Max(scale, math.Abs(w))
				}
				for i, w := range wantVals {
					e := math.Abs(got[i][0]-w) / scale
					worst[dt][0] = math.Max(worst[dt][0], e)
					if e > tol || math.IsNaN(got[i][0]) {
						t.Errorf("%s: value %d = %.12g, reference %.12g (rel err %.2g)", name, i, got[i][0], w, e)
					}
				}
				floor := gradFloor64(dt, wantVals[0], ins[0].v)
				e := relVec(got[len(wantVals)], wantGrad, floor)
				worst[dt][1] = math.Max(worst[dt][1], e)
				if e > tol || math.IsNaN(e) {
					t.Errorf("%s: gradient relative error %.3g > %g (‖∇‖ = %.3g, floor %.3g, abs %.3g)", name, e, tol, norm(wantGrad), floor, relVec(got[len(wantVals)], wantGrad, 1))
				}
				if len(got) > len(wantVals)+1 {
					for i, g := range got[len(wantVals)+1] {
						if g != 0 {
							t.Fatalf("%s: gradient reaches the stop-gradient input: element %d = %g", name, i, g)
						}
					}
				}
			}
		}
	}
}
