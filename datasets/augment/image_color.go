package augment

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// lumaWeights are the ITU-R BT.601 weights of gray = 0.299 R + 0.587 G + 0.114 B (torchvision rgb_to_grayscale).
var lumaWeights = [3]float64{0.299, 0.587, 0.114}

// hueBasis holds P0, P1, P2 with R(θ) = P0 + cos θ·P1 + sin θ·P2, the rotation of RGB space by θ about the gray
// diagonal k = (1, 1, 1)/√3 (Rodrigues): P0 = kkᵀ, P1 = I − kkᵀ, P2 = [k]×, the cross-product matrix of k. A
// rotation by θ moves the hue of a colour by about θ (exactly at multiples of 120°; measured on random colours of
// saturation ≥ 0.3, 36° → 35.5° ± 2.1° of HSV hue, where the YIQ chroma rotation gives 37° ± 10°) and keeps grays
// and (R+G+B)/3.
var hueBasis = func() (p [3][3][3]float64) {
	s := 1 / math.Sqrt(3)
	cross := [3][3]float64{{0, -s, s}, {s, 0, -s}, {-s, s, 0}}
	for r := range 3 {
		for c := range 3 {
			p[0][r][c] = 1.0 / 3
			p[1][r][c] = identity3[r][c] - 1.0/3
			p[2][r][c] = cross[r][c]
		}
	}
	return p
}()

// JitterConfig sets colour jitter (SimCLR's color_jitter with random order; torchvision ColorJitter).
type JitterConfig struct {
	Prob                             float64 // probability of jittering an example
	Brightness, Contrast, Saturation float64 // strength s: factor ~ U[max(0, 1−s), 1+s]
	Hue                              float64 // strength h ≤ ½: hue shift ~ U[−h, h] of a full turn
}

// Jitter op indices, as they appear in JitterParams.Order.
const (
	opBrightness = iota
	opContrast
	opSaturation
	opHue
	numJitterOps
)

// JitterParams holds each example's jitter factors and the order of the four ops.
type JitterParams struct {
	Apply                            *graph.Node // [B] 1 = jitter, 0 = keep
	Brightness, Contrast, Saturation *graph.Node // [B] factors
	Hue                              *graph.Node // [B] shift in turns
	Order                            *graph.Node // [B, 4] op run at step k: 0 brightness, 1 contrast, 2 saturation, 3 hue
}

// SampleJitter draws jitter factors and a uniformly random order of the four ops for each of batch examples
// (SimCLR shuffles the order per image). The order ranks four uniforms, ties broken by op index.
func SampleJitter(rng *graph.Node, batch int, cfg JitterConfig) (*graph.Node, JitterParams) {
	var p JitterParams
	rng, p.Apply = bernoulli(rng, batch, cfg.Prob)
	rng, p.Brightness = uniform(rng, max(0, 1-cfg.Brightness), 1+cfg.Brightness, batch)
	rng, p.Contrast = uniform(rng, max(0, 1-cfg.Contrast), 1+cfg.Contrast, batch)
	rng, p.Saturation = uniform(rng, max(0, 1-cfg.Saturation), 1+cfg.Saturation, batch)
	rng, p.Hue = uniform(rng, -cfg.Hue, cfg.Hue, batch)
	var u *graph.Node
	rng, u = uniform(rng, 0, 1, batch, numJitterOps)
	g := rng.Graph()
	ui := graph.Reshape(u, batch, numJitterOps, 1) // u_i
	uj := graph.Reshape(u, batch, 1, numJitterOps) // u_j
	jBeforeI := graph.GreaterThan(graph.Iota(g, shapes.Make(dtypes.Int32, 1, numJitterOps, 1), 1),
		graph.Iota(g, shapes.Make(dtypes.Int32, 1, 1, numJitterOps), 2)) // [1, i, j]: j < i
	earlier := graph.LogicalOr(graph.LessThan(uj, ui), graph.LogicalAnd(graph.Equal(uj, ui), jBeforeI))
	step := graph.ReduceSum(graph.ConvertDType(earlier, dtypes.Float32), 2) // [B, 4]: step at which op i runs
	k := graph.Iota(g, shapes.Make(dtypes.Float32, 1, 1, numJitterOps), 2)
	atK := graph.ConvertDType(graph.Equal(graph.Reshape(step, batch, numJitterOps, 1), k), dtypes.Float32)
	ops := graph.Iota(g, shapes.Make(dtypes.Float32, 1, numJitterOps, 1), 1)
	p.Order = graph.ReduceSum(graph.Mul(atK, ops), 1) // [B, 4]: Σ_i i·[step_i = k]
	return rng, p
}

