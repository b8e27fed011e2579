package models

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// bnRef is batch norm in training by hand, per channel of x [n, C] (the leading axes flattened): y, the
// gradients for upstream g, and the new running averages. With x̂ = (x−μ)/σ, σ = √(σ²_B+ε):
//
//	∂x = (γ/σ)·(g − mean(g) − x̂·mean(g·x̂)),  ∂γ = Σ g·x̂,  ∂β = Σ g
func bnRef(x, g, scale, bias, rm, rv []float64, c int) (y, dx, dscale, dbias, newMean, newVar []float64) {
	n := len(x) / c
	y, dx = make([]float64, len(x)), make([]float64, len(x))
	dscale, dbias, newMean, newVar = make([]float64, c), make([]float64, c), make([]float64, c), make([]float64, c)
	for ch := range c {
		var mu, v float64
		for i := range n {
			mu += x[i*c+ch]
		}
		mu /= float64(n)
		for i := range n {
			v += (x[i*c+ch] - mu) * (x[i*c+ch] - mu)
		}
		v /= float64(n)
		sigma := math.Sqrt(v + ops.BNEpsilon)
		var mg, mgx float64
		for i := range n {
			xh := (x[i*c+ch] - mu) / sigma
			y[i*c+ch] = scale[ch]*xh + bias[ch]
			mg += g[i*c+ch] / float64(n)
			mgx += g[i*c+ch] * xh / float64(n)
			dscale[ch] += g[i*c+ch] * xh
			dbias[ch] += g[i*c+ch]
		}
		for i := range n {
			xh := (x[i*c+ch] - mu) / sigma
			dx[i*c+ch] = scale[ch] / sigma * (g[i*c+ch] - mg - xh*mgx)
		}
		newMean[ch] = 0.9*rm[ch] + 0.1*mu
		newVar[ch] = 0.9*rv[ch] + 0.1*v*float64(n)/float64(n-1)
	}
	return
}

// bnGraph runs BatchNorm on x [dims] and returns y, the gradients of Σ y·g and the new running averages.
func bnGraph(t *testing.T, x, g, scale, bias, rm, rv []float64, dims []int, training bool) [][]float64 {
	t.Helper()
	c := dims[len(dims)-1]
	outs, err := graph.CallOnceN(testBackend, func(gr *graph.Graph, in []*graph.Node) []*graph.Node {
		y, m, v := ops.BatchNorm(in[0], in[2], in[3], in[4], in[5], training)
		out := []*graph.Node{y, m, v}
		if training {
			out = append(out, graph.Gradient(graph.ReduceAllSum(graph.Mul(y, in[1])), in[0], in[2], in[3])...)
		}
		return out
	}, tensorOf(dtypes.Float64, x, dims...), tensorOf(dtypes.Float64, g, dims...), tensorOf(dtypes.Float64, scale, c),
		tensorOf(dtypes.Float64, bias, c), tensorOf(dtypes.Float64, rm, c), tensorOf(dtypes.Float64, rv, c))
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		res[i] = flat(o)
	}
	return res
}

// TestBatchNormTraining: values, gradients (against the hand-derived formula, so gradients flow through the
// batch mean and variance) and running averages (momentum 0.9, unbiased variance) in float64; and the
// gradients against central finite differences. Both forms: the stock ops (XLA's fused batch norm where the
// backend has it) and the substitutes (the exact form written out).
func TestBatchNormTraining(t *testing.T) {
	for _, sub := range []bool{true, false} {
		t.Run(fmt.Sprintf("substitutes=%v", sub), func(t *testing.T) {
			defer ops.ForceSubstitutes(sub)()
			testBatchNormTraining(t)
		})
	}
}

func testBatchNormTraining(t *testing.T) {
	rng := newRand(9)
	for _, dims := range [][]int{{4, 3, 3, 2}, {6, 5}, {2, 2, 2, 1}} {
		c, n := dims[len(dims)-1], prod(dims)
		x, g := randn(rng, n), randn(rng, n)
		for i := range x {
			x[i] = 3*x[i] + 1 // a mean and variance far from 0 and 1
		}
		scale, bias, rm, rv := randn(rng, c), randn(rng, c), randn(rng, c), make([]float64, c)
		for i := range rv {
			rv[i] = 0.5 + float64(i)
		}
		got := bnGraph(t, x, g, scale, bias, rm, rv, dims, true)
		y, dx, ds, db, nm, nv := bnRef(x, g, scale, bias, rm, rv, c)
		for i, want := range [][]float64{y, nm, nv, dx, ds, db} {
			if e := relNorm(got[i], want); e > 1e-12 || math.IsNaN(e) {
				t.Errorf("%v: output %d (y, mean', var', ∂x, ∂γ, ∂β) differs from the hand computation by %.3g", dims, i, e)
			}
		}
		f := func(in []*graph.Node) *graph.Node {
			y, _, _ := ops.BatchNorm(in[0], in[1], in[2], in[3], in[4], true)
			return y
		}
		vals := [][]float64{x, scale, bias, rm, rv}
		vdims := [][]int{dims, {c}, {c}, {c}, {c}}
		for i, which := range []int{0, 1, 2} {
			if e := relNorm(got[3+i], finiteDiff(t, f, vals, vdims, g, which)); e > 1e-7 {
				t.Errorf("%v: gradient %d differs from finite differences by %.3g", dims, i, e)
			}
		}
	}
}

