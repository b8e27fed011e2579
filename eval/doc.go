// Package eval implements the evaluation of learned features after SimCLR training: the weighted
// k-nearest-neighbour classifier of InstDisc (Wu et al. 2018; section unverified) and the linear probe of
// SimCLR (Chen et al. 2020, appendix, section unverified: multinomial logistic regression on frozen,
// standardised features, L2 penalty chosen on a held-out split), and the Report that puts both next to the
// same classifiers run on raw pixels.
//
// Notation: n train and m test examples, d feature dimension, C classes. Features are dense row-major
// []float32 of shape [n, d] (element (i, j) is x[i*d+j]); labels are ints in [0, C). u_i = x_i/(‖x_i‖+1e-12)
// is the normalised row (the epsilon of doc/design.md), s_ij = u_i·u_j the cosine similarity, k the number of
// neighbours and T the kNN temperature. Accuracies are fractions in [0, 1].
//
// Everything here is plain Go on the host: the matrix products are hostmath.MatMul (kNN) or a small
// register-tiled kernel (probe; AVX2 through simd/archsimd when built with GOEXPERIMENT=simd, plain Go
// otherwise), both goroutine-parallel. Results do not depend on the number of goroutines: every sum runs over a fixed
// partition of the rows, in a fixed order.
//
// Inputs are never modified. Bad inputs (lengths that do not match, empty sets, labels out of range, NaN or
// ±Inf features, invalid options) are returned as errors wrapping one of the sentinels below, never panics.
package eval
