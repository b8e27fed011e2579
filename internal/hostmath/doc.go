// Package hostmath holds the host-side maths that gosimclr's production code runs outside GoMLX graphs, and
// that the pure-Go reference (package ref) builds on: the blocked, register-tiled, goroutine-parallel matrix
// product (MatMul), parallel loops (ParallelBlocks, ParallelFor), row normalisation (NormalizeRows), and the
// metrics GoMLX cannot compute or that run on host slices (EffectiveRank, Uniformity). It imports no GoMLX.
//
// Notation: matrices are dense row-major slices, element (i, j) of an m×n matrix x is x[i*n+j];
// u_i = z_i/(‖z_i‖+1e-12) is the normalised row i of z (GoMLX's L2NormalizeWithEpsilon(z, 1e-12, −1)).
// Scalar reductions (norms, dot products) accumulate in float64 whatever the element type is.
//
// Its SIMD kernels end with archsimd.ClearAVXUpperBits, and loops that call math.Exp call avx.Clean first
// (internal/avx, doc/avx-transition.md).
package hostmath

import "fmt"

// Float is the element type of host slices: float32 for data and benchmarks, float64 for checking.
type Float interface{ ~float32 | ~float64 }

// checkShape panics unless x holds rows×k values.
func checkShape[T Float](fn string, x []T, rows, k int) {
	if rows < 0 || k < 1 || len(x) != rows*k {
		panic(fmt.Sprintf("hostmath: %s wants shape [%d, %d], got len %d", fn, rows, k, len(x)))
	}
}
