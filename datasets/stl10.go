package datasets

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// STL10Classes are the STL-10 class names in label order (after subtracting 1), as in class_names.txt; used
// when that file is absent.
var STL10Classes = []string{"airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"}

// STL-10 binary layout (Coates et al. 2011, the data set's page): headerless 96×96×3 uint8 images of 27 648
// bytes, one plane per channel (R, G, B), each plane column-major, so pixel (x=col, y=row, c) of image k is at
//
//	k·27648 + c·9216 + x·96 + y
//
// *_y.bin files hold one byte per image, labels 1..10.
const (
	stlSide  = 96
	stlPlane = stlSide * stlSide
	stlImage = 3 * stlPlane
)

// stlToHWC converts one STL-10 image src (column-major planes) to HWC rows in dst.
func stlToHWC(dst, src []uint8) {
	_, _ = dst[stlImage-1], src[stlImage-1]
	for c := range 3 {
		plane := src[c*stlPlane : (c+1)*stlPlane]
		for x := range stlSide {
			col := plane[x*stlSide : (x+1)*stlSide]
			for y, v := range col {
				dst[(y*stlSide+x)*3+c] = v
			}
		}
	}
}

// ParseSTL10 parses a labelled STL-10 split from the contents of its X file (images) and y file (labels
// 1..10, stored as 0..9), gzipped or not; name is used in error messages and as the set's Name, and the files
// are called name+"_X" and name+"_y" there. The X file must hold exactly one image per label (ErrTruncated,
// ErrTrailingData); a label outside 1..10 is ErrLabelRange. Classes are STL10Classes.
func ParseSTL10(name string, x, y []byte) (*Images, error) {
	return parseSTL10(name+"_X", x, name+"_y", y, name)
}

func parseSTL10(xName string, x []byte, yName string, y []byte, name string) (*Images, error) {
	x, err := maybeGunzip(xName, x)
	if err != nil {
		return nil, err
	}
	if y, err = maybeGunzip(yName, y); err != nil {
		return nil, err
	}
	n := len(y)
	if n == 0 {
		return nil, fmt.Errorf("datasets: read %s: empty label file: %w", yName, ErrTruncated)
	}
	if int64(len(x)) != int64(n)*stlImage {
		return nil, sizeError(xName, int64(len(x)), int64(n)*stlImage,
			fmt.Sprintf("%d images of 96×96×3 (one per label in %s)", n, yName))
	}
	m := &Images{Name: name, N: n, H: stlSide, W: stlSide, C: 3, Pixels: make([]uint8, len(x)),
		Labels: make([]int, n), Classes: STL10Classes}
	for i, l := range y {
		if l < 1 || l > 10 {
			return nil, fmt.Errorf("datasets: read %s: record %d (offset %d): %w: got %d, want 1..10",
				yName, i, i, ErrLabelRange, l)
		}
		m.Labels[i] = int(l) - 1
		stlToHWC(m.Pixels[i*stlImage:(i+1)*stlImage], x[i*stlImage:(i+1)*stlImage])
	}
	return m, nil
}

