package ref

import (
	"math"
	"testing"
)

// pixel returns a 1×1 RGB image.
func pixel(r, g, b float32) []float32 { return []float32{r, g, b} }

// TestImageHue checks the hue rotation: zero is the identity, grays stay gray, a positive shift turns red
// towards green (as an HSV hue increase), and shifts of ±½ turn agree.
func TestImageHue(t *testing.T) {
	hue := func(x []float32, h float32) []float32 {
		return ImageJitter(nil, x, 1, 1, 1, 3, ImageJitterParams{Apply: []float32{1}, Brightness: []float32{1},
			Contrast: []float32{1}, Saturation: []float32{1}, Hue: []float32{h}, Order: []float32{3, 0, 1, 2}})
	}
	x := pixel(0.8, 0.3, 0.1)
	if got := hue(x, 0); relErr(got, x) > 1e-7 {
		t.Errorf("hue 0: %v, want %v", got, x)
	}
	if got := hue(pixel(0.4, 0.4, 0.4), 0.3); relErr(got, pixel(0.4, 0.4, 0.4)) > 1e-6 {
		t.Errorf("hue of gray: %v, want 0.4s", got)
	}
	// HSV: red (0.8, 0, 0) shifted by 1/12 turn (30°) is (0.8, 0.4, 0); the rotation gives about 22°.
	if got := hue(pixel(0.8, 0, 0), 1.0/12); !(got[1] > 0.2 && got[1] > 4*got[2]) {
		t.Errorf("red + 30°: %v, want green up, blue small (HSV gives 0.8, 0.4, 0)", got)
	}
	// A third of a turn maps the RGB axes onto one another: red → green exactly.
	if got := hue(pixel(0.8, 0.1, 0), 1.0/3); relErr(got, pixel(0, 0.8, 0.1)) > 1e-6 {
		t.Errorf("hue ⅓: %v, want (0, 0.8, 0.1)", got)
	}
	if a, b := hue(x, 0.5), hue(x, -0.5); relErr(a, b) > 1e-6 {
		t.Errorf("hue +½ = %v, −½ = %v, want equal", a, b)
	}
}

// TestImageJitterClosedForms checks factor-0 limits and that the order of the ops matters.
func TestImageJitterClosedForms(t *testing.T) {
	x := []float32{0.2, 0.4, 0.6, 0.8, 0.1, 0.3} // 1×2 RGB
	jit := func(order []float32, bright, contrast, sat float32) []float32 {
		return ImageJitter(nil, x, 1, 1, 2, 3, ImageJitterParams{Apply: []float32{1}, Brightness: []float32{bright},
			Contrast: []float32{contrast}, Saturation: []float32{sat}, Hue: []float32{0}, Order: order})
	}
	for name, c := range map[string]struct{ got, want []float32 }{
		"brightness 0": {jit([]float32{0, 1, 2, 3}, 0, 1, 1), make([]float32, 6)},
		"contrast 0":   {jit([]float32{1, 0, 2, 3}, 1, 0, 1), []float32{0.5, 0.25, 0.45, 0.5, 0.25, 0.45}},
		"saturation 0": {jit([]float32{2, 0, 1, 3}, 1, 1, 0), []float32{0.363, 0.363, 0.363, 0.3321, 0.3321, 0.3321}},
		// contrast 0 then brightness 2 gives 2·mean, clipped; brightness 2 first clips 1.2 and 1.6 to 1 before the mean.
		"contrast, brightness": {jit([]float32{1, 0, 2, 3}, 2, 0, 1), []float32{1, 0.5, 0.9, 1, 0.5, 0.9}},
		"brightness, contrast": {jit([]float32{0, 1, 2, 3}, 2, 0, 1), []float32{0.7, 0.5, 0.8, 0.7, 0.5, 0.8}},
	} {
		if relErr(c.got, c.want) > 1e-6 {
			t.Errorf("%s: %v, want %v", name, c.got, c.want)
		}
	}
}

