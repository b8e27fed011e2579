package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestBroadcastForms: SpreadColumn, OuterSub and RunningSum on the Go backend give the stock ops' values bit for
// bit: columns and rows of random floats of every magnitude (with zeros, subnormals and values that cancel), and
// 0/1 masks for RunningSum, in float32 and float64.
func TestBroadcastForms(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	vals := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			switch i % 5 {
			case 0:
				x[i] = 0
			case 1:
				x[i] = math.Ldexp(r.NormFloat64(), -r.IntN(140)) // down to float32 subnormals
			default:
				x[i] = math.Ldexp(r.NormFloat64(), r.IntN(60)-30)
			}
		}
		return x
	}
	const m, n = 37, 11
	col, row := vals(m), vals(n)
	row[3] = col[2] // an exact cancellation
	mask := make([]float64, m*n)
	for i := range mask {
		mask[i] = float64(r.IntN(2))
	}
	for _, f32 := range []bool{false, true} {
		conv := func(x []float64, dims ...int) *tensors.Tensor {
			if !f32 {
				return tensors.FromFlatDataAndDimensions(x, dims...)
			}
			y := make([]float32, len(x))
			for i, v := range x {
				y[i] = float32(v)
			}
			return tensors.FromFlatDataAndDimensions(y, dims...)
		}
		outs, err := graph.CallOnceN(testBackend, func(col, row, mask *graph.Node) []*graph.Node {
			if !Substitute(col.Graph()) {
				t.Fatal("testBackend is not the Go backend")
			}
			return []*graph.Node{SpreadColumn(col, n), graph.BroadcastToDims(col, m, n), OuterSub(row, col), graph.Sub(row, col),
				RunningSum(mask), graph.CumSum(mask, 1)}
		}, conv(col, m, 1), conv(row, 1, n), conv(mask, m, n))
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"SpreadColumn", "OuterSub", "RunningSum"} {
			got, want := toFloat64s(outs[2*i]), toFloat64s(outs[2*i+1])
			for j := range want {
				if math.Float64bits(got[j]) != math.Float64bits(want[j]) && !(got[j] == 0 && want[j] == 0) {
					t.Errorf("float32 %v: %s[%d] = %g, stock %g", f32, name, j, got[j], want[j])
					break
				}
			}
		}
	}
}

func toFloat64s(x *tensors.Tensor) []float64 {
	if v, err := tensors.CopyFlatData[float64](x); err == nil {
		return v
	}
	return toF64(tensors.MustCopyFlatData[float32](x))
}
