package augment

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// BlurConfig sets the random Gaussian blur (Chen et al. 2020, Appendix A; torchvision GaussianBlur).
type BlurConfig struct {
	Prob  float64    // probability of blurring an example
	Sigma [2]float64 // σ ~ U[Sigma] in pixels, e.g. {0.1, 2}
	Size  int        // kernel size, odd (an even size is rounded up); 0: 10% of the image side, made odd (SimCLR)
}

// BlurParams holds each example's blur and the static kernel radii.
type BlurParams struct {
	Apply            *graph.Node // [B] 1 = blur, 0 = keep
	Sigma            *graph.Node // [B] standard deviation in pixels
	RadiusY, RadiusX int         // the kernels have 2r+1 taps along the height and the width
}

// BlurRadius returns the radius r (2r+1 taps) of a blur kernel of the given size along an image side of n pixels:
// size/2, or for size 0 SimCLR's choice, ⌊n/10⌋ made odd, halved: 32 → 1, 28 → 1, 96 → 4, 224 → 11. Sides under
// 10 pixels get r = 0 (no blur).
func BlurRadius(n, size int) int {
	if size > 0 {
		return size / 2
	}
	return (n/10 | 1) / 2
}

// SampleBlur draws, for each of batch h×w images, a blur with probability cfg.Prob and σ ~ U[cfg.Sigma].
func SampleBlur(rng *graph.Node, batch, h, w int, cfg BlurConfig) (*graph.Node, BlurParams) {
	p := BlurParams{RadiusY: BlurRadius(h, cfg.Size), RadiusX: BlurRadius(w, cfg.Size)}
	rng, p.Apply = bernoulli(rng, batch, cfg.Prob)
	rng, p.Sigma = uniform(rng, cfg.Sigma[0], cfg.Sigma[1], batch)
	return rng, p
}

// Blur convolves the examples whose Apply is 1 with a separable Gaussian of their σ, reflecting at the borders
// (torchvision's padding_mode "reflect": index −1 reads 1, index n reads n−2):
//
//	g_t = exp(−t²/(2σ²)) / Σ_{|s|≤r} exp(−s²/(2σ²)),   t = −r … r
//	K[i, k] = Σ_t g_t·[reflect(i+t) = k]                 (a band matrix per example, [B, H, H] and [B, W, W])
//	out = K_y · image · K_xᵀ,  with g = Apply·g + (1−Apply)·[t = 0], so unblurred examples pass through exactly
//
// The matrix form replaces a depthwise convolution, slow on the Go backend, by two batched matrix products.
// It panics if a radius is not below its image side. ref.ImageBlur is its twin.
func Blur(images *graph.Node, p BlurParams) *graph.Node {
	checkImages("Blur", images)
	return fromPlanar(blurPlanar(toPlanar(images), p))
}

// blurPlanar is Blur on planes [B, C, H, W].
func blurPlanar(x *graph.Node, p BlurParams) *graph.Node {
	d := x.Shape().Dimensions
	return separable(x, blurMatrix(p.Sigma, p.Apply, p.RadiusY, d[2]), blurMatrix(p.Sigma, p.Apply, p.RadiusX, d[3]))
}

// blurMatrix returns Blur's [B, n, n] matrices for radius r along a side of n pixels.
func blurMatrix(sigma, apply *graph.Node, r, n int) *graph.Node {
	if r < 0 || r >= n {
		panic(fmt.Sprintf("augment: Blur radius %d needs an image side above it, got %d", r, n))
	}
	g := sigma.Graph()
	b, taps := sigma.Shape().Dimensions[0], 2*r+1
	t := graph.AddScalar(graph.Iota(g, shapes.Make(dtypes.Float32, 1, taps), 1), -float64(r)) // [1, taps]
	s := graph.Reshape(sigma, b, 1)
	e := ops.Exp(graph.Neg(graph.Div(graph.Mul(t, t), graph.MulScalar(graph.Mul(s, s), 2)))) // [B, taps]
	e = graph.Div(e, graph.ReduceAndKeep(e, graph.ReduceSum, 1))
	// Apply selects on the taps, not on the [B, n, n] matrices (a broadcasting op there is slow on the Go
	// backend): an unblurred example gets the single centre tap, whose matrix S[r] is exactly the identity.
	m := graph.Reshape(apply, b, 1)
	centre := make([]float32, taps)
	centre[r] = 1
	e = graph.Add(graph.Mul(m, e), graph.Mul(graph.OneMinus(m), graph.Const(g, [][]float32{centre})))
	return graph.Einsum("bt,tik->bik", e, graph.Const(g, reflectTaps(r, n))) // [B, n, n]
}

// reflectTaps returns the [2r+1, n, n] 0/1 tensor S[t][i][k] = [reflect(i+t−r) = k].
func reflectTaps(r, n int) [][][]float32 {
	s := make([][][]float32, 2*r+1)
	for t := range s {
		s[t] = make([][]float32, n)
		for i := range n {
			s[t][i] = make([]float32, n)
			k := i + t - r
			if k < 0 {
				k = -k
			} else if k >= n {
				k = 2*(n-1) - k
			}
			s[t][i][k] = 1
		}
	}
	return s
}

// PixelNoiseParams holds the additive noise of every pixel.
type PixelNoiseParams struct {
	Noise *graph.Node // [B, H, W, C]
}

// SamplePixelNoise draws Gaussian noise of standard deviation std for a batch of h×w×c images.
func SamplePixelNoise(rng *graph.Node, batch, h, w, c int, std float64) (*graph.Node, PixelNoiseParams) {
	rng, n := graph.RandomNormal(rng, shapes.Make(dtypes.Float32, batch, h, w, c))
	return rng, PixelNoiseParams{Noise: graph.MulScalar(n, std)}
}

// PixelNoise adds the sampled noise and clips back to the image range,
//
//	out = clip(images + Noise, 0, 1)
//
// images and Noise are [B, H, W, C]. (SampleNoise and AddNoise are their counterparts for vector data, which are
// not clipped.) ref.ImageNoise is its twin.
func PixelNoise(images *graph.Node, p PixelNoiseParams) *graph.Node {
	checkImages("PixelNoise", images)
	return graph.ClipScalar(graph.Add(images, p.Noise), 0, 1)
}
