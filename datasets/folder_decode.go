package datasets

import (
	"bytes"
	"fmt"
	"golang.org/x/image/draw"
	"image"
	"image/color"
	_ "image/jpeg" // register the JPEG decoder for image.Decode
	_ "image/png"  // register the PNG decoder for image.Decode
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
)

// Caps on a decoded image, checked with image.DecodeConfig before any pixel is allocated: at most
// maxImagePixels pixels, and at most maxPixelsPerByte pixels per byte of the file (plus a small allowance).
// Deflate and baseline JPEG cannot describe a real image much more densely than about 350 pixels per byte
// (a flat 4096×4096 image), so a denser header is a corrupt or hostile file, not an image.
const (
	maxImagePixels   = 1 << 28
	maxPixelsPerByte = 2048
)

// decodeImage decodes a PNG or JPEG file (format sniffed from its content); name is used in errors.
func decodeImage(name string, data []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("datasets: read %s: %w: %w", name, ErrDecode, err)
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if px > maxImagePixels || px > maxPixelsPerByte*int64(len(data))+1<<16 {
		return nil, fmt.Errorf("datasets: read %s: header claims %d×%d pixels in %d bytes: %w",
			name, cfg.Width, cfg.Height, len(data), ErrTooLarge)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("datasets: read %s: %w: %w", name, ErrDecode, err)
	}
	return img, nil
}

// decodeAll decodes the samples, in order, into one set of the size of the first image, on
// runtime.GOMAXPROCS goroutines. Each image is first written as RGB (HWC); the set becomes gray (C = 1) when
// channels is 1, or 0 and every image is gray. read loads an entry whose data is nil (from root).
//
// size > 0 makes every image size×size; with 0 the first image's size is the set's. An image of another size
// is resized to cover it and centre-cropped (fit).
func decodeAll(root string, samples []sample, read func(string) ([]byte, error), channels, size int) (*Images, error) {
	n := len(samples)
	load := func(i int) (image.Image, string, error) {
		e := samples[i].entry
		name := root + ":" + e.rel // archive:member
		data := e.data
		if read != nil {
			name = filepath.Join(root, filepath.FromSlash(e.rel))
		}
		if data == nil {
			var err error
			if data, err = read(e.rel); err != nil {
				return nil, name, fmt.Errorf("datasets: read %s: %w", name, err)
			}
		}
		e.data = nil // decoded once; let the archive's bytes go
		img, err := decodeImage(name, data)
		return img, name, err
	}
	first, _, err := load(0)
	if err != nil {
		return nil, err
	}
	h, w := first.Bounds().Dy(), first.Bounds().Dx()
	if size > 0 {
		h, w = size, size
		first = fit(first, w, h)
	}
	imgBytes := h * w * 3
	if imgBytes == 0 || int64(n)*int64(imgBytes) > maxInMemory {
		return nil, fmt.Errorf("datasets: read %s: %d images of %d×%d pixels: %w", root, n, w, h, ErrTooLarge)
	}
	m := &Images{N: n, H: h, W: w, C: 3, Pixels: make([]uint8, n*imgBytes), Labels: make([]int, n)}
	gray := make([]bool, n)
	gray[0] = toRGB(m.Pixels[:imgBytes], first)
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i >= n || failed.Load() {
					return
				}
				img, _, err := load(i)
				if err == nil {
					img = fit(img, w, h)
				}
				if err != nil {
					errs[i] = err
					failed.Store(true)
					return
				}
				gray[i] = toRGB(m.Pixels[i*imgBytes:(i+1)*imgBytes], img)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for i, s := range samples {
		m.Labels[i] = s.label
	}
	allGray := true
	for _, g := range gray {
		allGray = allGray && g
	}
	if channels == 1 || (channels == 0 && allGray) {
		m.toGray(gray)
	}
	return m, nil
}

// toGray converts the RGB set m to one channel in place: gray images (gray[i]) keep their R value (R = G = B),
// colour ones get color.GrayModel's luma of their 8-bit values widened to 16 bits (v·0x101),
//
//	Y = (19595·R + 38470·G + 7471·B + 2¹⁵) >> 24.
func (m *Images) toGray(gray []bool) {
	px := m.H * m.W
	for i := range m.N {
		rgbToGray(m.Pixels[i*px:(i+1)*px], m.Pixels[i*px*3:(i+1)*px*3], gray[i]) // dst starts at or before src
	}
	m.C, m.Pixels = 1, m.Pixels[:m.N*px]
}

// rgbToGray writes the one-channel version of the RGB pixels src into dst (len(src)/3 bytes; dst may start at
// or before src in the same array): R when the image is gray (R = G = B), else Images.toGray's luma.
func rgbToGray(dst, src []uint8, gray bool) {
	for j := range dst {
		if gray {
			dst[j] = src[3*j]
			continue
		}
		r, g, b := uint32(src[3*j])*0x101, uint32(src[3*j+1])*0x101, uint32(src[3*j+2])*0x101
		dst[j] = uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 24)
	}
}

