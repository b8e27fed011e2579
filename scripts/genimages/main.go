// Command genimages writes a synthetic image folder for the streaming benchmark (scripts/stream-bench.sh):
// --n JPEG (or PNG) images of --size×--size pixels in --classes class folders, OUT/class_KK/img_NNNNNN.jpg.
// Each class has its own stripe orientation, frequency and hue; each image its own phase, contrast, gradient,
// a few coloured discs and pixel noise, all drawn from PCG(--seed, image index), so the folder is the same on
// every machine and JPEG sizes are those of textured photos (about 20–30 kB at 256×256, quality 90).
//
//	go run ./scripts/genimages --out /tmp/photos --n 20000 --size 256
package main

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/spf13/pflag"
)

func main() {
	fs := pflag.NewFlagSet("genimages", pflag.ContinueOnError)
	fs.SortFlags = false
	out := fs.String("out", "", "folder to write (created; must not hold images already)")
	n := fs.Int("n", 20000, "number of images")
	size := fs.Int("size", 256, "side of the square images in pixels")
	classes := fs.Int("classes", 10, "number of class folders")
	format := fs.String("format", "jpeg", "jpeg or png")
	quality := fs.Int("quality", 90, "JPEG quality 1–100")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "genimages:", err)
		os.Exit(2)
	}
	switch {
	case *out == "":
		usage("--out is required")
	case *n < 1 || *size < 8 || *size > 8192 || *classes < 1 || *classes > 1000:
		usage(fmt.Sprintf("want --n ≥ 1, --size 8..8192 and --classes 1..1000, got %d, %d, %d", *n, *size, *classes))
	case *format != "jpeg" && *format != "png":
		usage(fmt.Sprintf("--format must be jpeg or png, got %q", *format))
	case *quality < 1 || *quality > 100:
		usage(fmt.Sprintf("--quality must be 1..100, got %d", *quality))
	}
	if err := write(*out, *n, *size, *classes, *format, *quality, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genimages:", err)
		os.Exit(1)
	}
}

func usage(msg string) {
	fmt.Fprintln(os.Stderr, "genimages:", msg)
	os.Exit(2)
}

// write generates the images on GOMAXPROCS goroutines; image i is of class i mod classes.
func write(out string, n, size, classes int, format string, quality int, seed uint64) error {
	for c := range classes {
		if err := os.MkdirAll(filepath.Join(out, fmt.Sprintf("class_%02d", c)), 0o755); err != nil {
			return err
		}
	}
	ext := map[string]string{"jpeg": ".jpg", "png": ".png"}[format]
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			img := image.NewRGBA(image.Rect(0, 0, size, size))
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c := i % classes
				draw(img, c, classes, rand.New(rand.NewPCG(seed, uint64(i))))
				path := filepath.Join(out, fmt.Sprintf("class_%02d", c), fmt.Sprintf("img_%06d%s", i, ext))
				if err := save(path, img, format, quality); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func save(path string, img image.Image, format string, quality int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if format == "png" {
		err = png.Encode(w, img)
	} else {
		err = jpeg.Encode(w, img, &jpeg.Options{Quality: quality})
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// draw paints one image of class c: stripes of the class's orientation, frequency and hue over a gradient,
// three to six discs, and noise.
func draw(img *image.RGBA, c, classes int, rng *rand.Rand) {
	s := img.Rect.Dx()
	theta := math.Pi*float64(c)/float64(classes) + 0.15*(rng.Float64()-0.5)
	freq := 2 * math.Pi * (3 + float64(c%4)*2 + rng.Float64()) / float64(s)
	phase, contrast := 2*math.Pi*rng.Float64(), 40+50*rng.Float64()
	hue := [3]float64{0.5 + 0.5*math.Cos(2*math.Pi*float64(c)/float64(classes)),
		0.5 + 0.5*math.Cos(2*math.Pi*float64(c)/float64(classes)+2),
		0.5 + 0.5*math.Cos(2*math.Pi*float64(c)/float64(classes)+4)}
	gx, gy := 60*(rng.Float64()-0.5), 60*(rng.Float64()-0.5)
	type disc struct {
		x, y, r float64
		col     [3]float64
	}
	discs := make([]disc, 3+rng.IntN(4))
	for k := range discs {
		discs[k] = disc{rng.Float64() * float64(s), rng.Float64() * float64(s), float64(s) * (0.04 + 0.12*rng.Float64()),
			[3]float64{255 * rng.Float64(), 255 * rng.Float64(), 255 * rng.Float64()}}
	}
	cos, sin := math.Cos(theta), math.Sin(theta)
	for y := range s {
		for x := range s {
			u := float64(x)*cos + float64(y)*sin
			v := contrast * math.Sin(freq*u+phase)
			base := 128 + gx*float64(x)/float64(s) + gy*float64(y)/float64(s)
			px := [3]float64{}
			for ch := range 3 {
				px[ch] = base*0.6 + hue[ch]*(80+v)
			}
			for _, d := range discs {
				if dx, dy := float64(x)-d.x, float64(y)-d.y; dx*dx+dy*dy < d.r*d.r {
					px = d.col
				}
			}
			var rgb [3]uint8
			for ch := range 3 {
				rgb[ch] = uint8(min(max(px[ch]+12*rng.NormFloat64(), 0), 255))
			}
			img.SetRGBA(x, y, color.RGBA{rgb[0], rgb[1], rgb[2], 255})
		}
	}
}
