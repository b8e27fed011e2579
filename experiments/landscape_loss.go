package experiments

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/internal/avx"
	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// UniformLoss is the population loss of an invariant map whose pushforward is uniform on S^{k−1} (paper.md §4.2):
//
//	L_unif(k, τ) = −1/τ + log[ Γ(k/2) (2τ)^{k/2−1} I_{k/2−1}(1/τ) ]
func UniformLoss(k int, tau float64) float64 {
	nu := float64(k)/2 - 1
	lg, _ := math.Lgamma(float64(k) / 2)
	return -1/tau + lg + nu*math.Log(2*tau) + logBesselI(nu, 1/tau)
}

// logBesselI returns log I_ν(x) for x > 0, ν ≥ 0, from the series I_ν(x) = Σ_m (x/2)^{2m+ν}/(m! Γ(m+ν+1)) summed
// in log space (so large x does not overflow); terms are added until they fall below 1e-17 of the sum.
func logBesselI(nu, x float64) float64 {
	lg, _ := math.Lgamma(nu + 1)
	lt := nu*math.Log(x/2) - lg // log of term m = 0
	ls := lt
	for m := 1; m < 100000; m++ {
		lt += 2*math.Log(x/2) - math.Log(float64(m)) - math.Log(float64(m)+nu)
		ls = logAdd(ls, lt)
		if lt < ls-40 && float64(m) > x {
			break
		}
	}
	return ls
}

func logAdd(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// KPointLoss is the population loss of an invariant map that sends K equal clusters to the points e_0…e_{K−1}
// of a configuration in which every point sees the same multiset of cosines (equally spaced on S¹, a simplex,
// the octahedron): the exact finite sum L = −1/τ + log((1/K) Σ_m exp(e_0·e_m/τ)).
func KPointLoss(e []float64, kk, k int, tau float64) float64 {
	var m float64
	for j := range kk {
		m += math.Exp(hostmath.Dot(e[:k], e[j*k:(j+1)*k]) / tau)
	}
	return -1/tau + math.Log(m/float64(kk))
}

// clusterDirections returns K unit vectors in R^k at which the clusters sit: equally spaced on a circle for
// k = 2 (and for k = 3 when no regular polytope fits), the regular tetrahedron for K = 4 and the octahedron for
// K = 6 when k = 3. Each is vertex-transitive, so KPointLoss is exact for it.
func clusterDirections(kk, k int) []float64 {
	e := make([]float64, kk*k)
	switch {
	case k == 3 && kk == 4:
		s := 1 / math.Sqrt(3)
		copy(e, []float64{s, s, s, s, -s, -s, -s, s, -s, -s, -s, s})
	case k == 3 && kk == 6:
		copy(e, []float64{1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1})
	default:
		for c := range kk {
			a := 2 * math.Pi * float64(c) / float64(kk)
			e[c*k], e[c*k+1] = math.Cos(a), math.Sin(a)
		}
	}
	return e
}

// uniformPoints returns n points spread evenly on S^{k−1}: equally spaced angles 2π(j+½)/n on S¹, the spherical
// Fibonacci lattice on S² (a quadrature of the uniform measure whose error for these integrands is far below
// 1e-3 at n ≈ 1000; see the summary's table).
func uniformPoints(n, k int) []float64 {
	p := make([]float64, n*k)
	golden := math.Pi * (3 - math.Sqrt(5))
	for j := range n {
		if k == 2 {
			a := 2 * math.Pi * (float64(j) + 0.5) / float64(n)
			p[2*j], p[2*j+1] = math.Cos(a), math.Sin(a)
			continue
		}
		y := 1 - (2*float64(j)+1)/float64(n)
		r := math.Sqrt(1 - y*y)
		p[3*j], p[3*j+1], p[3*j+2] = r*math.Cos(golden*float64(j)), y, r*math.Sin(golden*float64(j))
	}
	return p
}

// embed builds the latent points [N·k] of configuration cfg for the labelled points d.
func embed(d datasets.Points, cfg string, k int, halfWidth float64, rng *rand.Rand) []float64 {
	n := d.N
	z := make([]float64, n*k)
	e := clusterDirections(d.K, k)
	switch cfg {
	case "collapsed":
		for i := range n {
			copy(z[i*k:], e[d.Labels[i]*k:(d.Labels[i]+1)*k])
		}
	case "single-point":
		for i := range n {
			z[i*k] = 1
		}
	case "apart":
		// Cluster c on an arc of half-width w through e_c, along a tangent t_c; a point's place on the arc is
		// the rank of its first input coordinate within its cluster (so the map depends on x, not only on y).
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return d.Row(order[a])[0] < d.Row(order[b])[0] })
		rank, cnt := make([]int, n), make([]int, d.K)
		for _, i := range order {
			rank[i] = cnt[d.Labels[i]]
			cnt[d.Labels[i]]++
		}
		for i := range n {
			c := d.Labels[i]
			ec := e[c*k : (c+1)*k]
			t := tangent(ec, k)
			phi := halfWidth * (2*(float64(rank[i])+0.5)/float64(cnt[c]) - 1)
			for j := range k {
				z[i*k+j] = math.Cos(phi)*ec[j] + math.Sin(phi)*t[j]
			}
		}
	case "uniform-interleaved", "uniform-contiguous":
		u := uniformPoints(n, k)
		var owner []int
		if cfg == "uniform-interleaved" {
			owner = rng.Perm(n) // interleaved: point j of the lattice goes to a random example
		} else {
			// Contiguous: lattice points in order go to the examples sorted by cluster.
			owner = make([]int, n)
			for i := range owner {
				owner[i] = i
			}
			sort.SliceStable(owner, func(a, b int) bool { return d.Labels[owner[a]] < d.Labels[owner[b]] })
		}
		for j, i := range owner {
			copy(z[i*k:], u[j*k:(j+1)*k])
		}
	}
	return z
}