// TestImageCropClosedForms checks crops of a horizontal ramp img[y, x] = x: the full box, the left half
// upsampled ×2 (edge repeated over the outer half pixel) and a centred zoom-out by 2 (zero padding).
func TestImageCropClosedForms(t *testing.T) {
	const h, w = 2, 4
	ramp := make([]float32, h*w)
	for i := range ramp {
		ramp[i] = float32(i % w)
	}
	crop := func(y0, x0, bh, bw float32) []float32 {
		return ImageCrop(nil, ramp, 1, h, w, 1, ImageCropParams{Y0: []float32{y0}, X0: []float32{x0},
			H: []float32{bh}, W: []float32{bw}, OutH: h, OutW: w})
	}
	for name, c := range map[string]struct{ got, want []float32 }{
		"full": {crop(0, 0, h, w), ramp},
		// output column j samples x = (j+½)/2 − ½ = −¼, ¼, ¾, 5/4, clipped at 0
		"left half": {crop(0, 0, h, w/2), []float32{0, 0.25, 0.75, 1.25, 0, 0.25, 0.75, 1.25}},
		// box [−2, 6) × [−1, 3): column j samples x = 2j − 3/2 = −3/2, ½, 5/2, 9/2, the first and last outside
		// [−½, 7/2]; row i samples y = 2i − ½, inside (y = −½ reads row 0)
		"zoom out": {crop(-1, -2, 2*h, 2*w), []float32{0, 0.5, 2.5, 0, 0, 0.5, 2.5, 0}},
	} {
		if relErr(c.got, c.want) > 1e-7 {
			t.Errorf("%s: %v, want %v", name, c.got, c.want)
		}
	}
}

// TestImageBlurClosedForms checks that a blur keeps constant images and a tiny σ is the identity, and the
// reflected border of a 3-tap kernel.
func TestImageBlurClosedForms(t *testing.T) {
	const n = 5
	blur := func(x []float32, sigma float32, r int) []float32 {
		return ImageBlur(nil, x, 1, n, n, 1, ImageBlurParams{Apply: []float32{1}, Sigma: []float32{sigma},
			RadiusY: r, RadiusX: r})
	}
	flat, impulse := make([]float32, n*n), make([]float32, n*n)
	for i := range flat {
		flat[i] = 0.7
	}
	impulse[0] = 1 // corner
	if got := blur(flat, 2, 2); relErr(got, flat) > 1e-7 {
		t.Errorf("blurred constant: %v", got)
	}
	if got := blur(impulse, 0.01, 2); relErr(got, impulse) > 1e-7 {
		t.Errorf("σ = 0.01: %v, want the input", got)
	}
	// 3 taps g = (a, 1−2a, a): index −1 reflects to 1, so K[0] = (1−2a, 2a, 0, …), K[1] = (a, 1−2a, a, …), and a
	// corner impulse becomes out[y, x] = K[y, 0]·K[x, 0].
	sigma := 1.0
	a := math.Exp(-1/(2*sigma*sigma)) / (1 + 2*math.Exp(-1/(2*sigma*sigma)))
	got := blur(impulse, float32(sigma), 1)
	for _, c := range []struct {
		y, x int
		want float64
	}{{0, 0, (1 - 2*a) * (1 - 2*a)}, {0, 1, a * (1 - 2*a)}, {1, 1, a * a}, {0, 2, 0}} {
		if v := float64(got[c.y*n+c.x]); math.Abs(v-c.want) > 1e-7 {
			t.Errorf("corner impulse at (%d, %d) = %g, want %g", c.y, c.x, v, c.want)
		}
	}
}

// TestImageFlipGrayNoise checks flip, grayscale and noise on one 1×2 RGB image.
func TestImageFlipGrayNoise(t *testing.T) {
	x := []float32{0.2, 0.4, 0.6, 0.8, 0.1, 0.3}
	flipped := ImageFlip(nil, x, 1, 1, 2, 3, ImageFlipParams{Apply: []float32{1}})
	if relErr(flipped, []float32{0.8, 0.1, 0.3, 0.2, 0.4, 0.6}) != 0 {
		t.Errorf("flip: %v", flipped)
	}
	gray := ImageGrayscale(nil, x, 1, 1, 2, 3, ImageGrayscaleParams{Apply: []float32{1}})
	if relErr(gray, []float32{0.363, 0.363, 0.363, 0.3321, 0.3321, 0.3321}) > 1e-6 {
		t.Errorf("grayscale: %v", gray)
	}
	noisy := ImageNoise(nil, x, []float32{-0.5, 0.1, 0.1, 0.5, 0, 0})
	if relErr(noisy, []float32{0, 0.5, 0.7, 1, 0.1, 0.3}) > 1e-6 {
		t.Errorf("noise: %v", noisy)
	}
}
