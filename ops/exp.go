package ops

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// Exp is eˣ element-wise. On the Go backend (Substitute) it is computed without math.Exp:
//
//	n = ⌊x·log₂e + ½⌋,  r = x − n·ln2 (ln2 split in two parts, so r is exact),  |r| ≤ ln2/2
//	eˣ = 2ⁿ·p(r),  2ⁿ built in the exponent field: bits (n + bias) << mantissa bits
//
// p is Cephes' degree-7 polynomial for float32 (relative error < 2e-7) and the degree-13 Taylor polynomial
// for float64 (< 3e-16). Below the smallest normal number the result is 0, above the largest finite one +Inf
// (no subnormal results). Its gradient is v·eˣ, reusing the forward's value. On XLA it is graph.Exp.
func Exp(x *graph.Node) *graph.Node {
	if !Substitute(x.Graph()) {
		return graph.Exp(x)
	}
	return expSub(x)
}

// expSub is Exp's Go-backend form.
func expSub(x *graph.Node) *graph.Node {
	var y *graph.Node
	return customGradient([]*graph.Node{x}, func(in []*graph.Node) []*graph.Node {
		y = polyExp(in[0])
		return []*graph.Node{y}
	}, func(v []*graph.Node) []*graph.Node {
		if v[0] == nil {
			return []*graph.Node{nil}
		}
		return []*graph.Node{graph.Mul(v[0], y)}
	})[0]
}

// expConsts are the constants of polyExp for one float type.
type expConsts struct {
	lo, hi       float64   // eˣ is 0 below lo (smallest normal) and +Inf above hi (largest finite)
	ln2Hi, ln2Lo float64   // ln 2 = ln2Hi + ln2Lo, ln2Hi with trailing zero bits so that n·ln2Hi is exact
	poly         []float64 // p(r) = Σ_i poly[i]·rⁱ
	intType      dtypes.DType
	mantissa     int // mantissa bits: 2ⁿ = bits (n + bias) << mantissa
	bias         int
}

var (
	exp32 = expConsts{lo: -87.33654, hi: 88.72283, ln2Hi: 0.693359375, ln2Lo: -2.12194440e-4,
		// Cephes expf: 1 + r + r²·(p2 + p3·r + … + p7·r⁵), a Remez fit on |r| ≤ ln2/2.
		poly:    []float64{1, 1, 5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3, 1.3981999507e-3, 1.9875691500e-4},
		intType: dtypes.Int32, mantissa: 23, bias: 127}
	exp64 = expConsts{lo: -708.3964185322641, hi: 709.782712893384,
		ln2Hi: 6.93147180369123816490e-01, ln2Lo: 1.90821492927058770002e-10, // fdlibm's split
		poly: taylor(13), intType: dtypes.Int64, mantissa: 52, bias: 1023}
)

// taylor returns the coefficients 1/i! of eʳ up to degree d: the remainder on |r| ≤ ln2/2 is below
// (ln2/2)^(d+1)/(d+1)!, 4e-18 for d = 13.
func taylor(d int) []float64 {
	c := make([]float64, d+1)
	c[0] = 1
	for i := 1; i <= d; i++ {
		c[i] = c[i-1] / float64(i)
	}
	return c
}

// polyExp is Exp's forward pass on the Go backend. The ops without a gradient (Floor, the integer
// exponent, the shifts, Bitcast) are behind StopGradient; r keeps a differentiable path from x, as customGradient needs.
func polyExp(x *graph.Node) *graph.Node {
	var c expConsts
	switch x.DType() {
	case dtypes.Float32:
		c = exp32
	case dtypes.Float64:
		c = exp64
	default:
		panic(fmt.Sprintf("ops: Exp wants float32 or float64, got %s", x.DType()))
	}
	g, dt := x.Graph(), x.DType()
	xc := graph.Min(graph.Max(x, graph.Scalar(g, dt, c.lo)), graph.Scalar(g, dt, c.hi))
	n := graph.StopGradient(graph.Floor(graph.AddScalar(graph.MulScalar(xc, math.Log2E), 0.5)))
	r := graph.Sub(graph.Sub(xc, graph.MulScalar(n, c.ln2Hi)), graph.MulScalar(n, c.ln2Lo))
	p := graph.Scalar(g, dt, c.poly[len(c.poly)-1])
	for i := len(c.poly) - 2; i >= 0; i-- {
		p = graph.AddScalar(graph.Mul(p, r), c.poly[i])
	}
	// 2ⁿ as 2^⌊n/2⌋·2^(n−⌊n/2⌋): n itself reaches one past the largest exponent (e.g. 128 for float32 at
	// x = 88.5, where eˣ is still finite), and each half stays a normal number.
	ni := graph.StopGradient(graph.ConvertDType(n, c.intType))
	n1 := graph.BitwiseShiftRightArithmeticScalar(ni, 1)
	pow2 := func(e *graph.Node) *graph.Node {
		return graph.StopGradient(graph.Bitcast(graph.BitwiseShiftLeftScalar(graph.AddScalar(e, float64(c.bias)), c.mantissa), dt))
	}
	y := graph.Mul(graph.Mul(p, pow2(n1)), pow2(graph.Sub(ni, n1)))
	// Outside [lo, hi] the clamped value is wrong: 0 below, +Inf above; Max/Min may drop a NaN, so NaN is
	// restored last.
	y = graph.Where(graph.LessThan(x, graph.Scalar(g, dt, c.lo)), graph.ZerosLike(y), y)
	y = graph.Where(graph.GreaterThan(x, graph.Scalar(g, dt, c.hi)), graph.Scalar(g, dt, math.Inf(1)), y)
	return graph.Where(graph.IsNaN(x), x, y)
}