// Jitter applies, to the examples whose Apply is 1, four colour ops in the order Order[b], clipping to [0, 1]
// after each as SimCLR does (f is the example's factor, gray = lumaWeights·x, mean_c the mean of channel c over
// the image):
//
//	brightness  x ← f·x
//	contrast    x ← f·x + (1−f)·mean_c(x)            (per-channel mean, as tf.image.adjust_contrast)
//	saturation  x ← f·x + (1−f)·gray(x)              (torchvision's blend, not TF's HSV scaling)
//	hue         x ← R(2π·Hue)·x                       (rotation about the gray diagonal, see hueBasis)
//
// The hue op approximates an HSV shift by Hue turns (positive turns red towards green, as HSV) with one
// orthogonal map per example instead of the RGB↔HSV round trip (Haeberli 1993, "Matrix operations for image
// processing", without his luminance-keeping shear). Each step is one affine map per example,
// x ← clip(A_b·x + t_b, 0, 1), where A_b and t_b pick the op's matrix with 0/1 weights, so every example gets
// exactly its own op at every step without computing all four; examples with Apply 0 get A_b = I, t_b = 0,
// which passes images in [0, 1] through exactly. For C = 1 saturation and hue are the identity.
// ref.ImageJitter is its twin.
func Jitter(images *graph.Node, p JitterParams) *graph.Node {
	checkImages("Jitter", images)
	return fromPlanar(jitterPlanar(toPlanar(images), p))
}

// jitterPlanar is Jitter on planes [B, C, H, W].
func jitterPlanar(planes *graph.Node, p JitterParams) *graph.Node {
	g, d := planes.Graph(), planes.Shape().Dimensions
	b, c := d[0], d[1]
	col := func(x *graph.Node) *graph.Node { return graph.Reshape(x, b, 1, 1) } // [B] → [B, 1, 1]
	keep := graph.OneMinus(p.Apply)
	x := graph.Reshape(planes, b, c, d[2]*d[3]) // [B, C, P]
	avgH, avgW := graph.Const(g, constVector(d[2], 1/float32(d[2]))), graph.Const(g, constVector(d[3], 1/float32(d[3])))
	for k := range numJitterOps {
		op := graph.Reshape(graph.Slice(p.Order, graph.AxisRange(), graph.AxisElem(k)), b)
		sel := func(i int) *graph.Node { return graph.Mul(p.Apply, equalScalar(op, float64(i))) } // 0 if Apply = 0
		selB, selC, selS, selH := sel(opBrightness), sel(opContrast), sel(opSaturation), sel(opHue)
		// Mean over columns then rows, as matrix-vector products: 4× faster than ReduceMean on the Go backend, and
		// summing in two stages keeps the float32 rounding error of a 96×96 image below 1e-6.
		mean := graph.Einsum("bchw,w->bch", graph.Reshape(x, b, c, d[2], d[3]), avgW)
		mean = graph.Reshape(graph.Einsum("bch,h->bc", mean, avgH), b, c, 1)
		t := graph.Mul(col(graph.Mul(selC, graph.OneMinus(p.Contrast))), mean) // [B, C, 1] contrast's (1−f)·mean_c(x)
		scale := graph.Add(graph.Add(graph.Mul(selB, p.Brightness), graph.Mul(selC, p.Contrast)), keep)
		if c == 1 {
			scale = graph.Add(scale, graph.Add(selS, selH)) // saturation and hue leave gray images alone
			x = graph.Add(graph.Mul(col(scale), x), t)
		} else {
			theta := graph.MulScalar(p.Hue, 2*math.Pi)
			hue := graph.Add(graph.Add(mat3(g, hueBasis[0]), graph.Mul(col(graph.Cos(theta)), mat3(g, hueBasis[1]))),
				graph.Mul(col(graph.Sin(theta)), mat3(g, hueBasis[2]))) // [B, 3, 3]
			a := graph.Add(graph.Add(
				graph.Mul(col(graph.Add(scale, graph.Mul(selS, p.Saturation))), mat3(g, identity3)),
				graph.Mul(col(graph.Mul(selS, graph.OneMinus(p.Saturation))), mat3(g, lumaRows))),
				graph.Mul(col(selH), hue)) // [B, 3, 3]
			x = graph.Add(graph.Einsum("bcd,bdp->bcp", a, x), t)
		}
		x = graph.Clamp(scalar(g, 0), x, scalar(g, 1))
	}
	return graph.Reshape(x, d...)
}

