package datasets

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refResize is the plain float64 reference of ResizeBox, written from its doc comment without its code: output
// pixel (ox, oy) is the 2-D weighted mean Σ_i Σ_j wy(oy, i)·wx(ox, j)·src(j, i) / 255 over the box, with
// the triangle weights of refWeights.
func refResize(src []uint8, w, c int, box CropBox, outH, outW int) []float64 {
	out := make([]float64, outH*outW*c)
	for oy := range outH {
		wy := refWeights(box.Y0, box.H, outH, oy)
		for ox := range outW {
			wx := refWeights(box.X0, box.W, outW, ox)
			for ch := range c {
				sum := 0.0
				for i, a := range wy {
					for j, b := range wx {
						sum += a * b * float64(src[((box.Y0+i)*w+box.X0+j)*c+ch])
					}
				}
				out[(oy*outW+ox)*c+ch] = sum / 255
			}
		}
	}
	return out
}

// refWeights returns the normalised weight of every pixel b0+j (j = 0 … n−1) of the box's axis for output
// pixel o: tri((b0 + j + ½ − c)/r) with c = b0 + (o + ½)·n/out and r = max(n/out, 1); zero outside the filter.
func refWeights(b0, n, out, o int) []float64 {
	s := float64(n) / float64(out)
	r := math.Max(s, 1)
	c := float64(b0) + (float64(o)+0.5)*s
	ws := make([]float64, n)
	sum := 0.0
	for j := range n {
		ws[j] = math.Max(0, 1-math.Abs(float64(b0+j)+0.5-c)/r)
		sum += ws[j]
	}
	for j := range ws {
		ws[j] /= sum
	}
	return ws
}

func randomPixels(rng *rand.Rand, n int) []uint8 {
	p := make([]uint8, n)
	for i := range p {
		p[i] = uint8(rng.IntN(256))
	}
	return p
}

func maxDiff(t *testing.T, got []float32, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	d := 0.0
	for i := range got {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

// TestResizeBoxMatchesReference: shrinking (antialiased), enlarging, the identity and non-square boxes and
// outputs, gray and RGB, against the float64 reference to 1e-5.
func TestResizeBoxMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		h, w, c    int
		box        CropBox
		outH, outW int
	}{
		{64, 80, 3, CropBox{0, 0, 80, 64}, 16, 16},   // shrink 4–5×, aspect change
		{64, 80, 3, CropBox{10, 5, 23, 17}, 32, 32},  // enlarge a small box
		{20, 20, 1, CropBox{0, 0, 20, 20}, 20, 20},   // identity
		{40, 30, 3, CropBox{3, 7, 20, 30}, 13, 9},    // odd sizes, non-square output
		{9, 200, 1, CropBox{150, 2, 50, 7}, 5, 33},   // thin box
		{50, 50, 3, CropBox{49, 49, 1, 1}, 4, 4},     // one pixel, enlarged
		{33, 47, 3, CropBox{1, 2, 45, 30}, 96, 96},   // enlarge to a training size
		{256, 256, 3, CropBox{0, 0, 256, 256}, 7, 7}, // strong shrink
	}
	for _, tc := range cases {
		src := randomPixels(rng, tc.h*tc.w*tc.c)
		got := make([]float32, tc.outH*tc.outW*tc.c)
		ResizeBox(got, src, tc.h, tc.w, tc.c, tc.box, tc.outH, tc.outW, nil)
		want := refResize(src, tc.w, tc.c, tc.box, tc.outH, tc.outW)
		if d := maxDiff(t, got, want); d > 1e-5 {
			t.Errorf("%+v: max |ResizeBox − reference| = %.3g", tc, d)
		}
	}
	// The identity copies the pixels exactly: v/255 in float32, as Images.Batch.
	src := randomPixels(rng, 5*6*3)
	got := make([]float32, len(src))
	ResizeBox(got, src, 5, 6, 3, CropBox{0, 0, 6, 5}, 5, 6, nil)
	for i, v := range src {
		if got[i] != byteToUnit[v] {
			t.Fatalf("identity: value %d = %v, want %v", i, got[i], byteToUnit[v])
		}
	}
}