// toRGB writes img as 8-bit RGB in HWC order into dst (len = 3·W·H) and reports whether img is gray (its
// colour model is color.GrayModel or color.Gray16Model). Alpha is composited onto black (the premultiplied
// values of color.RGBA), and 16-bit samples keep their high byte. YCbCr, Gray and RGBA images take fast paths
// that give the same bytes as the generic img.At(x, y).RGBA() >> 8.
func toRGB(dst []uint8, img image.Image) (gray bool) {
	b := img.Bounds()
	w := b.Dx()
	switch im := img.(type) {
	case *image.YCbCr:
		// Chroma subsampling as shifts of x and y (image.YCbCr.COffset, without a call per pixel).
		sx, sy := 0, 0
		switch im.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
		case image.YCbCrSubsampleRatio422:
			sx = 1
		case image.YCbCrSubsampleRatio420:
			sx, sy = 1, 1
		case image.YCbCrSubsampleRatio440:
			sy = 1
		default:
			return toRGBGeneric(dst, img)
		}
		if im.Rect.Min.X < 0 || im.Rect.Min.Y < 0 {
			return toRGBGeneric(dst, img) // shifts round differently from COffset's division below 0
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			yRow := im.Y[im.YOffset(b.Min.X, y):][:w]
			cOff := (y>>sy-im.Rect.Min.Y>>sy)*im.CStride - im.Rect.Min.X>>sx
			row := dst[(y-b.Min.Y)*w*3:][:3*w]
			for i, yy := range yRow {
				ci := cOff + (b.Min.X+i)>>sx
				row[3*i], row[3*i+1], row[3*i+2] = color.YCbCrToRGB(yy, im.Cb[ci], im.Cr[ci])
			}
		}
		return false
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src, row := im.Pix[im.PixOffset(b.Min.X, y):], dst[(y-b.Min.Y)*w*3:]
			for x := range w {
				row[3*x], row[3*x+1], row[3*x+2] = src[x], src[x], src[x]
			}
		}
		return true
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src, row := im.Pix[im.PixOffset(b.Min.X, y):], dst[(y-b.Min.Y)*w*3:]
			for x := range w {
				row[3*x], row[3*x+1], row[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
			}
		}
		return false
	}
	return toRGBGeneric(dst, img)
}

// toRGBGeneric is toRGB for any image: img.At(x, y).RGBA() >> 8.
func toRGBGeneric(dst []uint8, img image.Image) (gray bool) {
	b := img.Bounds()
	w := b.Dx()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := dst[(y-b.Min.Y)*w*3:]
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			o := 3 * (x - b.Min.X)
			row[o], row[o+1], row[o+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
		}
	}
	return img.ColorModel() == color.GrayModel || img.ColorModel() == color.Gray16Model
}

// split returns the first nTrain images of m and the rest as two sets sharing m's pixels and classes.
func (m *Images) split(nTrain int) (train, test *Images) {
	s := m.ExampleSize()
	cut := nTrain * s
	train = &Images{N: nTrain, H: m.H, W: m.W, C: m.C, Pixels: m.Pixels[:cut:cut],
		Labels: m.Labels[:nTrain:nTrain], Classes: m.Classes}
	test = &Images{N: m.N - nTrain, H: m.H, W: m.W, C: m.C, Pixels: m.Pixels[cut:],
		Labels: m.Labels[nTrain:], Classes: m.Classes}
	return train, test
}

// fit returns img as w×h: itself when it has that size, else resized with Catmull-Rom (golang.org/x/image/draw)
// so that it covers w×h, its shorter side (relative to the target's shape) matching, and centre-cropped. Gray
// images stay gray.
func fit(img image.Image, w, h int) image.Image {
	b := img.Bounds()
	iw, ih := b.Dx(), b.Dy()
	if iw == w && ih == h {
		return img
	}
	// The centred region of img with the target's aspect ratio: full height and a narrower width, or the
	// other way round.
	src := b
	if iw*h > ih*w { // wider than the target
		cw := (ih*w + h/2) / h
		src.Min.X += (iw - cw) / 2
		src.Max.X = src.Min.X + cw
	} else {
		ch := (iw*h + w/2) / w
		src.Min.Y += (ih - ch) / 2
		src.Max.Y = src.Min.Y + ch
	}
	var dst draw.Image = image.NewRGBA(image.Rect(0, 0, w, h))
	if _, gray := img.(*image.Gray); gray {
		dst = image.NewGray(image.Rect(0, 0, w, h))
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, src, draw.Src, nil)
	return dst
}
