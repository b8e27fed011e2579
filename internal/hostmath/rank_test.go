package hostmath

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// orthonormalColumns returns a rows×k matrix with orthonormal columns (modified Gram–Schmidt on a Gaussian
// matrix).
func orthonormalColumns(r *rand.Rand, rows, k int) []float64 {
	q := randSlice[float64](r, rows*k)
	for j := range k {
		for l := range j {
			var d float64
			for i := range rows {
				d += q[i*k+j] * q[i*k+l]
			}
			for i := range rows {
				q[i*k+j] -= d * q[i*k+l]
			}
		}
		var s float64
		for i := range rows {
			s += q[i*k+j] * q[i*k+j]
		}
		for i := range rows {
			q[i*k+j] /= math.Sqrt(s)
		}
	}
	return q
}

func TestSymEigenvalues(t *testing.T) {
	if got := SymEigenvalues([]float64{2, 1, 1, 2}, 2); math.Abs(got[0]-3) > 1e-14 || math.Abs(got[1]-1) > 1e-14 {
		t.Errorf("eigenvalues of [[2 1] [1 2]] = %v, want [3 1]", got)
	}
	// A = Q diag(λ) Qᵀ with Q orthogonal has eigenvalues λ.
	r := rand.New(rand.NewPCG(21, 22))
	for _, k := range []int{1, 3, 10, 40} {
		q := orthonormalColumns(r, k, k)
		want := make([]float64, k)
		for i := range want {
			want[i] = float64(k-i) - 0.5*float64(i%3) // distinct and repeated values, some negative
		}
		a := make([]float64, k*k)
		for i := range k {
			for j := range k {
				for l := range k {
					a[i*k+j] += q[i*k+l] * want[l] * q[j*k+l]
				}
			}
		}
		got := SymEigenvalues(a, k)
		slices.Sort(want)
		slices.Reverse(want)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12*float64(k) {
				t.Errorf("k=%d: eigenvalues %v, want %v", k, got, want)
				break
			}
		}
	}
}

func TestEffectiveRank(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	// Rank one: σ = (s, 0, …): p = (1+1e-7, 1e-7, …), erank = 1 + O(k·1e-7·log 1e7).
	const rows, k = 50, 16
	x, y := randSlice[float64](r, rows), randSlice[float64](r, k)
	z := make([]float64, rows*k)
	for i := range rows {
		for j := range k {
			z[i*k+j] = x[i] * y[j]
		}
	}
	if e := EffectiveRank(z, rows, k); math.Abs(e-1) > 1e-4 {
		t.Errorf("rank one: erank = %g, want ≈ 1", e)
	}
	// Orthonormal columns: all σ = 1, p = 1/k, erank = k.
	if e := EffectiveRank(orthonormalColumns(r, rows, k), rows, k); math.Abs(e-k) > 1e-4 {
		t.Errorf("orthonormal columns: erank = %g, want ≈ %d", e, k)
	}
	// σ = (3, 1): p = (3/4, 1/4), erank = exp(−¾ log ¾ − ¼ log ¼).
	want := math.Exp(-0.75*math.Log(0.75) - 0.25*math.Log(0.25))
	if e := EffectiveRank([]float32{3, 0, 0, 1, 0, 0}, 3, 2); math.Abs(e-want) > 1e-6 {
		t.Errorf("diag(3, 1): erank = %g, want %g", e, want)
	}
	if e := EffectiveRank(make([]float64, 6), 3, 2); e != 0 {
		t.Errorf("zero matrix: erank = %g, want 0", e)
	}
}
