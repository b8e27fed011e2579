package ref

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// Replays of the image augmentations of package augment (datasets/augment/image*.go) from their sampled
// parameters, fetched from the graph as float32 tensors. Images are [b, h, w, c] row-major (channel fastest):
// pixel (y, x, ch) of image i is img[((i*h+y)*w+x)*c+ch]. A nil dst allocates the result; src is never modified.
// The arithmetic is float64, rounded to T once per op; the graph computes in float32, so results agree to ~1e-6.
// Crop, jitter and blur split the batch over goroutines (hostmath.ParallelFor), as a fair baseline for the graph.

// ImageCropParams are the sampled boxes of augment.CropParams: one [b] entry per example, in input pixels.
type ImageCropParams struct {
	Y0, X0, H, W []float32 // top, left, height, width
	OutH, OutW   int       // output size
}

// ImageFlipParams is augment.FlipParams: Apply[i] = 1 mirrors image i left to right.
type ImageFlipParams struct{ Apply []float32 }

// ImageGrayscaleParams is augment.GrayscaleParams: Apply[i] = 1 turns image i gray.
type ImageGrayscaleParams struct{ Apply []float32 }

// ImageBlurParams is augment.BlurParams: per-example 0/1 Apply and σ, and the kernel radii.
type ImageBlurParams struct {
	Apply, Sigma     []float32
	RadiusY, RadiusX int
}

// ImagePipelineParams is augment.PipelineParams; a nil field is an op that is off.
type ImagePipelineParams struct {
	Crop   *ImageCropParams
	Flip   *ImageFlipParams
	Jitter *ImageJitterParams
	Gray   *ImageGrayscaleParams
	Blur   *ImageBlurParams
	Noise  []float32 // [b, h', w', c] additive noise, h'×w' the size after the crop
}

// ImageCrop cuts box i out of image i and resizes it to OutH×OutW by bilinear interpolation; output row r samples
// input row y_r = Y0 + (r+½)·H/OutH − ½ with weights max(0, 1 − |k − clip(y_r, 0, h−1)|) on rows k, zero when
// y_r is outside [−½, h−½], and likewise for columns. It returns [b, OutH, OutW, c]; twin of augment.Crop.
func ImageCrop[T float32 | float64](dst, src []T, b, h, w, c int, p ImageCropParams) []T {
	augImgCheck("ImageCrop", src, b, h, w, c)
	dst = augVecDst(dst, b*p.OutH*p.OutW*c, "ImageCrop")
	hostmath.ParallelFor(b, 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			my := interpolationRows(float64(p.Y0[i]), float64(p.H[i]), p.OutH, h)
			mx := interpolationRows(float64(p.X0[i]), float64(p.W[i]), p.OutW, w)
			separable(dst[i*p.OutH*p.OutW*c:(i+1)*p.OutH*p.OutW*c], src[i*h*w*c:(i+1)*h*w*c], h, w, c, my, mx)
		}
	})
	return dst
}

// interpolationRows returns ImageCrop's out×n matrix (row-major) for the box [start, start+size).
func interpolationRows(start, size float64, out, n int) []float64 {
	m := make([]float64, out*n)
	for r := range out {
		y := start + (float64(r)+0.5)*(size/float64(out)) - 0.5
		if y < -0.5 || y > float64(n)-0.5 {
			continue
		}
		yc := min(max(y, 0), float64(n-1))
		for k := range n {
			m[r*n+k] = max(0, 1-math.Abs(float64(k)-yc))
		}
	}
	return m
}

// separable writes dst[r, s, ch] = Σ_y Σ_x my[r, y]·mx[s, x]·src[y, x, ch] for one image src [h, w, c], with my
// [oh, h] and mx [ow, w] row-major, oh = len(my)/h, ow = len(mx)/w; dst is [oh, ow, c]. Zero weights are skipped.
func separable[T float32 | float64](dst, src []T, h, w, c int, my, mx []float64) {
	oh, ow := len(my)/h, len(mx)/w
	t := make([]float64, oh*w*c) // rows resampled first: [oh, w, c]
	for r := range oh {
		for y := range h {
			if a := my[r*h+y]; a != 0 {
				for j := range w * c {
					t[r*w*c+j] += a * float64(src[y*w*c+j])
				}
			}
		}
	}
	for r := range oh {
		for s := range ow {
			for ch := range c {
				var sum float64
				for x := range w {
					sum += mx[s*w+x] * t[(r*w+x)*c+ch]
				}
				dst[(r*ow+s)*c+ch] = T(sum)
			}
		}
	}
}

// ImageFlip mirrors the width axis of the images whose Apply is 1: dst[i, y, x, ch] = src[i, y, w−1−x, ch].
// Twin of augment.Flip.
func ImageFlip[T float32 | float64](dst, src []T, b, h, w, c int, p ImageFlipParams) []T {
	augImgCheck("ImageFlip", src, b, h, w, c)
	dst = augVecDst(dst, len(src), "ImageFlip")
	for i := range b {
		for y := range h {
			row := (i*h + y) * w
			for x := range w {
				from := x
				if p.Apply[i] > 0 {
					from = w - 1 - x
				}
				copy(dst[(row+x)*c:(row+x+1)*c], src[(row+from)*c:(row+from+1)*c])
			}
		}
	}
	return dst
}

