package hostmath_test

import (
	"fmt"

	"github.com/gosimclr/gosimclr/internal/hostmath"
)

func ExampleMatMul() {
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3
	b := []float32{1, 0, 0, 1, 1, 1} // 3×2
	fmt.Println(hostmath.MatMul(nil, a, b, 2, 3, 2, false, false))
	fmt.Println(hostmath.MatMul(nil, a, a, 2, 3, 2, false, true)) // a aᵀ
	// Output:
	// [4 5 10 11]
	// [14 32 32 77]
}

func ExampleEffectiveRank() {
	z := []float64{3, 0, 0, 1, 0, 0} // 3×2, singular values 3 and 1
	fmt.Printf("%.4f\n", hostmath.EffectiveRank(z, 3, 2))
	// Output: 1.7548
}