// TestSampleCropBox: every box lies in the image with its area in Scale and its ratio in Ratio (up to the
// rounding to whole pixels) or is the fallback; the same seed gives the same boxes; areas spread over the range.
func TestSampleCropBox(t *testing.T) {
	for _, sz := range [][2]int{{256, 256}, {96, 96}, {480, 640}, {32, 32}} {
		h, w := sz[0], sz[1]
		rng := rand.New(rand.NewPCG(7, uint64(h)))
		lo, hi := 1.0, 0.0
		for range 2000 {
			b := SampleCropBox(rng, h, w, SimCLRCrop)
			if b.W < 1 || b.H < 1 || b.X0 < 0 || b.Y0 < 0 || b.X0+b.W > w || b.Y0+b.H > h {
				t.Fatalf("%d×%d: box %+v outside the image", w, h, b)
			}
			area := float64(b.W*b.H) / float64(w*h)
			ratio := float64(b.W) / float64(b.H)
			// Rounding each side moves the area and ratio by up to about one pixel per side.
			slackA := (float64(b.W+b.H) + 1) / float64(w*h)
			slackR := ratio * (1/float64(b.W) + 1/float64(b.H))
			inRange := area >= 0.08-slackA && area <= 1+slackA && ratio >= 0.75-slackR && ratio <= 4.0/3+slackR
			if !inRange {
				t.Fatalf("%d×%d: box %+v has area %.3f, ratio %.3f", w, h, b, area, ratio)
			}
			lo, hi = math.Min(lo, area), math.Max(hi, area)
		}
		if lo > 0.1 || hi < 0.9 {
			t.Errorf("%d×%d: areas span only [%.3f, %.3f] in 2000 draws", w, h, lo, hi)
		}
	}
	a := SampleCropBox(rand.New(rand.NewPCG(3, 4)), 100, 120, SimCLRCrop)
	b := SampleCropBox(rand.New(rand.NewPCG(3, 4)), 100, 120, SimCLRCrop)
	if a != b {
		t.Errorf("same seed: %+v and %+v", a, b)
	}
	if got := SampleCropBox(rand.New(rand.NewPCG(1, 1)), 30, 40, CropRange{}); got != (CropBox{W: 40, H: 30}) {
		t.Errorf("no crop: %+v, want the whole 40×30 image", got)
	}
	// No draw fits a 1000×10 strip at ratio ≤ 4/3 with area ≥ 8%: the fallback, the centred 13×10 box.
	if got, want := SampleCropBox(rand.New(rand.NewPCG(1, 1)), 10, 1000, SimCLRCrop), (CropBox{X0: 493, Y0: 0, W: 13, H: 10}); got != want {
		t.Errorf("strip fallback: %+v, want %+v", got, want)
	}
}

// TestCentreBox: the box fit keeps (resize the shorter side, centre-crop), on the shapes of TestFolderMixedSizes.
func TestCentreBox(t *testing.T) {
	for _, tc := range []struct {
		h, w, outH, outW int
		want             CropBox
	}{
		{8, 8, 4, 4, CropBox{0, 0, 8, 8}},
		{30, 40, 32, 32, CropBox{5, 0, 30, 30}},
		{41, 30, 32, 32, CropBox{0, 5, 30, 30}},
		{10, 40, 10, 20, CropBox{10, 0, 20, 10}},
		{3, 4, 2, 2, CropBox{0, 0, 3, 3}},
	} {
		if got := CentreBox(tc.h, tc.w, tc.outH, tc.outW); got != tc.want {
			t.Errorf("CentreBox(%d, %d, %d, %d) = %+v, want %+v", tc.h, tc.w, tc.outH, tc.outW, got, tc.want)
		}
	}
}
