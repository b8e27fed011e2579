package augment

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// cropAttempts is how many (scale, ratio) pairs SampleCrop draws per example before falling back, as torchvision's
// RandomResizedCrop (10).
const cropAttempts = 10

// CropConfig sets the random resized crop (Chen et al. 2020, Appendix A; torchvision RandomResizedCrop).
type CropConfig struct {
	Scale [2]float64 // range of the box area as a fraction of the image area, e.g. {0.08, 1}; above 1 zooms out
	Ratio [2]float64 // range of the box aspect ratio width/height, drawn log-uniformly, e.g. {3/4, 4/3}
	// Center places the box at the image centre (a pure zoom) instead of uniformly at random.
	Center     bool
	OutH, OutW int // output size; 0 keeps the input size
}

// enabled reports whether c describes a crop (the zero CropConfig means none).
func (c CropConfig) enabled() bool { return c.Scale[1] > 0 }

// CropParams is one crop box per example, in input pixel units (fractional, no rounding), plus the output size.
type CropParams struct {
	Y0, X0, H, W *graph.Node // [B] top, left, height, width of the box
	OutH, OutW   int
}

// SampleCrop draws a crop box for each of batch images of size h×w, the continuous form of torchvision's
// RandomResizedCrop.get_params. Each example draws cropAttempts pairs
//
//	s ~ U[Scale],  r = exp(U[log Ratio]),  box width = √(s·h·w·r),  box height = √(s·h·w/r)
//
// and keeps the first that fits in the image (width ≤ w and height ≤ h) or zooms out (s > 1: the box contains the
// image and Crop pads with zeros; our extension, for MNIST's random rescale). If none qualifies it takes
// torchvision's fallback, the largest centred box whose ratio is clamped to Ratio: width = min(w, h·Ratio[1]),
// height = min(h, w/Ratio[0]). The box's top-left corner is u·(h − height), u·(w − width) with u ~ U[0, 1), so the
// box lies inside the image or, along an axis where it is longer, contains it; Center uses u = ½. Sizes are not rounded to whole pixels.
// It panics if Scale or Ratio is not a positive, increasing range.
func SampleCrop(rng *graph.Node, batch, h, w int, cfg CropConfig) (*graph.Node, CropParams) {
	if !(cfg.Scale[0] > 0 && cfg.Scale[0] <= cfg.Scale[1] && cfg.Ratio[0] > 0 && cfg.Ratio[0] <= cfg.Ratio[1]) {
		panic("augment: SampleCrop wants 0 < Scale[0] ≤ Scale[1] and 0 < Ratio[0] ≤ Ratio[1]")
	}
	g := rng.Graph()
	fh, fw, area := float64(h), float64(w), float64(h*w)
	var s, logR, uy, ux *graph.Node
	rng, s = uniform(rng, cfg.Scale[0], cfg.Scale[1], batch, cropAttempts)
	rng, logR = uniform(rng, math.Log(cfg.Ratio[0]), math.Log(cfg.Ratio[1]), batch, cropAttempts)
	r := ops.Exp(logR)                                       // ops: the Go backend's Exp op is slow after SIMD code on Intel hosts
	bw := graph.Sqrt(graph.Mul(graph.MulScalar(s, area), r)) // [B, K]
	bh := graph.Sqrt(graph.Div(graph.MulScalar(s, area), r))
	ok := graph.LogicalOr(
		graph.LogicalAnd(graph.LessOrEqual(bw, scalar(g, fw)), graph.LessOrEqual(bh, scalar(g, fh))),
		graph.GreaterThan(s, scalar(g, 1)))
	okF := graph.ConvertDType(ok, dtypes.Float32)
	first := graph.Mul(okF, equalScalar(ops.RunningSum(okF), 1)) // one-hot of the first good attempt, or zeros
	found := graph.ReduceSum(first, 1)                           // [B] 1 or 0
	fallbackW, fallbackH := math.Min(fw, fh*cfg.Ratio[1]), math.Min(fh, fw/cfg.Ratio[0])
	notFound := graph.OneMinus(found)
	boxW := graph.Add(graph.ReduceSum(graph.Mul(first, bw), 1), graph.MulScalar(notFound, fallbackW))
	boxH := graph.Add(graph.ReduceSum(graph.Mul(first, bh), 1), graph.MulScalar(notFound, fallbackH))
	if cfg.Center {
		uy = graph.Const(g, float32(0.5))
		ux = uy
	} else {
		rng, uy = uniform(rng, 0, 1, batch)
		rng, ux = uniform(rng, 0, 1, batch)
		uy = graph.Add(graph.Mul(found, uy), graph.MulScalar(notFound, 0.5)) // the fallback box is centred
		ux = graph.Add(graph.Mul(found, ux), graph.MulScalar(notFound, 0.5))
	}
	p := CropParams{
		Y0: graph.Mul(uy, graph.Sub(scalar(g, fh), boxH)), X0: graph.Mul(ux, graph.Sub(scalar(g, fw), boxW)),
		H: boxH, W: boxW, OutH: cfg.OutH, OutW: cfg.OutW,
	}
	if p.OutH == 0 {
		p.OutH = h
	}
	if p.OutW == 0 {
		p.OutW = w
	}
	return rng, p
}

