package eval

import "math"

// lbfgsResult says where lbfgs stopped.
type lbfgsResult struct {
	f     float64 // final value
	gMax  float64 // final max |∂f/∂x_i|
	iters int     // iterations run
	evals int     // function evaluations
}

const (
	lbfgsMemory = 10
	lbfgsFtol   = 1e-10
)

// lbfgs minimises a smooth function by limited-memory BFGS (Nocedal & Wright 2006, Algorithm 7.4 and 7.5)
// with lbfgsMemory correction pairs and a backtracking Armijo line search (Algorithm 3.1, c₁ = 1e-4, the
// step shrunk by safeguarded quadratic interpolation). A pair whose curvature sᵀy is not positive is
// skipped; on a convex objective such as the probe's that happens only at the noise floor.
//
// f evaluates the function at x and writes its gradient into g. x is the starting point and is overwritten
// with the result. It stops after maxIter iterations, or when max_i |g_i| ≤ gtol, or when an iteration
// lowers f by less than ftol·max(|f|, 1) (scipy's L-BFGS-B rule), or when the line search fails twice in a
// row (the objective is then flat to float32 precision).
func lbfgs(f func(x, g []float64) float64, x []float64, maxIter int, gtol float64) lbfgsResult {
	n := len(x)
	g, xNew, gNew, dir := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	var ss, ys [][]float64 // correction pairs, oldest first
	var rhos []float64
	alpha := make([]float64, lbfgsMemory)
	res := lbfgsResult{f: f(x, g), evals: 1}
	res.gMax = maxAbs(g)
	failures := 0
	for res.iters < maxIter && res.gMax > gtol {
		// Two-loop recursion: dir = −H·g, with H₀ = (sᵀy / yᵀy)·I from the newest pair.
		copy(dir, g)
		for i := len(ss) - 1; i >= 0; i-- {
			alpha[i] = rhos[i] * dot(ss[i], dir)
			axpy(-alpha[i], ys[i], dir)
		}
		step := 1.0
		if k := len(ss) - 1; k >= 0 {
			scale(dot(ss[k], ys[k])/dot(ys[k], ys[k]), dir)
		} else {
			step = 1 / math.Sqrt(dot(g, g)) // first step of length 1 along −g
		}
		for i := range ss {
			beta := rhos[i] * dot(ys[i], dir)
			axpy(alpha[i]-beta, ss[i], dir)
		}
		scale(-1, dir)
		slope := dot(g, dir)
		if slope >= 0 { // not a descent direction (H lost positivity to rounding): restart from −g
			ss, ys, rhos = ss[:0], ys[:0], rhos[:0]
			continue
		}

		// Backtracking line search: accept the first step with f(x + t·dir) ≤ f + c₁·t·slope.
		var fNew float64
		ok := false
		for range 30 {
			for i := range x {
				xNew[i] = x[i] + step*dir[i]
			}
			fNew = f(xNew, gNew)
			res.evals++
			if fNew <= res.f+1e-4*step*slope {
				ok = true
				break
			}
			// Minimiser of the quadratic through f, slope and fNew, kept within [0.1, 0.5]·step.
			t := -slope * step * step / (2 * (fNew - res.f - slope*step))
			if math.IsNaN(t) {
				t = 0.5 * step
			}
			step = min(max(t, 0.1*step), 0.5*step)
		}
		res.iters++
		if !ok {
			failures++
			if failures == 2 {
				break
			}
			ss, ys, rhos = ss[:0], ys[:0], rhos[:0] // retry along −g
			continue
		}
		failures = 0

		// Correction pair s = x_new − x, y = g_new − g.
		var s, y []float64
		if len(ss) == lbfgsMemory { // reuse the oldest pair's storage
			s, y = ss[0], ys[0]
			ss, ys, rhos = ss[1:], ys[1:], rhos[1:]
		} else {
			s, y = make([]float64, n), make([]float64, n)
		}
		for i := range x {
			s[i], y[i] = xNew[i]-x[i], gNew[i]-g[i]
		}
		if sy := dot(s, y); sy > 1e-12*math.Sqrt(dot(s, s)*dot(y, y)) {
			ss, ys, rhos = append(ss, s), append(ys, y), append(rhos, 1/sy)
		}
		decrease := res.f - fNew
		copy(x, xNew)
		copy(g, gNew)
		res.f, res.gMax = fNew, maxAbs(g)
		if decrease <= lbfgsFtol*max(math.Abs(res.f), 1) {
			break
		}
	}
	return res
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// axpy sets y += a·x.
func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}
