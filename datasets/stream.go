package datasets

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// Stream is an image set that stays in its files: each batch reads and decodes its images at full resolution,
// on a pool of goroutines, and resizes them to H×W on the host, so that memory holds a few batches, never the
// set. Views draws SimCLR's two random resized crops of each image (Crop) from the full-resolution image;
// Fill gives centre crops, for evaluation. Loader assembles the batches of a run ahead of its steps.
//
// An image that cannot be read or decoded is skipped, not fatal (a long run should not die on one bad file
// among millions): it is replaced by the next image of the set that decodes (index i+1, i+2, … modulo N, so
// the replacement is the same in every run), Warn receives one line naming the file and the error, and
// Skipped counts such files. Only a set none of whose images decodes is an error.
type Stream struct {
	Name    string
	N       int
	H, W, C int      // every image of a batch: H×W pixels, C = 1 (gray) or 3 (RGB)
	Labels  []int    // [N]; −1 = unlabelled
	Classes []string // class names in label order; nil when unlabelled
	HeldOut float64  // as Images.HeldOut
	Crop    CropRange
	Workers int       // decoding goroutines of a batch; 0: runtime.GOMAXPROCS
	Warn    io.Writer // if not nil, one line per skipped file

	src     imageSource
	mu      sync.Mutex
	bad     map[int]bool
	skipped atomic.Int64
	scratch sync.Pool // *scratch
}

// imageSource reads the images of a Stream by index.
type imageSource interface {
	// name names image i in messages (a file path, or a file and record).
	name(i int) string
	// load decodes image i at full resolution as 8-bit RGB in HWC order into buf (grown as needed) and returns
	// its pixels, size and whether it is gray (R = G = B).
	load(i int, buf []uint8) (pix []uint8, h, w int, gray bool, err error)
	close() error
}

// scratch is one worker's buffers: the decoded image and ResizeBox's intermediate rows.
type scratch struct {
	pix []uint8
	tmp []float32
}

// ExampleSize returns the number of values of one image of a batch, H·W·C.
func (s *Stream) ExampleSize() int { return s.H * s.W * s.C }

// Skipped returns the number of files skipped so far because they could not be read or decoded.
func (s *Stream) Skipped() int { return int(s.skipped.Load()) }

// String returns a one-line summary such as "photos/train: 18000 × 96×96×3 (streamed), 10 classes".
func (s *Stream) String() string {
	return fmt.Sprintf("%s: %d × %d×%d×%d (streamed), %d classes", s.Name, s.N, s.H, s.W, s.C, len(s.Classes))
}

// Close releases the files the stream holds open.
func (s *Stream) Close() error { return s.src.close() }

// Fill writes the centre crops (CentreBox, resized to H×W: "resize the shorter side, centre-crop") of images
// idx[0], idx[1], … into dst as float32 in [0, 1], layout [len(idx), H, W, C], as Images.Batch does.
func (s *Stream) Fill(idx []int, dst []float32) error {
	sz := s.ExampleSize()
	return s.each(len(idx), func(k int, sc *scratch) error {
		pix, h, w, err := s.decode(idx[k], sc)
		if err != nil {
			return err
		}
		sc.tmp = ResizeBox(dst[k*sz:(k+1)*sz], pix, h, w, s.C, CentreBox(h, w, s.H, s.W), s.H, s.W, sc.tmp)
		return nil
	})
}

// Views writes two random resized crops (Crop, drawn by ViewBoxes) of each of images idx[0], idx[1], …, each
// resized to H×W, into dst as float32 in [0, 1], layout [len(idx), 2, H, W, C]: dst[k, v] is view v of image
// idx[k]. They depend only on seed, step, k and the image, so a resumed run draws the same views.
func (s *Stream) Views(step int, seed uint64, idx []int, dst []float32) error {
	sz := s.ExampleSize()
	return s.each(len(idx), func(k int, sc *scratch) error {
		pix, h, w, err := s.decode(idx[k], sc)
		if err != nil {
			return err
		}
		for v, box := range s.ViewBoxes(seed, step, k, h, w) {
			out := dst[(2*k+v)*sz : (2*k+v+1)*sz]
			sc.tmp = ResizeBox(out, pix, h, w, s.C, box, s.H, s.W, sc.tmp)
		}
		return nil
	})
}

// ViewBoxes returns the crop boxes of the two views of the image (h×w) at position k of the batch of step:
// SampleCropBox twice, from math/rand/v2's PCG seeded with (seed ⊕ 0x243f6a8885a308d3, step·2³² + k).
func (s *Stream) ViewBoxes(seed uint64, step, k, h, w int) [2]CropBox {
	rng := rand.New(rand.NewPCG(seed^0x243f6a8885a308d3, uint64(step)<<32|uint64(k)))
	return [2]CropBox{SampleCropBox(rng, h, w, s.Crop), SampleCropBox(rng, h, w, s.Crop)}
}

// decode returns image i at full resolution with C channels, or the replacement of a bad file (see Stream).
func (s *Stream) decode(i int, sc *scratch) (pix []uint8, h, w int, err error) {
	for t := range s.N {
		j := (i + t) % s.N
		if s.isBad(j) {
			continue
		}
		pix, h, w, gray, err := s.src.load(j, sc.pix)
		if err != nil {
			s.markBad(j, err)
			continue
		}
		sc.pix = pix
		if s.C == 1 {
			rgbToGray(pix[:h*w], pix, gray)
			pix = pix[:h*w]
		}
		return pix, h, w, nil
	}
	return nil, 0, 0, fmt.Errorf("datasets: %s: none of its %d images can be read and decoded: %w", s.Name, s.N, ErrDecode)
}

func (s *Stream) isBad(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad[i]
}

func (s *Stream) markBad(i int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bad[i] {
		return
	}
	if s.bad == nil {
		s.bad = map[int]bool{}
	}
	s.bad[i] = true
	n := s.skipped.Add(1)
	if s.Warn != nil {
		fmt.Fprintf(s.Warn, "warning: skipping %s (%d skipped so far; the next image that decodes takes its place): %v\n", s.src.name(i), n, err)
	}
}

// each runs fn(k) for k = 0 … n−1 on min(n, Workers) goroutines, each with its own scratch, and returns the
// first error.
func (s *Stream) each(n int, fn func(k int, sc *scratch) error) error {
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var first error
	var once sync.Once
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Go(func() {
			sc, _ := s.scratch.Get().(*scratch)
			if sc == nil {
				sc = &scratch{}
			}
			defer s.scratch.Put(sc)
			for !failed.Load() {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				if err := fn(k, sc); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return first
}
