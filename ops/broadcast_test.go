package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestBroadcastForms: the substitutes (forced on any backend) SpreadColumn, SpreadRow, OuterSub, RunningSum and
// AddBias give the stock ops' values bit for bit: columns and rows of random floats of every magnitude (with
// zeros, subnormals and values that cancel), and 0/1 masks for RunningSum, in float32 and float64.
func TestBroadcastForms(t *testing.T) {
	defer ForceSubstitutes(true)()
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
			rowVec := graph.Reshape(row, n)
			return []*graph.Node{SpreadColumn(col, n), graph.BroadcastToDims(col, m, n), OuterSub(row, col), graph.Sub(row, col),
				RunningSum(mask), graph.CumSum(mask, 1), SpreadRow(rowVec, m), graph.BroadcastToDims(row, m, n),
				AddBias(mask, rowVec), graph.Add(mask, row)}
		}, conv(col, m, 1), conv(row, 1, n), conv(mask, m, n))
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"SpreadColumn", "OuterSub", "RunningSum", "SpreadRow", "AddBias"} {
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

// TestColumnSumsAddBias: ColumnSums against float64 column sums, and AddBias's gradients (∂y = r, ∂b = Σ r over
// every axis but the last, for L = Σ r ⊙ (y + b)), for y [300, 7] and an image-shaped y [4, 5, 15, 7] of as many
// rows; both forms.
func TestColumnSumsAddBias(t *testing.T) { bothForms(t, testColumnSumsAddBias) }

func testColumnSumsAddBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const b, d = 300, 7
	y, bias, r := randF64(rng, b*d), randF64(rng, d), randF64(rng, b*d)
	want := make([]float64, d)
	for i := range b {
		for j := range d {
			want[j] += r[i*d+j]
		}
	}
	for _, dims := range [][]int{{b, d}, {4, 5, 15, d}} {
		checkColumnSumsAddBias(t, dims, y, bias, r, want)
	}
}

func checkColumnSumsAddBias(t *testing.T, dims []int, y, bias, r, want []float64) {
	t.Helper()
	b, d := len(y)/len(bias), len(bias)
	outs, err := graph.CallOnceN(testBackend, func(y, bias, r *graph.Node) []*graph.Node {
		out := []*graph.Node{ColumnSums(graph.Reshape(r, b, d))}
		out = append(out, graph.Gradient(graph.ReduceAllSum(graph.Mul(AddBias(y, bias), r)), y, bias)...)
		return append(out, graph.Sub(AddBias(y, bias), graph.Add(y, graph.ExpandLeftToRank(bias, y.Rank()))))
	}, tensors.FromFlatDataAndDimensions(y, dims...), tensors.FromFlatDataAndDimensions(bias, d), tensors.FromFlatDataAndDimensions(r, dims...))
	if err != nil {
		t.Fatal(err)
	}
	sums, dy, db := tensors.MustCopyFlatData[float64](outs[0]), tensors.MustCopyFlatData[float64](outs[1]), tensors.MustCopyFlatData[float64](outs[2])
	for j := range d {
		if math.Abs(sums[j]-want[j]) > 1e-12*max(1, math.Abs(want[j])) || math.Abs(db[j]-want[j]) > 1e-12*max(1, math.Abs(want[j])) {
			t.Errorf("%v column %d: ColumnSums %.15g, ∂b %.15g, want %.15g", dims, j, sums[j], db[j], want[j])
		}
	}
	for i := range dy {
		if dy[i] != r[i] {
			t.Fatalf("%v: ∂y[%d] = %g, want %g", dims, i, dy[i], r[i])
		}
	}
	for i, v := range tensors.MustCopyFlatData[float64](outs[3]) {
		if v != 0 {
			t.Fatalf("%v: AddBias differs from the broadcast sum at %d by %g", dims, i, v)
		}
	}
}

// TestSumAll: SumAll against float64 sums for a matrix, a rank-3 tensor, a vector, a column and a scalar, and
// NaN and +Inf anywhere make it NaN and +Inf as they make ReduceAllSum; both forms.
func TestSumAll(t *testing.T) { bothForms(t, testSumAll) }

func testSumAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, dims := range [][]int{{37, 11}, {3, 5, 7}, {300}, {40, 1}, {}} {
		n := 1
		for _, d := range dims {
			n *= d
		}
		x := randF64(rng, n)
		want := 0.0
		for _, v := range x {
			want += v
		}
		for _, poison := range []float64{0, math.NaN(), math.Inf(1)} {
			xp := append([]float64(nil), x...)
			if poison != 0 {
				xp[n/2] = poison
			}
			got, err := graph.CallOnce(testBackend, SumAll, tensors.FromFlatDataAndDimensions(xp, dims...))
			if err != nil {
				t.Fatal(err)
			}
			g := tensors.MustCopyFlatData[float64](got)[0]
			switch {
			case poison == 0 && math.Abs(g-want) > 1e-12*max(1, math.Abs(want)):
				t.Errorf("%v: SumAll = %.15g, want %.15g", dims, g, want)
			case math.IsNaN(poison) && !math.IsNaN(g), math.IsInf(poison, 1) && !math.IsInf(g, 1):
				t.Errorf("%v with %g: SumAll = %g", dims, poison, g)
			}
		}
	}
}