// tangent returns a unit vector orthogonal to the unit vector e in R^k (k = 2 or 3).
func tangent(e []float64, k int) []float64 {
	if k == 2 {
		return []float64{-e[1], e[0]}
	}
	a := []float64{0, 0, 1}
	if math.Abs(e[2]) > 0.9 {
		a = []float64{1, 0, 0}
	}
	t := []float64{e[1]*a[2] - e[2]*a[1], e[2]*a[0] - e[0]*a[2], e[0]*a[1] - e[1]*a[0]}
	r := math.Sqrt(hostmath.Dot(t, t))
	for j := range t {
		t[j] /= r
	}
	return t
}

// ntXent returns the NT-Xent loss of SimCLR (Chen et al. 2020, Eq. 1) of the views z [2N, k], with
// p(i) = (i+N) mod 2N the partner of view i:
//
//	ℓ_i = −s_{i,p(i)} + log Σ_{j≠i} exp(s_ij),   s_ij = u_i·u_j/τ,   u_i = z_i/(‖z_i‖+1e-12),   L = (1/2N) Σ_i ℓ_i
//
// It is the value of losses.Loss with the exp kernel (ref.Loss is its twin; TestLandscapeLossMatchesRef checks
// the two agree), computed on the host: that graph in float64 on the Go backend made this experiment about
// three times slower. It treats the views as given rather than using that the landscape's two views are
// equal, so that evaluate's batch − correction = direct remains a check of the correction's derivation.
func ntXent(z []float64, n2, k int, tau float64) float64 {
	n := n2 / 2
	u := hostmath.NormalizeRows[float64](nil, z, n2, k)     // [2N, k]
	c := hostmath.MatMul(nil, u, u, n2, k, n2, false, true) // u_i·u_j   [2N, 2N]
	l := make([]float64, n2)                                // ℓ_i
	hostmath.ParallelFor(n2, 16, func(lo, hi int) {
		avx.Clean() // math.Exp below: see internal/avx
		for i := lo; i < hi; i++ {
			ci := c[i*n2 : (i+1)*n2]
			m := math.Inf(-1) // max_{j≠i} s_ij, subtracted only for numerical stability
			for j, cij := range ci {
				if j != i {
					m = max(m, cij/tau)
				}
			}
			var sum float64
			for j, cij := range ci {
				if j != i {
					sum += math.Exp(cij/tau - m)
				}
			}
			l[i] = -ci[(i+n)%n2]/tau + m + math.Log(sum)
		}
	})
	var sum float64 // in order, so the result does not depend on the number of goroutines
	for _, v := range l {
		sum += v
	}
	return sum / float64(n2)
}

// evaluate computes the batch loss with ntXent (views z, z) and the exact population value of the empirical
// measure. Anchor i of the 2N views sees its partner at s = 1/τ and both views of every other point, so with
// M_i = (1/N) Σ_j exp(u_i·u_j/τ) (j = i included),
//
//	ℓ_i = −1/τ + log(2N·M_i − e^{1/τ}) = [−1/τ + log M_i] + log(2N − e^{1/τ}/M_i),
//
// and the population value −1/τ + (1/N) Σ_i log M_i is the batch loss less (1/N) Σ_i log(2N − e^{1/τ}/M_i)
// (ref's TestInfoNCEPointsOnCircle derives the same for K points).
func evaluate(z []float64, n, k int, tau float64) (batch, correction, direct float64) {
	zz := append(append([]float64(nil), z...), z...)
	batch = ntXent(zz, 2*n, k, tau)
	u := hostmath.NormalizeRows[float64](nil, z, n, k)
	c := hostmath.MatMul(nil, u, u, n, k, n, false, true) // u_i·u_j   [N, N]
	var sumLogM, sumCorr float64
	for i := range n {
		avx.Clean() // math.Exp below: see internal/avx
		// M_i e^{−1/τ} = (1/N) Σ_j exp((c_ij − 1)/τ): shifted so that τ = 0.01 cannot overflow.
		var ms float64
		for _, cij := range c[i*n : (i+1)*n] {
			ms += math.Exp((cij - 1) / tau)
		}
		ms /= float64(n)
		sumLogM += math.Log(ms) + 1/tau
		sumCorr += math.Log(2*float64(n) - 1/ms)
	}
	return batch, sumCorr / float64(n), -1/tau + sumLogM/float64(n)
}
