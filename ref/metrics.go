package ref

import "github.com/gosimclr/gosimclr/internal/hostmath"

// Alignment is Wang & Isola's (2020) alignment with α = 2, on u = normalise(z), z [2N, k]:
//
//	A = (1/N) Σ_{i<N} ‖u_i − u_{i+N}‖²
//
// It is the twin of losses.Alignment and panics unless z has shape [2N, k], N ≥ 1.
func Alignment[T Float](z []T, n2, k int) float64 {
	checkViews("Alignment", z, n2, k)
	n, u := n2/2, hostmath.NormalizeRows[float64](nil, z, n2, k)
	var s float64
	for i := range n {
		s += hostmath.SqDist(u[i*k:(i+1)*k], u[(i+n)*k:(i+n+1)*k])
	}
	return s / float64(n)
}

// Uniformity is Wang & Isola's (2020) uniformity with t = 2 over all 2N views, on u = normalise(z):
//
//	U = log( (1/(2N(2N−1))) Σ_{i≠j} exp(−2‖u_i − u_j‖²) )
//
// It is computed in float64 from differences (the graph expands ‖u_i‖² + ‖u_j‖² − 2u_i·u_j) by
// hostmath.Uniformity; it is the twin of losses.Uniformity and panics unless z has shape [2N, k], N ≥ 1.
func Uniformity[T Float](z []T, n2, k int) float64 {
	checkViews("Uniformity", z, n2, k)
	return hostmath.Uniformity(hostmath.NormalizeRows[float64](nil, z, n2, k), n2, k)
}
