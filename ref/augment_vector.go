package ref

import (
	"fmt"
	"math"
)

// Replays of the vector augmentations of package augment (datasets/augment/vector.go) from their sampled parameters.
// x is row-major [b, d]; a nil dst allocates the result, and x is never modified. dst may alias x.
// The arithmetic is done in float64 and rounded to T once per entry; the graph computes in T, so float32 results
// differ in the last bits.

// AddNoise returns x + noise for x and noise of the same length. It is the twin of augment.AddNoise.
func AddNoise[T float32 | float64](dst, x, noise []T) []T {
	if len(noise) != len(x) {
		panic(fmt.Sprintf("ref: AddNoise: len(noise) = %d, len(x) = %d", len(noise), len(x)))
	}
	dst = augVecDst(dst, len(x), "AddNoise")
	for i := range x {
		dst[i] = T(float64(x[i]) + float64(noise[i]))
	}
	return dst
}

// Shift returns y_i = x_i + ξ_i·dir for x [b, d], xi [b] and dir [d]; a nil dir is the diagonal (1, …, 1).
// It is the twin of augment.Shift.
func Shift[T float32 | float64](dst, x []T, b, d int, xi []T, dir []float64) []T {
	augVecCheck("Shift", x, b, d)
	if len(xi) != b || (dir != nil && len(dir) != d) {
		panic(fmt.Sprintf("ref: Shift: want len(xi) = %d and len(dir) = %d, got %d and %d", b, d, len(xi), len(dir)))
	}
	dst = augVecDst(dst, b*d, "Shift")
	for i := range b {
		for j := range d {
			u := 1.0
			if dir != nil {
				u = dir[j]
			}
			dst[i*d+j] = T(float64(x[i*d+j]) + float64(xi[i])*u)
		}
	}
	return dst
}

// Rotate turns row i of x [b, d] (d ≥ 2) by θ_i in the plane of its first two coordinates:
//
//	y_i0 = cos θ_i·x_i0 − sin θ_i·x_i1,   y_i1 = sin θ_i·x_i0 + cos θ_i·x_i1,   y_ij = x_ij (j ≥ 2)
//
// It is the twin of augment.Rotate.
func Rotate[T float32 | float64](dst, x []T, b, d int, theta []T) []T {
	augVecCheck("Rotate", x, b, d)
	if d < 2 || len(theta) != b {
		panic(fmt.Sprintf("ref: Rotate: want d ≥ 2 and len(theta) = %d, got d = %d and %d", b, d, len(theta)))
	}
	dst = augVecDst(dst, b*d, "Rotate")
	for i := range b {
		c, s := math.Cos(float64(theta[i])), math.Sin(float64(theta[i]))
		x0, x1 := float64(x[i*d]), float64(x[i*d+1])
		copy(dst[i*d+2:(i+1)*d], x[i*d+2:(i+1)*d])
		dst[i*d], dst[i*d+1] = T(c*x0-s*x1), T(s*x0+c*x1)
	}
	return dst
}

// ApplyVector replays augment.VectorSpec.Apply: rotation → shift → noise,
//
//	y_i = R(θ_i)·x_i + ξ_i·dir + ε_i
//
// where a nil theta, xi or noise skips that step (as a nil field of augment.VectorParams does) and a nil dir is the
// diagonal. Each step rounds to T, as the graph does.
func ApplyVector[T float32 | float64](dst, x []T, b, d int, theta, xi []T, dir []float64, noise []T) []T {
	augVecCheck("ApplyVector", x, b, d)
	dst = augVecDst(dst, b*d, "ApplyVector")
	copy(dst, x)
	if theta != nil {
		Rotate(dst, dst, b, d, theta)
	}
	if xi != nil {
		Shift(dst, dst, b, d, xi, dir)
	}
	if noise != nil {
		AddNoise(dst, dst, noise)
	}
	return dst
}

// augVecCheck panics unless len(x) = b·d.
func augVecCheck[T float32 | float64](fn string, x []T, b, d int) {
	if b < 0 || d < 0 || len(x) != b*d {
		panic(fmt.Sprintf("ref: %s: len(x) = %d, want b·d = %d·%d", fn, len(x), b, d))
	}
}

// augVecDst returns dst, or a new slice of length n if dst is nil; it panics if dst has another length.
func augVecDst[T float32 | float64](dst []T, n int, fn string) []T {
	if dst == nil {
		return make([]T, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("ref: %s: len(dst) = %d, want %d", fn, len(dst), n))
	}
	return dst
}
