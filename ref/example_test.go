package ref_test

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/ref"
)

// Two examples, both views of each on the unit circle: the positives agree, the negatives are orthogonal.
func ExampleInfoNCE() {
	z := []float64{
		1, 0, // view 1 of example 0
		0, 1, // view 1 of example 1
		1, 0, // view 2 of example 0
		0, 1, // view 2 of example 1
	}
	loss, dz := ref.InfoNCE(z, 4, 2, 0.5)
	// Each anchor sees its positive at s = 1/τ = 2 and two negatives at s = 0: ℓ_i = −2 + log(e² + 2).
	fmt.Printf("loss %.6f (closed form %.6f)\n", loss, -2+math.Log(math.Exp(2)+2))
	// Descending −dz moves example 0 away from example 1, along the circle (the radial part is projected out).
	fmt.Printf("dz row 0 (%.3f, %.3f)\n", math.Abs(dz[0]), dz[1])
	// Output:
	// loss 0.239545 (closed form 0.239545)
	// dz row 0 (0.000, 0.213)
}
