package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// CropBox is a box of whole pixels of an image: rows Y0 … Y0+H−1, columns X0 … X0+W−1.
type CropBox struct{ X0, Y0, W, H int }

// CropRange is the random resized crop that a Stream draws on the host, from the full-resolution image: the
// box's area as a fraction of the image's, and its aspect ratio width/height (drawn log-uniformly).
type CropRange struct {
	Scale [2]float64
	Ratio [2]float64
}

// SimCLRCrop is SimCLR's crop (Chen et al. 2020, Appendix A; torchvision's RandomResizedCrop defaults):
// 8–100% of the area, ratio 3/4 … 4/3.
var SimCLRCrop = CropRange{Scale: [2]float64{0.08, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}}

// cropAttempts is how many (scale, ratio) pairs SampleCropBox draws before its fallback, as torchvision's
// RandomResizedCrop.get_params (10).
const cropAttempts = 10

// SampleCropBox draws a crop box of an h×w image as torchvision's RandomResizedCrop.get_params does, with
// rng's draws (math/rand/v2) in this order: up to cropAttempts times
//
//	area = h·w·U[Scale),  r = exp(U[log Ratio)),  W = round(√(area·r)),  H = round(√(area/r)),
//
// keeping the first box with 0 < W ≤ w and 0 < H ≤ h, at Y0 = IntN(h−H+1), X0 = IntN(w−W+1). When none fits,
// the whole image with its ratio clamped into Ratio, centred. The zero CropRange draws nothing: the whole
// image (no crop). round is math.Round (half away from zero;
// Python's round, which torchvision uses, rounds half to even: a box one pixel off now and then).
func SampleCropBox(rng *rand.Rand, h, w int, cr CropRange) CropBox {
	if cr == (CropRange{}) {
		return CropBox{W: w, H: h}
	}
	area := float64(h * w)
	logLo, logHi := math.Log(cr.Ratio[0]), math.Log(cr.Ratio[1])
	for range cropAttempts {
		target := area * (cr.Scale[0] + (cr.Scale[1]-cr.Scale[0])*rng.Float64())
		r := math.Exp(logLo + (logHi-logLo)*rng.Float64())
		bw, bh := int(math.Round(math.Sqrt(target*r))), int(math.Round(math.Sqrt(target/r)))
		if bw > 0 && bw <= w && bh > 0 && bh <= h {
			y0 := rng.IntN(h - bh + 1)
			x0 := rng.IntN(w - bw + 1)
			return CropBox{X0: x0, Y0: y0, W: bw, H: bh}
		}
	}
	bw, bh := w, h
	switch in := float64(w) / float64(h); {
	case in < cr.Ratio[0]:
		bh = int(math.Round(float64(w) / cr.Ratio[0]))
	case in > cr.Ratio[1]:
		bw = int(math.Round(float64(h) * cr.Ratio[1]))
	}
	return CropBox{X0: (w - bw) / 2, Y0: (h - bh) / 2, W: bw, H: bh}
}

// CentreBox returns the centred box of an h×w image that has the aspect ratio of outW×outH and its full
// height or width: the region fit (ReadFolder's resize) keeps, so a centre crop resized to outH×outW is what
// "resize the shorter side, then centre-crop" gives.
func CentreBox(h, w, outH, outW int) CropBox {
	b := CropBox{W: w, H: h}
	if w*outH > h*outW { // wider than the target
		b.W = (h*outW + outH/2) / outH
		b.X0 = (w - b.W) / 2
	} else {
		b.H = (w*outH + outW/2) / outW
		b.Y0 = (h - b.H) / 2
	}
	return b
}

// taps are the resampling weights of one axis: output pixel o reads source pixels first[o] …
// first[o]+len(weights[o])−1 (absolute coordinates) with those weights, which sum to 1.
type taps struct {
	first   []int
	weights [][]float32
}

// axisTaps returns the weights that resample the source pixels b0 … b0+n−1 of one axis onto out pixels, with
// the triangle (bilinear) filter widened by the scale when shrinking, so that shrinking averages (antialias)
// as PIL's and torchvision's antialiased bilinear resize do. Output pixel o is centred at source coordinate
//
//	c_o = b0 + (o + ½)·s,  s = n/out,
//
// and source pixel j (centred at j + ½) weighs tri((j + ½ − c_o)/max(s, 1)), tri(t) = max(0, 1 − |t|), over the
// pixels of the box only (crop, then resize), normalised to sum 1.
func axisTaps(b0, n, out int) taps {
	s := float64(n) / float64(out)
	support := math.Max(s, 1)
	t := taps{first: make([]int, out), weights: make([][]float32, out)}
	for o := range out {
		c := float64(b0) + (float64(o)+0.5)*s
		lo := max(b0, int(math.Floor(c-support)))
		hi := min(b0+n, int(math.Ceil(c+support)))
		ws := make([]float64, 0, hi-lo)
		sum := 0.0
		for j := lo; j < hi; j++ {
			v := math.Max(0, 1-math.Abs((float64(j)+0.5-c)/support))
			ws = append(ws, v)
			sum += v
		}
		t.first[o] = lo
		t.weights[o] = make([]float32, len(ws))
		for k, v := range ws {
			t.weights[o][k] = float32(v / sum)
		}
	}
	return t
}

// ResizeBox resamples the box of the image src (h×w×c bytes, HWC) to outH×outW with axisTaps' filter, one
// axis after the other (rows first), and writes the result into dst (outH·outW·c values, HWC) as float32 in
// [0, 1] (v/255), the layout and scale of Images.Batch. tmp is scratch space, grown as needed and returned.
// It panics if the box is empty or does not lie inside the image.
func ResizeBox(dst []float32, src []uint8, h, w, c int, box CropBox, outH, outW int, tmp []float32) []float32 {
	if box.W < 1 || box.H < 1 || box.X0 < 0 || box.Y0 < 0 || box.X0+box.W > w || box.Y0+box.H > h {
		panic(fmt.Sprintf("datasets: ResizeBox: box %+v outside the %d×%d image", box, w, h))
	}
	tx, ty := axisTaps(box.X0, box.W, outW), axisTaps(box.Y0, box.H, outH)
	rowLen := outW * c
	if need := box.H * rowLen; cap(tmp) < need {
		tmp = make([]float32, need)
	}
	tmp = tmp[:box.H*rowLen]
	for y := range box.H { // along x: box rows → tmp [box.H, outW, c]
		row := src[(box.Y0+y)*w*c:]
		out := tmp[y*rowLen : (y+1)*rowLen]
		for o := range outW {
			f, ws := tx.first[o], tx.weights[o]
			for ch := range c {
				acc := float32(0)
				for k, wk := range ws {
					acc += wk * float32(row[(f+k)*c+ch])
				}
				out[o*c+ch] = acc
			}
		}
	}
	for o := range outH { // along y: tmp → dst, scaled to [0, 1]
		f, ws := ty.first[o]-box.Y0, ty.weights[o]
		out := dst[o*rowLen : (o+1)*rowLen]
		clear(out)
		for k, wk := range ws {
			in := tmp[(f+k)*rowLen : (f+k+1)*rowLen]
			for i, v := range in {
				out[i] += wk * v
			}
		}
		for i := range out {
			out[i] /= 255 // not ·(1/255): the identity then gives exactly Images.Batch's v/255
		}
	}
	return tmp
}
