package ref

import (
	"math"

	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// ImageJitterParams is augment.JitterParams: per-example 0/1 Apply, factors and hue shift (in turns), and Order
// [b, 4], the op run at each step: 0 brightness, 1 contrast, 2 saturation, 3 hue.
type ImageJitterParams struct {
	Apply, Brightness, Contrast, Saturation, Hue []float32
	Order                                        []float32
}

// hueRotation returns the rotation of RGB space by θ about the gray diagonal k = (1, 1, 1)/√3 (Rodrigues):
// cos θ·I + sin θ·[k]× + (1 − cos θ)·kkᵀ.
func hueRotation(theta float64) (m [3][3]float64) {
	cos, sin, s := math.Cos(theta), math.Sin(theta), 1/math.Sqrt(3)
	cross := [3][3]float64{{0, -s, s}, {s, 0, -s}, {-s, s, 0}}
	for r := range 3 {
		for c := range 3 {
			m[r][c] = sin*cross[r][c] + (1-cos)/3
			if r == c {
				m[r][c] += cos
			}
		}
	}
	return m
}

// ImageJitter applies to the images whose Apply is 1 the four colour ops in the order Order[i], clipping to
// [0, 1] after each (f the image's factor, mean_ch over the image, gray = 0.299 R + 0.587 G + 0.114 B):
//
//	brightness x ← f·x;  contrast x ← f·x + (1−f)·mean_ch(x);  saturation x ← f·x + (1−f)·gray(x);
//	hue x ← hueRotation(2π·Hue)·x
//
// Saturation and hue leave c = 1 images alone. The image is held in float64 through the four steps and rounded to
// T at the end. Twin of augment.Jitter.
func ImageJitter[T float32 | float64](dst, src []T, b, h, w, c int, p ImageJitterParams) []T {
	augImgCheck("ImageJitter", src, b, h, w, c)
	dst = augVecDst(dst, len(src), "ImageJitter")
	n := h * w * c
	hostmath.ParallelFor(b, 8, func(lo, hi int) {
		x := make([]float64, n)
		for i := lo; i < hi; i++ {
			jitterOne(dst[i*n:(i+1)*n], src[i*n:(i+1)*n], x, h*w, c, p, i)
		}
	})
	return dst
}

// jitterOne is ImageJitter on image i, src and out [h·w·c], using x as float64 scratch of the same length.
func jitterOne[T float32 | float64](out, img []T, x []float64, pixels, c int, p ImageJitterParams, i int) {
	if p.Apply[i] == 0 {
		copy(out, img)
		return
	}
	for j := range x {
		x[j] = float64(img[j])
	}
	for k := range 4 {
		switch int(p.Order[i*4+k]) {
		case 0:
			f := float64(p.Brightness[i])
			for j := range x {
				x[j] *= f
			}
		case 1:
			f, mean := float64(p.Contrast[i]), make([]float64, c)
			for j := range x {
				mean[j%c] += x[j] / float64(pixels)
			}
			for j := range x {
				x[j] = f*x[j] + (1-f)*mean[j%c]
			}
		case 2:
			if c == 3 {
				f := float64(p.Saturation[i])
				for px := 0; px < len(x); px += 3 {
					gray := 0.299*x[px] + 0.587*x[px+1] + 0.114*x[px+2]
					for ch := range 3 {
						x[px+ch] = f*x[px+ch] + (1-f)*gray
					}
				}
			}
		case 3:
			if c == 3 {
				m := hueRotation(2 * math.Pi * float64(p.Hue[i]))
				for px := 0; px < len(x); px += 3 {
					r, g, b := x[px], x[px+1], x[px+2]
					for ch := range 3 {
						x[px+ch] = m[ch][0]*r + m[ch][1]*g + m[ch][2]*b
					}
				}
			}
		}
		for j := range x {
			x[j] = min(max(x[j], 0), 1)
		}
	}
	for j := range x {
		out[j] = T(x[j])
	}
}
