package ref

import (
	"math"

	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// NormalizedStd is the collapse measure of BYOL's and SimSiam's analyses (Chen & He 2021, §4.1 and Fig. 2):
// the mean over dimensions of the standard deviation over rows of u = z/‖z‖, for z [n, k]:
//
//	s = (1/k) Σ_j std_i(u_ij),   std with 1/n
//
// A collapsed embedding (every row the same direction) has s = 0; rows spread isotropically over S^{k−1}
// have s ≈ 1/√k (each coordinate of a uniform unit vector has variance 1/k), the scale to compare it with.
// Zero rows count as u = 0 (NormalizeRows' convention). It panics if len(z) ≠ n·k or n < 1.
func NormalizedStd[T Float](z []T, n, k int) float64 {
	if n < 1 || k < 1 || len(z) != n*k {
		panic("ref: NormalizedStd wants z of shape [n, k], n, k ≥ 1")
	}
	u := hostmath.NormalizeRows[float64](nil, z, n, k)
	var s float64
	for j := range k {
		var mean, sq float64
		for i := range n {
			mean += u[i*k+j]
		}
		mean /= float64(n)
		for i := range n {
			d := u[i*k+j] - mean
			sq += d * d
		}
		s += math.Sqrt(sq / float64(n))
	}
	return s / float64(k)
}