// LogSumExp is log Σ_j exp(x_ij) over the last axis of x [B, M] (result [B]), with gradient
// ∂/∂x_ij = P_ij = exp(x_ij − lse_i), the row's softmax.
//
// On the Go backend, float32: the fused softmax op gives P in one pass without math.Exp, and
//
//	lse_i = max_j x_ij − log max_j P_ij          (max_j P_ij = 1/Σ_j exp(x_ij − max) ≥ 1/M: never underflows)
//
// and the gradient multiplies the same P by the cotangent: no exponential in the backward pass. Float64
// (tests): max + log Σ Exp(x − max) with this package's Exp. On XLA: the same formula with graph.Exp.
// Entries masked with a large finite negative (−1e9) contribute exactly 0.
func LogSumExp(x *graph.Node) *graph.Node {
	if x.Rank() < 1 {
		panic(fmt.Sprintf("ops: LogSumExp wants rank ≥ 1, got %s", x.Shape()))
	}
	if !Substitute(x.Graph()) {
		m := graph.StopGradient(graph.ReduceAndKeep(x, graph.ReduceMax, -1))
		sum := graph.ReduceSum(graph.Exp(graph.Sub(x, m)), -1)
		return graph.Add(graph.Log(sum), graph.Reshape(m, sum.Shape().Dimensions...))
	}
	var p *graph.Node
	return customGradient([]*graph.Node{x}, func(in []*graph.Node) []*graph.Node {
		x := in[0]
		m := graph.ReduceMax(x, -1) // [B]
		if x.DType() == dtypes.Float32 {
			p = graph.StopGradient(fusedSoftmax(x, x.Rank()-1))
			return []*graph.Node{graph.Sub(m, graph.Log(graph.ReduceMax(p, -1)))}
		}
		e := polyExp(graph.Sub(x, graph.StopGradient(graph.ExpandAxes(m, -1))))
		sum := graph.ReduceSum(e, -1)
		p = graph.StopGradient(graph.Div(e, graph.ExpandAxes(sum, -1)))
		return []*graph.Node{graph.Add(m, graph.Log(sum))}
	}, func(v []*graph.Node) []*graph.Node {
		if v[0] == nil {
			return []*graph.Node{nil}
		}
		return []*graph.Node{graph.Mul(p, graph.ExpandAxes(v[0], -1))}
	})[0]
}

// Tanh is tanh(x) element-wise: graph.Tanh on XLA; on the Go backend (whose Tanh calls math.Exp)
//
//	tanh(x) = sign(x)·(1 − e)/(1 + e),  e = exp(−2|x|) by this package's Exp,
//
// with gradient v·(1 − tanh²x) from the forward's value.
func Tanh(x *graph.Node) *graph.Node {
	if !Substitute(x.Graph()) {
		return graph.Tanh(x)
	}
	var y *graph.Node
	return customGradient([]*graph.Node{x}, func(in []*graph.Node) []*graph.Node {
		e := polyExp(graph.MulScalar(graph.Abs(in[0]), -2))
		y = graph.Mul(graph.StopGradient(graph.Sign(in[0])), graph.Div(graph.OneMinus(e), graph.OnePlus(e)))
		return []*graph.Node{y}
	}, func(v []*graph.Node) []*graph.Node {
		if v[0] == nil {
			return []*graph.Node{nil}
		}
		return []*graph.Node{graph.Mul(v[0], graph.OneMinus(graph.Square(y)))}
	})[0]
}

// Softplus is log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}) element-wise with this package's Exp (stock
// graph.Softplus goes through the backend's Exp); its gradient is v·σ(x), σ(x) = 1/(1 + e) for x ≥ 0 and
// e/(1 + e) below, from the same e = e^{−|x|}.
func Softplus(x *graph.Node) *graph.Node {
	if !Substitute(x.Graph()) {
		return graph.Softplus(x)
	}
	var e, pos *graph.Node
	return customGradient([]*graph.Node{x}, func(in []*graph.Node) []*graph.Node {
		x := in[0]
		pos = graph.StopGradient(graph.GreaterOrEqual(x, graph.ZerosLike(x)))
		e = graph.StopGradient(polyExp(graph.Neg(graph.Abs(x))))
		return []*graph.Node{graph.Add(graph.Max(x, graph.ZerosLike(x)), graph.Log1P(e))}
	}, func(v []*graph.Node) []*graph.Node {
		if v[0] == nil {
			return []*graph.Node{nil}
		}
		sig := graph.Div(graph.Where(pos, graph.OnesLike(e), e), graph.OnePlus(e))
		return []*graph.Node{graph.Mul(v[0], sig)}
	})[0]
}
