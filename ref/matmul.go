package ref

import "github.com/gosimclr/gosimclr/internal/hostmath"

// MatMul returns dst = op(a)·op(b), where op(a) is m×k and op(b) is k×n, by hostmath.MatMul (blocked,
// register-tiled, goroutine-parallel: a fair baseline):
//
//	dst_ij = Σ_p op(a)_ip · op(b)_pj,   op(a) = aᵀ if transA (a stored k×m) else a (stored m×k),
//	                                    op(b) = bᵀ if transB (b stored n×k) else b (stored k×n)
//
// A nil dst allocates an m×n result; otherwise dst[:m*n] is overwritten and returned. It is the twin of
// graph.MatMul (GoMLX's DotGeneral) and panics if a dimension is negative or a slice is too short.
func MatMul[T Float](dst, a, b []T, m, k, n int, transA, transB bool) []T {
	return hostmath.MatMul(dst, a, b, m, k, n, transA, transB)
}
