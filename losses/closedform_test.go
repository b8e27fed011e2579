package losses

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/internal/backendtest"
	"github.com/gosimclr/gosimclr/ref"
)

// hadamardColumns returns [8, d] (d ≤ 7) whose column j is a times column j+1 of the Sylvester Hadamard matrix
// H_8: entries ±a, every column of mean 0, the columns mutually orthogonal (decorrelated data, exactly).
func hadamardColumns(d int, a float64) []float64 {
	z := make([]float64, 8*d)
	for i := range 8 {
		for j := range d {
			sign := 1.0
			for b := i & (j + 1); b != 0; b &= b - 1 { // H_ij = (−1)^popcount(i & j)
				sign = -sign
			}
			z[i*d+j] = a * sign
		}
	}
	return z
}

// closedCase is one input with the known values of the graph's outputs (and of the reference's).
type closedCase struct {
	name  string
	ins   []input
	graph func(in []*graph.Node) []*graph.Node
	ref   func(in [][]float64) []float64
	want  []float64
}

func vicregCase(name string, z []float64, n, d int, want ...float64) closedCase {
	return closedCase{name, []input{{z, 2 * n, d}}, func(in []*graph.Node) []*graph.Node {
		t := VICReg(in[0], DefaultVICReg())
		return []*graph.Node{t.Loss, t.Invariance, t.Variance, t.Covariance}
	}, func(in [][]float64) []float64 {
		r := ref.VICReg(in[0], 2*n, d, ref.DefaultVICReg())
		return []float64{r.Loss, r.Invariance, r.Variance, r.Covariance}
	}, want}
}

func barlowCase(name string, z []float64, n, d int, cfg BarlowConfig, want ...float64) closedCase {
	return closedCase{name, []input{{z, 2 * n, d}}, func(in []*graph.Node) []*graph.Node {
		t := Barlow(in[0], cfg)
		return []*graph.Node{t.Loss, t.OnDiagonal, t.OffDiagonal}
	}, func(in [][]float64) []float64 {
		r := ref.Barlow(in[0], 2*n, d, ref.BarlowConfig{Lambda: cfg.Lambda, Epsilon: cfg.Epsilon})
		return []float64{r.Loss, r.OnDiagonal, r.OffDiagonal}
	}, want}
}

func twoViewCase(name string, p, z []float64, n, d int, tau float64, want float64) closedCase {
	c := closedCase{name: name, ins: []input{{p, 2 * n, d}, {z, 2 * n, d}}, want: []float64{want}}
	if tau == 0 {
		c.graph = func(in []*graph.Node) []*graph.Node { return []*graph.Node{BYOL(in[0], in[1])} }
		c.ref = func(in [][]float64) []float64 { l, _ := ref.BYOL(in[0], in[1], 2*n, d); return []float64{l} }
	} else {
		c.graph = func(in []*graph.Node) []*graph.Node { return []*graph.Node{MoCoV3(in[0], in[1], tau)} }
		c.ref = func(in [][]float64) []float64 { l, _ := ref.MoCoV3(in[0], in[1], 2*n, d, tau); return []float64{l} }
	}
	return c
}

// both returns the two branches z, z' stacked as [2N, d].
func both(a, b []float64) []float64 { return append(append([]float64(nil), a...), b...) }

func scaled(x []float64, s float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = s * v
	}
	return y
}

