package datasets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// STL10Splits are the values of LoadOptions.Split (--split) for stl10: the labelled train split (5 000
// images), the unlabelled images (100 000), or both, unlabelled first.
var STL10Splits = []string{"train", "unlabeled", "unlabeled+train"}

// stlSource reads STL-10 images from headerless X files (unlabeled_X.bin, train_X.bin), one after the other.
type stlSource struct{ parts []*STL10Unlabeled }

func (s stlSource) locate(i int) (*STL10Unlabeled, int) {
	for _, p := range s.parts {
		if i < p.n {
			return p, i
		}
		i -= p.n
	}
	panic(fmt.Sprintf("datasets: STL-10 image %d out of range", i))
}

func (s stlSource) name(i int) string {
	p, j := s.locate(i)
	return fmt.Sprintf("%s record %d (offset %d)", p.name, j, int64(j)*stlImage)
}

// load reads the image's stored bytes into the second half of buf and converts them to HWC in the first.
func (s stlSource) load(i int, buf []uint8) ([]uint8, int, int, bool, error) {
	p, j := s.locate(i)
	if cap(buf) < 2*stlImage {
		buf = make([]uint8, 2*stlImage)
	}
	buf = buf[:2*stlImage]
	if err := p.readRaw(j, buf[stlImage:]); err != nil {
		return buf, 0, 0, false, err
	}
	stlToHWC(buf[:stlImage], buf[stlImage:])
	return buf[:stlImage], stlSide, stlSide, false, nil
}

func (s stlSource) close() error {
	var errs []error
	for _, p := range s.parts {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// OpenSTL10Stream opens an STL-10 split (STL10Splits) of the binary release in dir (or dir/stl10_binary) as a
// Stream of 96×96×3 images read in place with ReadAt, never loaded whole: "unlabeled" is unlabeled_X.bin
// (label −1), "train" train_X.bin with the labels of train_y.bin (1..10, stored 0..9), "unlabeled+train" the
// one then the other. Classes come from class_names.txt when present, else STL10Classes. The views are
// SimCLRCrop crops of the 96×96 images resized back to 96×96. The archive stl10_binary.tar.gz cannot be
// streamed: unpack it.
func OpenSTL10Stream(dir, split string) (*Stream, error) {
	if !slices.Contains(STL10Splits, split) {
		return nil, fmt.Errorf("datasets: stl10: split %q, want one of %s", split, strings.Join(STL10Splits, ", "))
	}
	s := &Stream{Name: "stl10/" + split, H: stlSide, W: stlSide, C: 3, Classes: STL10Classes, Crop: SimCLRCrop}
	var src stlSource
	if strings.HasPrefix(split, "unlabeled") {
		u, err := OpenSTL10Unlabeled(dir)
		if err != nil {
			return nil, withArchiveHint(dir, err)
		}
		src.parts = append(src.parts, u)
		s.Labels = slices.Repeat([]int{-1}, u.n)
	}
	if strings.HasSuffix(split, "train") {
		x, labels, err := openSTL10Labelled(dir, "train")
		if err != nil {
			src.close()
			return nil, withArchiveHint(dir, err)
		}
		src.parts = append(src.parts, x)
		s.Labels = append(s.Labels, labels...)
	}
	s.src, s.N = src, len(s.Labels)
	if names, err := os.ReadFile(filepath.Join(filepath.Dir(src.parts[0].name), "class_names.txt")); err == nil {
		if s.Classes, err = classNames(filepath.Join(filepath.Dir(src.parts[0].name), "class_names.txt"), names, 10); err != nil {
			src.close()
			return nil, err
		}
	}
	return s, nil
}

// openSTL10Labelled opens split_X.bin for reading in place and reads split_y.bin, checking that they agree.
func openSTL10Labelled(dir, split string) (*STL10Unlabeled, []int, error) {
	for _, d := range []string{dir, filepath.Join(dir, "stl10_binary")} {
		xPath, yPath := filepath.Join(d, split+"_X.bin"), filepath.Join(d, split+"_y.bin")
		st, err := os.Stat(xPath)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		y, err := os.ReadFile(yPath)
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: read %s: %w", yPath, err)
		}
		if int64(len(y))*stlImage != st.Size() {
			return nil, nil, sizeError(xPath, st.Size(), int64(len(y))*stlImage, fmt.Sprintf("%d images of 96×96×3 (one per label in %s)", len(y), yPath))
		}
		labels := make([]int, len(y))
		for i, l := range y {
			if l < 1 || l > 10 {
				return nil, nil, fmt.Errorf("datasets: read %s: record %d (offset %d): %w: got %d, want 1..10", yPath, i, i, ErrLabelRange, l)
			}
			labels[i] = int(l) - 1
		}
		f, err := os.Open(xPath)
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: read %s: %w", xPath, err)
		}
		x, err := NewSTL10Unlabeled(xPath, f, st.Size())
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		x.file = f
		return x, labels, nil
	}
	return nil, nil, fmt.Errorf("datasets: stl10: no %s_X.bin in %s: %w", split, joinLooked([]string{dir, filepath.Join(dir, "stl10_binary")}), ErrNotFound)
}

// withArchiveHint adds, to a not-found error, that an archive in dir must be unpacked to be streamed.
func withArchiveHint(dir string, err error) error {
	for _, a := range []string{dir, filepath.Join(dir, "stl10_binary.tar.gz")} {
		if st, e := os.Stat(a); e == nil && st.Mode().IsRegular() && errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w; %s is an archive, which cannot be read in place: unpack it (tar xzf) and pass the folder", err, a)
		}
	}
	return err
}
