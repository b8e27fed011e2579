package hostmath

import (
	"math"
	"slices"
)

// EffectiveRank is RankMe (Garrido et al. 2023) of z [rows, k], unnormalised:
//
//	p_l = σ_l/Σ_m σ_m + 1e-7,   erank = exp(−Σ_l p_l log p_l),
//
// with σ the singular values of z, taken as σ_l = √max(λ_l, 0) from the eigenvalues λ of the k×k Gram
// matrix zᵀz (Jacobi, in float64). It lies in [1, min(rows, k)] up to the 1e-7 smoothing. A zero z has no
// direction at all; its effective rank is 0 by convention. Host only: GoMLX has no SVD. It panics if
// len(z) ≠ rows·k.
func EffectiveRank[T Float](z []T, rows, k int) float64 {
	checkShape("EffectiveRank", z, rows, k)
	zf := make([]float64, len(z))
	for i, v := range z {
		zf[i] = float64(v)
	}
	gram := MatMul(nil, zf, zf, k, rows, k, true, false) // zᵀz   [k, k]
	lambda := SymEigenvalues(gram, k)
	var sum float64
	for i, l := range lambda {
		lambda[i] = math.Sqrt(max(l, 0)) // σ_i
		sum += lambda[i]
	}
	if sum == 0 {
		return 0
	}
	var h float64
	for _, s := range lambda {
		p := s/sum + 1e-7
		h -= p * math.Log(p)
	}
	return math.Exp(h)
}

// SymEigenvalues returns the eigenvalues of the symmetric k×k matrix a (row-major; only its values are read,
// a is not modified), in decreasing order, by the cyclic Jacobi method: plane rotations zero each
// off-diagonal element in turn until the off-diagonal mass is below 1e-30 of the total (Golub & Van Loan,
// Matrix Computations, §8.5). It converges quadratically; 50 sweeps bound the work.
func SymEigenvalues(a []float64, k int) []float64 {
	checkShape("SymEigenvalues", a, k, k)
	m := slices.Clone(a)
	var total float64
	for _, v := range m {
		total += v * v
	}
	for range 50 {
		var off float64
		for p := range k {
			for q := p + 1; q < k; q++ {
				off += 2 * m[p*k+q] * m[p*k+q]
			}
		}
		if off <= 1e-30*total || off == 0 {
			break
		}
		for p := range k {
			for q := p + 1; q < k; q++ {
				jacobiRotate(m, k, p, q)
			}
		}
	}
	lambda := make([]float64, k)
	for i := range k {
		lambda[i] = m[i*k+i]
	}
	slices.Sort(lambda)
	slices.Reverse(lambda)
	return lambda
}

// jacobiRotate applies the rotation J in the (p, q) plane that zeroes m_pq: m ← Jᵀ m J, with
//
//	θ = (m_qq − m_pp)/(2 m_pq),   t = sign(θ)/(|θ| + √(θ²+1)),   c = 1/√(t²+1),   s = t·c
//
// (the smaller rotation angle, for stability; Golub & Van Loan, Algorithm 8.5.1).
func jacobiRotate(m []float64, k, p, q int) {
	apq := m[p*k+q]
	if apq == 0 {
		return
	}
	theta := (m[q*k+q] - m[p*k+p]) / (2 * apq)
	t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
	if theta < 0 {
		t = -t
	}
	c := 1 / math.Sqrt(t*t+1)
	s := t * c
	for r := range k { // columns p and q: m ← m J
		mrp, mrq := m[r*k+p], m[r*k+q]
		m[r*k+p], m[r*k+q] = c*mrp-s*mrq, s*mrp+c*mrq
	}
	for r := range k { // rows p and q: m ← Jᵀ m
		mpr, mqr := m[p*k+r], m[q*k+r]
		m[p*k+r], m[q*k+r] = c*mpr-s*mqr, s*mpr+c*mqr
	}
	m[p*k+q], m[q*k+p] = 0, 0 // exactly zero in exact arithmetic; set it so rounding cannot leave a residue
}
