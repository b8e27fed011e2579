package ref

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/avx"
)

// Activate returns dst_i = σ(x_i) for the activation named by one of arch's constants, the twin of
// models.Activate:
//
//	relu max(x, 0);  leaky_relu x if x ≥ 0 else 0.2x;  tanh;  gelu x·Φ(x), Φ(x) = (1 + erf(x/√2))/2;
//	softplus log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|});  identity x
//
// Each value is computed in float64 and rounded to T. dst may be nil or x. It panics on an unknown name.
func Activate[T Float](dst, x []T, name string) []T {
	if dst == nil {
		dst = make([]T, len(x))
	}
	dst = dst[:len(x)]
	switch name {
	case arch.ReLU:
		for i, v := range x {
			dst[i] = max(v, 0)
		}
	case arch.LeakyReLU:
		for i, v := range x {
			if v < 0 { // x ≥ 0 keeps x, as the graph's GreaterOrEqual
				v *= arch.LeakySlope
			}
			dst[i] = v
		}
	case arch.Tanh:
		for i, v := range x {
			dst[i] = T(math.Tanh(float64(v)))
		}
	case arch.GELU:
		for i, v := range x {
			dst[i] = T(float64(v) * 0.5 * (1 + math.Erf(float64(v)/math.Sqrt2)))
		}
	case arch.Softplus:
		for i, v := range x {
			dst[i] = T(softplus(float64(v)))
		}
	case arch.Identity:
		copy(dst, x)
	default:
		panic(fmt.Sprintf("ref: unknown activation %q", name))
	}
	return dst
}

// ActivateBackward returns dst_i = dy_i · σ'(x_i), x the pre-activation that Activate was given:
//
//	relu 1[x > 0];  leaky_relu 1 if x ≥ 0 else 0.2;  tanh 1 − tanh²x;  gelu Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π);
//	softplus 1/(1 + e^{−x});  identity 1
//
// At the kink x = 0, relu takes the derivative 0 (the subgradient of max(x, 0) from the left) and leaky_relu
// the derivative 1 (its x ≥ 0 branch); finite differences cannot check either there. dst may be nil, x or dy.
func ActivateBackward[T Float](dst, x, dy []T, name string) []T {
	if len(dy) != len(x) {
		panic(fmt.Sprintf("ref: ActivateBackward: len(dy) = %d, len(x) = %d", len(dy), len(x)))
	}
	if dst == nil {
		dst = make([]T, len(x))
	}
	dst = dst[:len(x)]
	switch name {
	case arch.ReLU:
		for i, v := range x {
			if v > 0 {
				dst[i] = dy[i]
			} else {
				dst[i] = 0
			}
		}
	case arch.LeakyReLU:
		for i, v := range x {
			if v >= 0 {
				dst[i] = dy[i]
			} else {
				dst[i] = dy[i] * arch.LeakySlope
			}
		}
	case arch.Tanh:
		avx.Clean() // math.Tanh calls math.Exp: see internal/avx
		for i, v := range x {
			t := math.Tanh(float64(v))
			dst[i] = T(float64(dy[i]) * (1 - t*t))
		}
	case arch.GELU:
		avx.Clean() // math.Exp below: see internal/avx
		for i, v := range x {
			xf := float64(v)
			phi := math.Exp(-xf*xf/2) / math.Sqrt(2*math.Pi)
			dst[i] = T(float64(dy[i]) * (0.5*(1+math.Erf(xf/math.Sqrt2)) + xf*phi))
		}
	case arch.Softplus:
		avx.Clean() // math.Exp below: see internal/avx
		for i, v := range x {
			dst[i] = T(float64(dy[i]) * sigmoid(float64(v)))
		}
	case arch.Identity:
		copy(dst, dy)
	default:
		panic(fmt.Sprintf("ref: unknown activation %q", name))
	}
	return dst
}

// softplus is log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}), which neither overflows for large x nor loses
// precision for very negative x.
func softplus(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

// sigmoid is 1/(1 + e^{−x}), written so that the exponential never overflows.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