// ImageGrayscale sets every channel of the images whose Apply is 1 to 0.299 R + 0.587 G + 0.114 B; images with
// c = 1 are copied unchanged. Twin of augment.Grayscale.
func ImageGrayscale[T float32 | float64](dst, src []T, b, h, w, c int, p ImageGrayscaleParams) []T {
	augImgCheck("ImageGrayscale", src, b, h, w, c)
	dst = augVecDst(dst, len(src), "ImageGrayscale")
	copy(dst, src)
	if c == 1 {
		return dst
	}
	for i := range b {
		if p.Apply[i] == 0 {
			continue
		}
		for px := i * h * w; px < (i+1)*h*w; px++ {
			v := src[px*3 : px*3+3]
			gray := T(0.299*float64(v[0]) + 0.587*float64(v[1]) + 0.114*float64(v[2]))
			dst[px*3], dst[px*3+1], dst[px*3+2] = gray, gray, gray
		}
	}
	return dst
}

// ImageBlur convolves the images whose Apply is 1 with the separable Gaussian g_t ∝ exp(−t²/(2σ²)), |t| ≤ r,
// normalised to sum 1, reflecting at the borders (index −1 reads 1, index n reads n−2). Twin of augment.Blur.
func ImageBlur[T float32 | float64](dst, src []T, b, h, w, c int, p ImageBlurParams) []T {
	augImgCheck("ImageBlur", src, b, h, w, c)
	dst = augVecDst(dst, len(src), "ImageBlur")
	hostmath.ParallelFor(b, 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			img, out := src[i*h*w*c:(i+1)*h*w*c], dst[i*h*w*c:(i+1)*h*w*c]
			if p.Apply[i] == 0 {
				copy(out, img)
				continue
			}
			sigma := float64(p.Sigma[i])
			separable(out, img, h, w, c, blurRows(sigma, p.RadiusY, h), blurRows(sigma, p.RadiusX, w))
		}
	})
	return dst
}

// blurRows returns ImageBlur's n×n band matrix (row-major) for σ and radius r.
func blurRows(sigma float64, r, n int) []float64 {
	g := make([]float64, 2*r+1)
	var sum float64
	for t := -r; t <= r; t++ {
		g[t+r] = math.Exp(-float64(t*t) / (2 * sigma * sigma))
		sum += g[t+r]
	}
	m := make([]float64, n*n)
	for i := range n {
		for t := -r; t <= r; t++ {
			k := i + t
			if k < 0 {
				k = -k
			} else if k >= n {
				k = 2*(n-1) - k
			}
			m[i*n+k] += g[t+r] / sum
		}
	}
	return m
}

// ImageNoise returns clip(src + noise, 0, 1) for src and noise of the same length. Twin of augment.PixelNoise.
func ImageNoise[T float32 | float64](dst, src []T, noise []float32) []T {
	if len(noise) != len(src) {
		panic(fmt.Sprintf("ref: ImageNoise: len(noise) = %d, len(src) = %d", len(noise), len(src)))
	}
	dst = augVecDst(dst, len(src), "ImageNoise")
	for i := range src {
		dst[i] = T(min(max(float64(src[i])+float64(noise[i]), 0), 1))
	}
	return dst
}

// ImagePipeline replays augment.Pipeline.Apply: crop, flip, jitter, grayscale, blur and noise, each when its
// parameters are set. It returns the augmented images and their height and width.
func ImagePipeline[T float32 | float64](src []T, b, h, w, c int, p ImagePipelineParams) (out []T, oh, ow int) {
	augImgCheck("ImagePipeline", src, b, h, w, c)
	out = append([]T(nil), src...)
	if p.Crop != nil {
		out, h, w = ImageCrop(nil, out, b, h, w, c, *p.Crop), p.Crop.OutH, p.Crop.OutW
	}
	if p.Flip != nil {
		out = ImageFlip(nil, out, b, h, w, c, *p.Flip)
	}
	if p.Jitter != nil {
		out = ImageJitter(nil, out, b, h, w, c, *p.Jitter)
	}
	if p.Gray != nil {
		out = ImageGrayscale(nil, out, b, h, w, c, *p.Gray)
	}
	if p.Blur != nil {
		out = ImageBlur(nil, out, b, h, w, c, *p.Blur)
	}
	if p.Noise != nil {
		out = ImageNoise(nil, out, p.Noise)
	}
	return out, h, w
}

// augImgCheck panics unless len(src) = b·h·w·c and c is 1 or 3.
func augImgCheck[T float32 | float64](fn string, src []T, b, h, w, c int) {
	if b < 0 || h < 1 || w < 1 || (c != 1 && c != 3) || len(src) != b*h*w*c {
		panic(fmt.Sprintf("ref: %s: len(src) = %d, want b·h·w·c = %d·%d·%d·%d with c = 1 or 3", fn, len(src), b, h, w, c))
	}
}