// TestObjectivesClosedForms checks the graph (float64 and float32) and the reference against values known in
// closed form:
//
//   - VICReg at full collapse (every row the same vector): s = c = 0 and v(Z) = v(Z') = γ − √ε = 0.99, so
//     ℓ = 25·1.98 = 49.5. On decorrelated branches (Hadamard columns ±a, Z' = Z): c = 0 exactly and
//     v = 1 − √(8a²/7 + ε) per branch for a = 0.5; for a = 1 the variance is above γ and ℓ = 0.
//   - Barlow Twins on identical decorrelated branches: C = I and L = 0 with ε = 0; with ε, C_ii = a²/(a²+ε) and
//     L = d (ε/(a²+ε))²; with Z' = −Z, C = −I and L = 4d.
//   - BYOL: p = 3·z' gives 0 (2.3e-12 from the normalisation's ε, which the expected value includes); p ⊥ z' gives 2 per pair, L = 4 (both directions); p = −z' gives 8.
//   - MoCo v3 with basis keys (k_j = 2e_j, q_i = e_i): ctr = 2τ(log(e^{1/τ} + N − 1) − 1/τ), L = 2 ctr; with
//     every key the same, s_ij = s_ii and ctr = 2τ log N.
//
// On XLA, where each graph is compiled, only float32 (the training dtype) runs.
func TestObjectivesClosedForms(t *testing.T) {
	const n, d, eps = 8, 5, 1e-5
	same := make([]float64, 2*n*d)
	for i := range same {
		same[i] = []float64{0.3, -1.2, 2, 0.7, -0.1}[i%d]
	}
	h := hadamardColumns(d, 0.5)
	s := math.Sqrt(8*0.25/7 + 1e-4)
	bn := 0.25 / (0.25 + eps) // C_ii with ε
	// BYOL and MoCo v3 inputs: z' random-looking, p built from it; basis vectors for MoCo v3.
	zv := make([]float64, 2*n*2)
	p0, pOrth, pNeg := make([]float64, 2*n*2), make([]float64, 2*n*2), make([]float64, 2*n*2)
	for i := range 2 * n {
		x, y := math.Cos(float64(i)+0.3), math.Sin(float64(i)+0.3)
		zv[i*2], zv[i*2+1] = (1+float64(i)/4)*x, (1+float64(i)/4)*y
		pi := (i + n) % (2 * n) // p_{pi} pairs with z_i
		p0[pi*2], p0[pi*2+1] = 3*zv[i*2], 3*zv[i*2+1]
		pOrth[pi*2], pOrth[pi*2+1] = -0.5*zv[i*2+1], 0.5*zv[i*2]
		pNeg[pi*2], pNeg[pi*2+1] = -zv[i*2], -zv[i*2+1]
	}
	basisQ, basisK, flatK := make([]float64, 2*n*n), make([]float64, 2*n*n), make([]float64, 2*n*n)
	for i := range 2 * n {
		basisQ[i*n+i%n], basisK[i*n+i%n], flatK[i*n] = 1, 2, 1
	}
	// p = 3z' gives 0 but for the normalisation's ε: ℓ_i = 2 − 2 r_p r_z/((r_p + ε)(r_z + ε)), ~1e-12.
	var equal float64
	for i := range 2 * n {
		rz := math.Hypot(zv[i*2], zv[i*2+1])
		equal += 2 - 2*3*rz*rz/((3*rz+normEps)*(rz+normEps))
	}
	equal /= n
	const tau = 0.2
	ctr := 2 * tau * (math.Log(math.Exp(1/tau)+n-1) - 1/tau)
	cases := []closedCase{
		vicregCase("vicreg/collapse", same, n, d, 25*2*(1-math.Sqrt(1e-4)), 0, 2*(1-math.Sqrt(1e-4)), 0),
		vicregCase("vicreg/decorrelated", both(h, h), n, d, 25*2*(1-s), 0, 2*(1-s), 0),
		vicregCase("vicreg/decorrelated-wide", both(hadamardColumns(d, 1), hadamardColumns(d, 1)), n, d, 0, 0, 0, 0),
		barlowCase("barlow/identity", both(h, h), n, d, BarlowConfig{Lambda: 5e-3}, 0, 0, 0),
		barlowCase("barlow/identity-eps", both(h, h), n, d, DefaultBarlow(), d*(1-bn)*(1-bn), d*(1-bn)*(1-bn), 0),
		barlowCase("barlow/minus-identity", both(h, scaled(h, -1)), n, d, BarlowConfig{Lambda: 5e-3}, 4*d, 4*d, 0),
		twoViewCase("byol/equal", p0, zv, n, 2, 0, equal),
		twoViewCase("byol/orthogonal", pOrth, zv, n, 2, 0, 4),
		twoViewCase("byol/opposite", pNeg, zv, n, 2, 0, 8),
		twoViewCase("mocov3/basis-keys", basisQ, basisK, n, n, tau, 2*ctr),
		twoViewCase("mocov3/equal-keys", basisQ, flatK, n, n, tau, 2*2*tau*math.Log(n)),
	}
	for _, c := range cases {
		vals := make([][]float64, len(c.ins))
		for i, in := range c.ins {
			vals[i] = in.v
		}
		check := func(src string, got []float64, tol float64) {
			for i, w := range c.want {
				if e := math.Abs(got[i] - w); e > tol*math.Max(1, math.Abs(w)) || math.IsNaN(got[i]) {
					t.Errorf("%s (%s): value %d = %.15g, want %.15g", c.name, src, i, got[i], w)
				}
			}
		}
		check("ref", c.ref(vals), 1e-12)
		dts := []dtypes.DType{dtypes.Float64, dtypes.Float32}
		if backendtest.XLA() {
			dts = dts[1:]
		}
		for _, dt := range dts {
			out := callGraph(t, dt, c.graph, c.ins...)
			got := make([]float64, len(out))
			for i, o := range out {
				got[i] = o[0]
			}
			check(fmt.Sprint(dt), got, map[dtypes.DType]float64{dtypes.Float64: 1e-12, dtypes.Float32: 1e-5}[dt])
		}
	}
}
