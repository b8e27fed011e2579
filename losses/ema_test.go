package losses

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/ref"
)

// TestMomentumTauMatchesReference: the graph's τ_k equals ref.MomentumTau for k from −1 to K + 1 (clamped at the
// ends) to 1e-15, and K = 0 gives τ_base.
func TestMomentumTauMatchesReference(t *testing.T) {
	const total, base = 10, 0.996
	ks := make([]int64, total+3)
	for i := range ks {
		ks[i] = int64(i - 1)
	}
	for _, tot := range []int{total, 0} {
		out, err := graph.CallOnce(testBackend, func(k *graph.Node) *graph.Node {
			return MomentumTau(k, tot, base)
		}, tensors.FromFlatDataAndDimensions(ks, len(ks)))
		if err != nil {
			t.Fatal(err)
		}
		got := flat(out)
		for i, k := range ks {
			if want := ref.MomentumTau(int(k), tot, base); math.Abs(got[i]-want) > 1e-15 {
				t.Errorf("K=%d k=%d: τ = %.17g, reference %.17g", tot, k, got[i], want)
			}
		}
	}
}

// TestEMAMatchesReference is the EMA part of issue 23's acceptance point 1: five updates of two target tensors
// toward online tensors that change at every step, with τ_k from the cosine schedule (k = 0..4 of K = 8),
// equal ref.EMA's after every step: to 1e-15 relative in float64 and 1e-6 in float32 (against the reference
// run from the float32-rounded start, the online tensors rounded too).
func TestEMAMatchesReference(t *testing.T) {
	const total, base = 8, 0.996
	r := rand.New(rand.NewPCG(31, 32))
	dims := [][]int{{3, 4}, {5}}
	for _, dt := range []dtypes.DType{dtypes.Float64, dtypes.Float32} {
		exec, err := graph.NewExec(testBackend, func(in []*graph.Node) []*graph.Node {
			return EMA(in[0:2], in[2:4], MomentumTau(in[4], total, base))
		})
		if err != nil {
			t.Fatal(err)
		}
		targets := [][]float64{randomZ(r, 3, 4), randomZ(r, 5, 1)}
		if dt == dtypes.Float32 {
			targets = [][]float64{rounded(targets[0]), rounded(targets[1])}
		}
		cur := []*tensors.Tensor{tensorOf(targets[0], dt, dims[0]...), tensorOf(targets[1], dt, dims[1]...)}
		for k := range 5 {
			online := [][]float64{randomZ(r, 3, 4), randomZ(r, 5, 1)}
			if dt == dtypes.Float32 {
				online = [][]float64{rounded(online[0]), rounded(online[1])}
			}
			outs, err := exec.Exec(cur[0], cur[1], tensorOf(online[0], dt, dims[0]...), tensorOf(online[1], dt, dims[1]...), int64(k))
			if err != nil {
				t.Fatal(err)
			}
			tau := ref.MomentumTau(k, total, base)
			tol := map[dtypes.DType]float64{dtypes.Float64: 1e-15, dtypes.Float32: 1e-6}[dt]
			for i := range targets {
				targets[i] = ref.EMA(nil, targets[i], online[i], tau)
				if e := relVec(flat(outs[i]), targets[i], 1e-300); e > tol {
					t.Errorf("%s step %d tensor %d: relative error %.3g > %g", dt, k, i, e, tol)
				}
			}
			cur = outs
		}
	}
}