// ReadSTL10 reads a labelled STL-10 split from its X and y files (train_X.bin and train_y.bin, or test_…).
// Class names come from class_names.txt beside xPath when present, else STL10Classes.
func ReadSTL10(xPath, yPath string) (*Images, error) {
	x, err := os.ReadFile(xPath)
	if err != nil {
		return nil, fmt.Errorf("datasets: read %s: %w", xPath, err)
	}
	y, err := os.ReadFile(yPath)
	if err != nil {
		return nil, fmt.Errorf("datasets: read %s: %w", yPath, err)
	}
	m, err := parseSTL10(xPath, x, yPath, y, "stl10")
	if err != nil {
		return nil, err
	}
	names := filepath.Join(filepath.Dir(xPath), "class_names.txt")
	if b, err := os.ReadFile(names); err == nil {
		if m.Classes, err = classNames(names, b, 10); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ReadSTL10Dir reads the labelled train (5 000) and test (8 000) splits of the STL-10 binary release from the
// folder holding train_X.bin, train_y.bin, test_X.bin and test_y.bin, from a folder holding stl10_binary/, or
// from stl10_binary.tar.gz (path itself or inside path; slow, see readSTL10Archive). The unlabelled images are
// not read: open them with OpenSTL10Unlabeled.
func ReadSTL10Dir(path string) (train, test *Images, err error) {
	var looked []string
	for _, dir := range []string{path, filepath.Join(path, "stl10_binary")} {
		looked = append(looked, dir)
		if _, err := os.Stat(filepath.Join(dir, "train_X.bin")); err != nil {
			continue
		}
		var sets [2]*Images
		for k, split := range []string{"train", "test"} {
			if sets[k], err = ReadSTL10(filepath.Join(dir, split+"_X.bin"), filepath.Join(dir, split+"_y.bin")); err != nil {
				return nil, nil, err
			}
			sets[k].Name = "stl10/" + split
		}
		return sets[0], sets[1], nil
	}
	for _, a := range []string{path, filepath.Join(path, "stl10_binary.tar.gz")} {
		if st, err := os.Stat(a); err == nil && st.Mode().IsRegular() {
			return readSTL10Archive(a)
		}
		looked = append(looked, a)
	}
	return nil, nil, fmt.Errorf("datasets: stl10: no train_X.bin or stl10_binary.tar.gz in %s: %w",
		joinLooked(looked), ErrNotFound)
}

// readSTL10Archive streams the official archive (tar, gzipped or not) and reads its labelled splits. The
// unlabelled member is skipped, but gunzipping past it takes a while: unpack the archive once instead.
func readSTL10Archive(archive string) (train, test *Images, err error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: read %s: %w", archive, err)
	}
	defer f.Close()
	files := []string{"train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin", "class_names.txt"}
	members, err := readTarMembers(archive, f, files)
	if err != nil {
		return nil, nil, err
	}
	for _, b := range files[:4] {
		if _, ok := members[b]; !ok {
			return nil, nil, fmt.Errorf("datasets: read %s: no member %s: %w", archive, b, ErrNotFound)
		}
	}
	var sets [2]*Images
	for k, split := range []string{"train", "test"} {
		x, y := archive+":"+split+"_X.bin", archive+":"+split+"_y.bin"
		if sets[k], err = parseSTL10(x, members[split+"_X.bin"], y, members[split+"_y.bin"], "stl10/"+split); err != nil {
			return nil, nil, err
		}
		if names, ok := members["class_names.txt"]; ok {
			if sets[k].Classes, err = classNames(archive+":class_names.txt", names, 10); err != nil {
				return nil, nil, err
			}
		}
	}
	return sets[0], sets[1], nil
}

// STL10Unlabeled gives access to STL-10's 100 000 unlabelled images (unlabeled_X.bin, 2.76 GB) without loading
// them: each image is read on demand with ReadAt at offset i·27648. It is safe for concurrent use when its
// io.ReaderAt is (an *os.File is).
type STL10Unlabeled struct {
	name string
	r    io.ReaderAt
	n    int
	file *os.File // non-nil when opened by OpenSTL10Unlabeled
}

// OpenSTL10Unlabeled opens the unlabelled STL-10 images: path is unlabeled_X.bin itself (or unlabeled.bin, its
// name on the data set's page), or a folder holding it, directly or in stl10_binary/. The file's size must be
// a non-zero multiple of 27 648 (ErrTruncated otherwise). Close it when done.
func OpenSTL10Unlabeled(path string) (*STL10Unlabeled, error) {
	var looked []string
	candidates := []string{path}
	for _, dir := range []string{path, filepath.Join(path, "stl10_binary")} {
		candidates = append(candidates, filepath.Join(dir, "unlabeled_X.bin"), filepath.Join(dir, "unlabeled.bin"))
	}
	for _, p := range candidates {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			looked = append(looked, p)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("datasets: read %s: %w", p, err)
		}
		u, err := NewSTL10Unlabeled(p, f, st.Size())
		if err != nil {
			f.Close()
			return nil, err
		}
		u.file = f
		return u, nil
	}
	return nil, fmt.Errorf("datasets: stl10: no unlabeled_X.bin in %s: %w", joinLooked(looked), ErrNotFound)
}

// NewSTL10Unlabeled reads unlabelled STL-10 images from r, which holds size bytes; name is used in errors.
// size must be a non-zero multiple of 27 648.
func NewSTL10Unlabeled(name string, r io.ReaderAt, size int64) (*STL10Unlabeled, error) {
	if size <= 0 || size%stlImage != 0 {
		return nil, fmt.Errorf("datasets: read %s: %d bytes is not a whole, non-zero number of %d-byte images (record %d at offset %d is incomplete): %w",
			name, size, stlImage, size/stlImage, size-size%stlImage, ErrTruncated)
	}
	return &STL10Unlabeled{name: name, r: r, n: int(size / stlImage)}, nil
}

// Len returns the number of images (100 000 in the real file).
func (u *STL10Unlabeled) Len() int { return u.n }

// Shape returns the size of one image: H = W = 96, C = 3.
func (u *STL10Unlabeled) Shape() (h, w, c int) { return stlSide, stlSide, 3 }

// Example reads image i into dst in HWC order (96·96·3 bytes, allocated when dst is too short) and returns it.
func (u *STL10Unlabeled) Example(i int, dst []uint8) ([]uint8, error) {
	if cap(dst) < stlImage {
		dst = make([]uint8, stlImage)
	}
	dst = dst[:stlImage]
	raw := make([]uint8, stlImage)
	if err := u.readRaw(i, raw); err != nil {
		return nil, err
	}
	stlToHWC(dst, raw)
	return dst, nil
}

// readRaw reads the stored (column-major) bytes of image i.
func (u *STL10Unlabeled) readRaw(i int, raw []uint8) error {
	if i < 0 || i >= u.n {
		return fmt.Errorf("datasets: read %s: image %d out of range [0, %d)", u.name, i, u.n)
	}
	off := int64(i) * stlImage
	if _, err := u.r.ReadAt(raw, off); err != nil {
		return fmt.Errorf("datasets: read %s: record %d (offset %d): %w", u.name, i, off, err)
	}
	return nil
}

// Batch reads images indices[0], indices[1], … and writes them into dst as float32 in [0, 1] (v/255), layout
// [len(indices), 96, 96, 3], and returns dst[:len(indices)·27648], allocated when dst is too short.
func (u *STL10Unlabeled) Batch(indices []int, dst []float32) ([]float32, error) {
	n := len(indices) * stlImage
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	raw, hwc := make([]uint8, stlImage), make([]uint8, stlImage)
	for k, i := range indices {
		if err := u.readRaw(i, raw); err != nil {
			return nil, err
		}
		stlToHWC(hwc, raw)
		out := dst[k*stlImage : (k+1)*stlImage]
		for j, v := range hwc {
			out[j] = byteToUnit[v]
		}
	}
	return dst, nil
}

// Close closes the file opened by OpenSTL10Unlabeled; it does nothing for a reader given to NewSTL10Unlabeled.
func (u *STL10Unlabeled) Close() error {
	if u.file == nil {
		return nil
	}
	return u.file.Close()
}
