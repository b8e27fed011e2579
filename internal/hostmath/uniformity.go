package hostmath

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/internal/avx"
)

// Uniformity is Wang & Isola's (2020) uniformity with t = 2 of the rows of u [rows, k], rows ≥ 2, which are
// meant to be unit vectors (NormalizeRows):
//
//	U = log( (1/(rows(rows−1))) Σ_{i≠j} exp(−2‖u_i − u_j‖²) )
//
// It is computed in float64 from differences, each unordered pair once. It panics if len(u) ≠ rows·k or
// rows < 2.
func Uniformity(u []float64, rows, k int) float64 {
	if rows < 2 || k < 1 || len(u) != rows*k {
		panic(fmt.Sprintf("hostmath: Uniformity wants u of shape [rows ≥ 2, %d], got len %d for %d rows", k, len(u), rows))
	}
	var s float64
	for i := range rows {
		avx.Clean() // math.Exp below: see internal/avx
		for j := i + 1; j < rows; j++ {
			s += 2 * math.Exp(-2*SqDist(u[i*k:(i+1)*k], u[j*k:(j+1)*k])) // (i, j) and (j, i)
		}
	}
	return math.Log(s / float64(rows*(rows-1)))
}
