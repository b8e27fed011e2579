package datasets

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors of the image readers. Every error a reader returns wraps one of them (test with errors.Is)
// and names the file and, where there is one, the record index or byte offset.
var (
	// ErrBadMagic: the file does not start with the bytes its format requires.
	ErrBadMagic = errors.New("bad magic number")
	// ErrTruncated: the file ends before the data its header or record size promise.
	ErrTruncated = errors.New("truncated")
	// ErrTrailingData: the file holds more bytes than its header or record size account for.
	ErrTrailingData = errors.New("trailing data")
	// ErrLabelRange: a label is outside the class range of its data set.
	ErrLabelRange = errors.New("label out of range")
	// ErrMismatch: two parts disagree (image and label counts, image sizes, header dimensions).
	ErrMismatch = errors.New("mismatch")
	// ErrTooLarge: a header claims a size beyond what the input could hold or beyond the readers' caps.
	ErrTooLarge = errors.New("claimed size too large")
	// ErrDecode: an image file does not decode.
	ErrDecode = errors.New("cannot decode image")
	// ErrEmpty: a folder or archive holds no images.
	ErrEmpty = errors.New("no images")
	// ErrNotFound: the files of a data set were not found where the loader looked.
	ErrNotFound = errors.New("data set not found")
)

// Images is a labelled image set held in memory as uint8 pixels.
//
// Pixels holds N images of H×W×C bytes each, image-major and HWC inside an image (channel fastest), so pixel
// (x, y, c) of image i is Pixels[((i*H + y)*W + x)*C + c]. C is 1 (gray) or 3 (RGB). Labels[i] is the class
// index of image i in [0, len(Classes)), or -1 for an unlabelled image. Classes names the classes in label order.
// Keeping uint8 costs a quarter of float32; convert per batch with Batch.
type Images struct {
	Name       string   // data set and split, e.g. "mnist/train"
	N, H, W, C int      // number of images, rows, columns, channels
	Pixels     []uint8  // [N, H, W, C]
	Labels     []int    // [N]; -1 = unlabelled
	Classes    []string // class names in label order; nil when unlabelled
	// HeldOut is the fraction of each class that ReadFolder drew into the test split because the folder had
	// no test/ or val/ split of its own (0: the data came split).
	HeldOut float64
}

// ExampleSize returns the number of bytes of one image, H·W·C.
func (m *Images) ExampleSize() int { return m.H * m.W * m.C }

// Example returns the H·W·C pixels of image i in HWC order. The slice shares memory with m.Pixels.
// It panics if i is out of range.
func (m *Images) Example(i int) []uint8 {
	if i < 0 || i >= m.N {
		panic(fmt.Sprintf("datasets: Images.Example: index %d out of range [0, %d)", i, m.N))
	}
	s := m.ExampleSize()
	return m.Pixels[i*s : (i+1)*s : (i+1)*s]
}

// At returns the value of channel c of pixel (x, y) of image i.
func (m *Images) At(i, x, y, c int) uint8 {
	return m.Pixels[((i*m.H+y)*m.W+x)*m.C+c]
}

// byteToUnit maps a byte v to v/255 in float32, exactly as float32(v)/255.
var byteToUnit = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(v) / 255
	}
	return t
}()

// Batch writes images indices[0], indices[1], … into dst as float32 values in [0, 1],
//
//	dst[(k*H + y)*W + x)*C + c] = Pixels of image indices[k] at (x, y, c) / 255
//
// in layout [len(indices), H, W, C], and returns dst[:len(indices)*H*W*C]. When dst is too short a new slice is
// allocated. It panics if an index is out of range.
func (m *Images) Batch(indices []int, dst []float32) []float32 {
	s := m.ExampleSize()
	n := len(indices) * s
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	for k, i := range indices {
		src, out := m.Example(i), dst[k*s:(k+1)*s]
		for j, v := range src {
			out[j] = byteToUnit[v]
		}
	}
	return dst
}

// BatchLabels writes the labels of images indices[0], indices[1], … into dst as int32, the dtype GoMLX wants
// for indices, and returns dst[:len(indices)]. When dst is too short a new slice is allocated.
func (m *Images) BatchLabels(indices []int, dst []int32) []int32 {
	if cap(dst) < len(indices) {
		dst = make([]int32, len(indices))
	}
	dst = dst[:len(indices)]
	for k, i := range indices {
		dst[k] = int32(m.Labels[i])
	}
	return dst
}

// ClassCounts returns the number of images of each class, indexed by label. Unlabelled images are not counted.
func (m *Images) ClassCounts() []int {
	counts := make([]int, len(m.Classes))
	for _, l := range m.Labels {
		if l >= 0 && l < len(counts) {
			counts[l]++
		}
	}
	return counts
}

// Subset returns a new set holding copies of images indices[0], indices[1], … (in that order) under the given
// name; the class list is shared. It panics if an index is out of range.
func (m *Images) Subset(name string, indices []int) *Images {
	s := m.ExampleSize()
	out := &Images{Name: name, N: len(indices), H: m.H, W: m.W, C: m.C,
		Pixels: make([]uint8, len(indices)*s), Labels: make([]int, len(indices)), Classes: m.Classes}
	for k, i := range indices {
		copy(out.Pixels[k*s:], m.Example(i))
		out.Labels[k] = m.Labels[i]
	}
	return out
}

// Validate checks that the fields agree: positive sizes, C ∈ {1, 3}, len(Pixels) = N·H·W·C, len(Labels) = N and
// every label in [0, len(Classes)) or -1. The readers return only sets that pass it.
func (m *Images) Validate() error {
	switch {
	case m.N < 0 || m.H <= 0 || m.W <= 0 || m.H > maxImageSide || m.W > maxImageSide:
		return fmt.Errorf("datasets: %s: bad shape N=%d H=%d W=%d (sides 1..%d): %w", m.Name, m.N, m.H, m.W, maxImageSide, ErrMismatch)
	case m.C != 1 && m.C != 3:
		return fmt.Errorf("datasets: %s: %d channels, want 1 or 3: %w", m.Name, m.C, ErrMismatch)
	case m.N > math.MaxInt/m.ExampleSize() || len(m.Pixels) != m.N*m.ExampleSize():
		return fmt.Errorf("datasets: %s: %d pixel bytes, want N·H·W·C = %d·%d·%d·%d: %w",
			m.Name, len(m.Pixels), m.N, m.H, m.W, m.C, ErrMismatch)
	case len(m.Labels) != m.N:
		return fmt.Errorf("datasets: %s: %d labels for %d images: %w", m.Name, len(m.Labels), m.N, ErrMismatch)
	}
	for i, l := range m.Labels {
		if l < -1 || l >= len(m.Classes) {
			return fmt.Errorf("datasets: %s: image %d: %w: got %d, want -1..%d",
				m.Name, i, ErrLabelRange, l, len(m.Classes)-1)
		}
	}
	return nil
}

// maxImageSide bounds an image's height and width in every reader (a header claiming more is corrupt): it keeps
// H·W·C far from overflowing an int.
const maxImageSide = 1 << 15

// String returns a one-line summary such as "mnist/train: 60000 × 28×28×1, 10 classes".
func (m *Images) String() string {
	return fmt.Sprintf("%s: %d × %d×%d×%d, %d classes", m.Name, m.N, m.H, m.W, m.C, len(m.Classes))
}

// numberedClasses returns the class names "0", "1", …, "n-1".
func numberedClasses(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return names
}