// identity3 and lumaRows (every row lumaWeights, so lumaRows·x = (gray, gray, gray)) as 3×3 matrices.
var (
	identity3 = [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
	lumaRows  = [3][3]float64{lumaWeights, lumaWeights, lumaWeights}
)

// constVector returns n copies of v.
func constVector(n int, v float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = v
	}
	return x
}

// mat3 is a [1, 3, 3] float32 constant.
func mat3(g *graph.Graph, m [3][3]float64) *graph.Node {
	v := make([][][]float32, 1)
	v[0] = make([][]float32, 3)
	for r := range 3 {
		v[0][r] = []float32{float32(m[r][0]), float32(m[r][1]), float32(m[r][2])}
	}
	return graph.Const(g, v)
}

// GrayscaleParams says which examples are turned gray.
type GrayscaleParams struct {
	Apply *graph.Node // [B] 1 = gray, 0 = keep
}

// SampleGrayscale draws a conversion to gray with probability p for each of batch examples.
func SampleGrayscale(rng *graph.Node, batch int, p float64) (*graph.Node, GrayscaleParams) {
	rng, apply := bernoulli(rng, batch, p)
	return rng, GrayscaleParams{Apply: apply}
}

// Grayscale replaces the three channels of the examples whose Apply is 1 by their gray value
//
//	gray = 0.299 R + 0.587 G + 0.114 B     (ITU-R BT.601, torchvision's rgb_to_grayscale)
//
// keeping three channels, as one 3×3 matrix per example: Apply·lumaRows + (1−Apply)·I. Images with C = 1 are
// returned unchanged. ref.ImageGrayscale is its twin.
func Grayscale(images *graph.Node, p GrayscaleParams) *graph.Node {
	checkImages("Grayscale", images)
	return fromPlanar(grayPlanar(toPlanar(images), p))
}

// grayPlanar is Grayscale on planes [B, C, H, W].
func grayPlanar(planes *graph.Node, p GrayscaleParams) *graph.Node {
	g, d := planes.Graph(), planes.Shape().Dimensions
	if d[1] == 1 {
		return planes
	}
	on := graph.Reshape(p.Apply, d[0], 1, 1)
	a := graph.Add(graph.Mul(on, mat3(g, lumaRows)), graph.Mul(graph.OneMinus(on), mat3(g, identity3))) // [B, 3, 3]
	x := graph.Einsum("bcd,bdp->bcp", a, graph.Reshape(planes, d[0], 3, d[2]*d[3]))
	return graph.Reshape(x, d...)
}
