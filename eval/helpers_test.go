package eval

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// TestMain keeps GoMLX-free tests uniform with the rest of the module (STYLE §8): GOMLX_BACKEND=go when unset.
func TestMain(m *testing.M) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	os.Exit(m.Run())
}

// normals returns n standard normal float32 values from a seeded generator.
func normals(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// clusters returns n points of dim around classes well-separated centres (orthogonal directions scaled by
// sep, unit-variance noise) and their labels.
func clusters(r *rand.Rand, n, dim, classes int, sep float64) ([]float32, []int) {
	x, y := make([]float32, n*dim), make([]int, n)
	for i := range n {
		y[i] = r.IntN(classes)
		for j := range dim {
			x[i*dim+j] = float32(r.NormFloat64())
		}
		x[i*dim+y[i]%dim] += float32(sep)
	}
	return x, y
}

// normCDF is Φ, the standard normal distribution function.
func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
