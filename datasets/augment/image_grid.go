package augment

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
)

// gridGap is the white gap, in output pixels, around and between the cells of a grid.
const gridGap = 2

// Grid lays out one row per original image: the original, then its augmented views, on a white background with
// a gap of gridGap pixels around every cell. originals[i] and views[i][k] are h×w×c float32 images in [0, 1]
// (HWC, c = 1 or 3; values outside are clipped); rows may have different numbers of views. Images whose larger
// side is under 64 pixels are upscaled ×2 by pixel repetition. The result is
//
//	width  = cols·s·w + (cols+1)·gridGap,  cols = 1 + max_i len(views[i])
//	height = rows·s·h + (rows+1)·gridGap,  rows = len(originals),  s = 2 or 1
func Grid(originals [][]float32, views [][][]float32, h, w, c int) (*image.NRGBA, error) {
	if h < 1 || w < 1 || (c != 1 && c != 3) {
		return nil, fmt.Errorf("augment: grid of %d×%d×%d images: want h, w ≥ 1 and c = 1 or 3", h, w, c)
	}
	if len(views) != len(originals) {
		return nil, fmt.Errorf("augment: grid: %d originals but views for %d", len(originals), len(views))
	}
	s := 1
	if max(h, w) < 64 {
		s = 2
	}
	cols := 1
	for _, v := range views {
		cols = max(cols, 1+len(v))
	}
	rows := len(originals)
	img := image.NewNRGBA(image.Rect(0, 0, cols*s*w+(cols+1)*gridGap, rows*s*h+(rows+1)*gridGap))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for r, orig := range originals {
		for k, x := range append([][]float32{orig}, views[r]...) {
			if len(x) != h*w*c {
				return nil, fmt.Errorf("augment: grid row %d image %d has %d values, want %d×%d×%d", r, k, len(x), h, w, c)
			}
			x0, y0 := gridGap+k*(s*w+gridGap), gridGap+r*(s*h+gridGap)
			for y := range s * h {
				for xx := range s * w {
					p := x[((y/s)*w+xx/s)*c:]
					img.SetNRGBA(x0+xx, y0+y, color.NRGBA{R: toByte(p[0]), G: toByte(p[(c-1)/2]), B: toByte(p[c-1]), A: 0xff})
				}
			}
		}
	}
	return img, nil
}

// toByte maps [0, 1] to 0…255, rounding, clipping values outside.
func toByte(v float32) uint8 { return uint8(min(max(v, 0), 1)*255 + 0.5) }

// WriteGrid writes Grid(originals, views, h, w, c) as a PNG file at path.
func WriteGrid(path string, originals [][]float32, views [][][]float32, h, w, c int) error {
	img, err := Grid(originals, views, h, w, c)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("augment: write grid: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("augment: write grid %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("augment: write grid: %w", err)
	}
	return nil
}