// TestBatchNormEvaluation: in evaluation mode the running averages normalise and are returned unchanged, with
// the stock ops and with the substitutes.
func TestBatchNormEvaluation(t *testing.T) {
	for _, sub := range []bool{true, false} {
		t.Run(fmt.Sprintf("substitutes=%v", sub), func(t *testing.T) {
			defer ops.ForceSubstitutes(sub)()
			rng := newRand(10)
			dims := []int{3, 2, 2, 3}
			x := randn(rng, prod(dims))
			scale, bias, rm, rv := randn(rng, 3), randn(rng, 3), randn(rng, 3), []float64{0.5, 2, 4}
			got := bnGraph(t, x, x, scale, bias, rm, rv, dims, false)
			want := make([]float64, len(x))
			for i, v := range x {
				ch := i % 3
				want[i] = scale[ch]*(v-rm[ch])/math.Sqrt(rv[ch]+ops.BNEpsilon) + bias[ch]
			}
			tol := 1e-14
			if !sub && testBackend.Capabilities().Operations[compute.OpTypeBatchNormForInference] {
				tol = 1e-12 // XLA's fused BatchNormForInference: 2.7e-13 from the exact value in float64
			}
			if e := relNorm(got[0], want); e > tol {
				t.Errorf("y differs by %.3g > %g", e, tol)
			}
			if relNorm(got[1], rm) != 0 || relNorm(got[2], rv) != 0 {
				t.Errorf("running averages changed in evaluation: %v %v", got[1], got[2])
			}
		})
	}
}

// TestBatchNormMixedPrecision: with x, γ and β in bfloat16 and the running statistics in float32 (the training
// step's mixed precision), batch norm computes in float32: the new running averages equal the float64 hand
// computation on the bfloat16 values to float32 precision (1e-6), and y, returned in bfloat16, is that
// computation rounded once: within bfloat16's unit roundoff 2⁻⁸ of each value. Both forms.
func TestBatchNormMixedPrecision(t *testing.T) {
	for _, sub := range []bool{true, false} {
		t.Run(fmt.Sprintf("substitutes=%v", sub), func(t *testing.T) {
			defer ops.ForceSubstitutes(sub)()
			rng := newRand(11)
			dims := []int{4, 3, 3, 2}
			c, n := 2, prod(dims)
			round := func(v []float64) []float64 { // to the nearest bfloat16, as the graph's ConvertDType
				out := make([]float64, len(v))
				for i, x := range v {
					out[i] = bfloat16.FromFloat32(float32(x)).Float64()
				}
				return out
			}
			x, scale, bias := round(randn(rng, n)), round(randn(rng, c)), round(randn(rng, c))
			for i := range x {
				x[i] = round([]float64{3*x[i] + 1})[0]
			}
			rm, rv := []float64{0.25, -1}, []float64{0.5, 2}
			outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
				low := func(v *graph.Node) *graph.Node { return graph.ConvertDType(v, dtypes.BFloat16) }
				y, m, v := ops.BatchNorm(low(in[0]), low(in[1]), low(in[2]), in[3], in[4], true)
				if y.DType() != dtypes.BFloat16 || m.DType() != dtypes.Float32 || v.DType() != dtypes.Float32 {
					t.Errorf("y %s, running averages %s and %s: want bfloat16 and float32", y.DType(), m.DType(), v.DType())
				}
				return []*graph.Node{graph.ConvertDType(y, dtypes.Float32), m, v}
			}, tensorOf(dtypes.Float32, x, dims...), tensorOf(dtypes.Float32, scale, c), tensorOf(dtypes.Float32, bias, c),
				tensorOf(dtypes.Float32, rm, c), tensorOf(dtypes.Float32, rv, c))
			if err != nil {
				t.Fatal(err)
			}
			y, _, _, _, nm, nv := bnRef(x, make([]float64, n), scale, bias, rm, rv, c)
			if e := relNorm(flat(outs[1]), nm) + relNorm(flat(outs[2]), nv); e > 1e-6 {
				t.Errorf("running averages differ from the float64 computation by %.3g", e)
			}
			got := flat(outs[0])
			for i := range y {
				if math.Abs(got[i]-y[i]) > 0x1p-8*math.Abs(y[i])+1e-6 {
					t.Errorf("y[%d] = %g, float64 %g: more than one bfloat16 rounding apart", i, got[i], y[i])
					break
				}
			}
		})
	}
}
