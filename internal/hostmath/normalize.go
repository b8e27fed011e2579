package hostmath

import "math"

// NormEps is the ε of u = z/(‖z‖+ε): GoMLX's L2NormalizeWithEpsilon(z, 1e-12, −1) in the graphs, and every
// host-side normalisation.
const NormEps = 1e-12

// normBlock is the number of rows one goroutine of NormalizeRows takes at a time.
const normBlock = 256

// NormalizeRows returns u_i = z_i/(‖z_i‖ + ε) for each row of z [rows, k], ε = NormEps, as
// L2NormalizeWithEpsilon(z, 1e-12, −1) does. The norm is accumulated and the quotient taken in float64, then
// rounded to D; a zero row stays zero. Rows are shared out among goroutines in blocks. A nil dst allocates;
// otherwise dst[:rows·k] is overwritten and returned, and may be z itself. It panics if len(z) ≠ rows·k.
func NormalizeRows[D, S Float](dst []D, z []S, rows, k int) []D {
	checkShape("NormalizeRows", z, rows, k)
	if dst == nil {
		dst = make([]D, rows*k)
	}
	dst = dst[:rows*k]
	ParallelBlocks(rows, normBlock, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			zi := z[i*k : (i+1)*k]
			r := math.Sqrt(Dot(zi, zi))
			for j, v := range zi {
				dst[i*k+j] = D(float64(v) / (r + NormEps))
			}
		}
	})
	return dst
}

// Dot returns Σ_i x_i y_i, accumulated in float64; y must be at least as long as x.
func Dot[T Float](x, y []T) float64 {
	var s float64
	for i, v := range x {
		s += float64(v) * float64(y[i])
	}
	return s
}

// SqDist returns ‖x − y‖² in float64; y must be at least as long as x.
func SqDist(x, y []float64) float64 {
	var s float64
	for i, v := range x {
		d := v - y[i]
		s += d * d
	}
	return s
}
