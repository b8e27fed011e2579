package ref

import "math"

// ImageJitterParams is augment.JitterParams: per-example 0/1 Apply, factors and hue shift (in turns), and Order
// [b, 4], the op run at each step: 0 brightness, 1 contrast, 2 saturation, 3 hue.
type ImageJitterParams struct {
	Apply, Brightness, Contrast, Saturation, Hue []float32
	Order                                        []float32
}

// yiq is the NTSC RGB → YIQ matrix of augment (first row the BT.601 luma weights).
var yiq = [3][3]float64{
	{0.299, 0.587, 0.114},
	{0.596, -0.274, -0.322},
	{0.211, -0.523, 0.312},
}

// hueRotation returns T⁻¹·diag(1, R(θ))·T for T = yiq, R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]] acting on (I, Q).
func hueRotation(theta float64) (m [3][3]float64) {
	inv := inverse3(yiq)
	cos, sin := math.Cos(theta), math.Sin(theta)
	d := [3][3]float64{{1, 0, 0}, {0, cos, -sin}, {0, sin, cos}}
	for r := range 3 {
		for col := range 3 {
			for i := range 3 {
				for j := range 3 {
					m[r][col] += inv[r][i] * d[i][j] * yiq[j][col]
				}
			}
		}
	}
	return m
}

// inverse3 inverts a 3×3 matrix by cofactors.
func inverse3(m [3][3]float64) (inv [3][3]float64) {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	for r := range 3 {
		for c := range 3 {
			r1, r2, c1, c2 := (c+1)%3, (c+2)%3, (r+1)%3, (r+2)%3
			inv[r][c] = (m[r1][c1]*m[r2][c2] - m[r1][c2]*m[r2][c1]) / det
		}
	}
	return inv
}

// ImageJitter applies to the images whose Apply is 1 the four colour ops in the order Order[i], clipping to
// [0, 1] after each (f the image's factor, mean_ch over the image, gray = 0.299 R + 0.587 G + 0.114 B):
//
//	brightness x ← f·x;  contrast x ← f·x + (1−f)·mean_ch(x);  saturation x ← f·x + (1−f)·gray(x);
//	hue x ← hueRotation(−2π·Hue)·x
//
// Saturation and hue leave c = 1 images alone. The image is held in float64 through the four steps and rounded to
// T at the end. Twin of augment.Jitter.
func ImageJitter[T float32 | float64](dst, src []T, b, h, w, c int, p ImageJitterParams) []T {
	augImgCheck("ImageJitter", src, b, h, w, c)
	dst = augVecDst(dst, len(src), "ImageJitter")
	n := h * w * c
	x := make([]float64, n)
	for i := range b {
		img, out := src[i*n:(i+1)*n], dst[i*n:(i+1)*n]
		if p.Apply[i] == 0 {
			copy(out, img)
			continue
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
					mean[j%c] += x[j] / float64(h*w)
				}
				for j := range x {
					x[j] = f*x[j] + (1-f)*mean[j%c]
				}
			case 2:
				if c == 3 {
					f := float64(p.Saturation[i])
					for px := 0; px < n; px += 3 {
						gray := 0.299*x[px] + 0.587*x[px+1] + 0.114*x[px+2]
						for ch := range 3 {
							x[px+ch] = f*x[px+ch] + (1-f)*gray
						}
					}
				}
			case 3:
				if c == 3 {
					m := hueRotation(-2 * math.Pi * float64(p.Hue[i]))
					for px := 0; px < n; px += 3 {
						r, g, bl := x[px], x[px+1], x[px+2]
						for ch := range 3 {
							x[px+ch] = m[ch][0]*r + m[ch][1]*g + m[ch][2]*bl
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
	return dst
}