// Crop cuts each example's box out of images [B, H, W, C] and resizes it to [B, OutH, OutW, C] by bilinear
// interpolation, written as separable per-example matrices (see separable). Output row i samples the input at
//
//	y_i = Y0 + (i + ½)·H_box/OutH − ½                       (pixel centres, align_corners = false)
//	M[i, k] = [−½ ≤ y_i ≤ H − ½] · max(0, 1 − |k − clip(y_i, 0, H − 1)|)
//
// and likewise for columns: inside the image the edge pixels are repeated over the outer half pixel (as torchvision
// and PIL do), beyond it (zoomed-out boxes only) the image is padded with zeros. No antialiasing: our presets crop
// boxes no larger than the image, or at most 1.25× larger. ref.ImageCrop is its twin.
func Crop(images *graph.Node, p CropParams) *graph.Node {
	checkImages("Crop", images)
	return fromPlanar(cropPlanar(toPlanar(images), p, nil))
}

// cropPlanar is Crop on planes [B, C, H, W]; a non-nil flip mirrors the examples whose flip is 1 on the way, by
// reversing the rows of their column matrix.
func cropPlanar(x *graph.Node, p CropParams, flip *FlipParams) *graph.Node {
	d := x.Shape().Dimensions
	my := interpolationMatrix(p.Y0, p.H, p.OutH, d[2]) // [B, OutH, H]
	mx := interpolationMatrix(p.X0, p.W, p.OutW, d[3]) // [B, OutW, W]
	if flip != nil {
		mx = graph.Where(isOn(flip.Apply), graph.Reverse(mx, 1), mx)
	}
	return separable(x, my, mx)
}

// interpolationMatrix returns the [B, out, n] bilinear resampling matrices of Crop for boxes [start, start+size)
// ([B] each) along an axis of n input pixels. The positions y_i are computed in float64 and split into an integer
// part and a fraction: in float32, y ≈ 200 would carry an error of 1e-5 pixel into every weight.
func interpolationMatrix(start, size *graph.Node, out, n int) *graph.Node {
	g := start.Graph()
	b := start.Shape().Dimensions[0]
	f64 := func(x *graph.Node) *graph.Node { return graph.ConvertDType(x, dtypes.Float64) }
	i := graph.AddScalar(graph.Iota(g, shapes.Make(dtypes.Float64, 1, out), 1), 0.5) // [1, out]
	step := graph.Reshape(graph.DivScalar(f64(size), float64(out)), b, 1)
	y := graph.AddScalar(graph.Add(graph.Reshape(f64(start), b, 1), graph.Mul(i, step)), -0.5) // [B, out]
	inside := graph.LogicalAnd(graph.GreaterOrEqual(y, graph.Scalar(g, dtypes.Float64, -0.5)),
		graph.LessOrEqual(y, graph.Scalar(g, dtypes.Float64, float64(n)-0.5)))
	yc := graph.Where(inside, graph.ClipScalar(y, 0, float64(n-1)), graph.Scalar(g, dtypes.Float64, -2)) // −2: no weight
	whole := graph.Floor(yc)
	frac := graph.Reshape(graph.ConvertDType(graph.Sub(yc, whole), dtypes.Float32), b*out, 1)
	whole = graph.Reshape(graph.ConvertDType(whole, dtypes.Float32), b*out, 1)
	// (k − whole) − frac over [B·out, n], spread by ops' exact products (a broadcasting op is slow on the Go
	// backend).
	k := graph.Iota(g, shapes.Make(dtypes.Float32, 1, n), 1) // [1, n]
	d := graph.Sub(ops.OuterSub(k, whole), ops.SpreadColumn(frac, n))
	return graph.Reshape(graph.MaxScalar(graph.OneMinus(graph.Abs(d)), 0), b, out, n)
}

// scalar is a float32 constant.
func scalar(g *graph.Graph, v float64) *graph.Node { return graph.Scalar(g, dtypes.Float32, v) }

// equalScalar is x == v as a float32 0/1 tensor.
func equalScalar(x *graph.Node, v float64) *graph.Node {
	return graph.ConvertDType(graph.Equal(x, scalar(x.Graph(), v)), dtypes.Float32)
}
