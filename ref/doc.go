// Package ref implements the pure-Go reference of gosimclr, the oracle that tests and benchmarks compare the
// GoMLX graphs against: plain loops, no GoMLX, and imported by no production package (internal/deps tests
// both with `go list`). Every graph function of packages losses, models and optim has a twin here, with a
// hand-written backward, so that graph ↔ ref ↔ finite differences can check one another. Its matrix product
// (MatMul, that of internal/hostmath) is blocked, register-tiled and goroutine-parallel, so that the baseline
// every benchmark compares against is a fair one. Names shared with the graph code (loss kernels and parts,
// optimisers) are package recipe's.
//
// Notation (as in package losses): N examples, 2N views; z ∈ R^{2N×k} holds view 1 in rows 0..N−1 and view 2
// in rows N..2N−1, so the partner of row i is p(i) = (i+N) mod 2N. u_i = z_i/(‖z_i‖+1e-12) is the normalised
// row, τ the temperature, k the latent dimension. Matrices are dense row-major slices: element (i, j) of an
// m×n matrix x is x[i*n+j]. The exact formulas are in doc/design.md; each backward derives its gradient in its doc comment.
//
// Functions are generic over Float. Scalar reductions (loss values, norms, log-sum-exp) accumulate in float64
// whatever T is; element-wise results are rounded to T once. The graph code computes in T throughout, so for
// T = float32 the two agree to about 1e-5 relative, not bit for bit.
//
// Signatures follow gonum: an optional destination comes first (nil allocates), and inputs are never modified.
package ref

import "github.com/gosimclr/gosimclr/internal/hostmath"

// Float is the element type of the reference: float32 for benchmarks, float64 for checking gradients.
type Float = hostmath.Float
