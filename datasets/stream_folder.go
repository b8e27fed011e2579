package datasets

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// folderSource reads the images of a folder on disk, one file each.
type folderSource struct {
	root  string
	files []string // slash-separated paths below root
}

func (f *folderSource) name(i int) string {
	return filepath.Join(f.root, filepath.FromSlash(f.files[i]))
}

func (f *folderSource) load(i int, buf []uint8) ([]uint8, int, int, bool, error) {
	name := f.name(i)
	data, err := os.ReadFile(name)
	if err != nil {
		return buf, 0, 0, false, fmt.Errorf("datasets: read %s: %w", name, err)
	}
	img, err := decodeImage(name, data)
	if err != nil {
		return buf, 0, 0, false, err
	}
	h, w := img.Bounds().Dy(), img.Bounds().Dx()
	if cap(buf) < h*w*3 {
		buf = make([]uint8, h*w*3)
	}
	buf = buf[:h*w*3]
	return buf, h, w, toRGB(buf, img), nil
}

func (f *folderSource) close() error { return nil }

// OpenFolderStream opens an image folder on disk as two Streams, its train and test splits, with ReadFolder's
// layout, labels and split rule (the same images in the same order); an archive cannot be streamed
// (ErrMismatch: unpack it). Nothing is decoded but the headers of the first images: images are read when a
// batch needs them. Every image of a batch is opt.Size×opt.Size, or, with Size 0, the size of the first image
// whose header decodes; with Channels 0 the streams are gray (C = 1) when that image is gray, else RGB (colour
// images then become gray with the luma of Images.toGray, gray ones RGB by repeating the value). Crop is
// SimCLRCrop.
func OpenFolderStream(root string, opt FolderOptions) (train, test *Stream, err error) {
	st, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("datasets: read %s: no such folder: %w", root, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: read %s: %w", root, err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("datasets: read %s: an archive cannot be streamed (its members are read in order); unpack it into a folder: %w", root, ErrMismatch)
	}
	entries, err := listFolder(root)
	if err != nil {
		return nil, nil, err
	}
	l, err := layoutFolder(root, entries, false, opt)
	if err != nil {
		return nil, nil, err
	}
	return folderStreams(root, l, opt)
}

// folderStreams makes the two streams of a laid-out folder.
func folderStreams(root string, l folderLayout, opt FolderOptions) (train, test *Stream, err error) {
	if opt.Channels != 0 && opt.Channels != 1 && opt.Channels != 3 {
		return nil, nil, fmt.Errorf("datasets: read %s: FolderOptions.Channels = %d, want 0, 1 or 3", root, opt.Channels)
	}
	if opt.Size < 0 || opt.Size > maxImageSide {
		return nil, nil, fmt.Errorf("datasets: read %s: FolderOptions.Size = %d, want 0 (the first image's) or 1..%d: %w", root, opt.Size, maxImageSide, ErrTooLarge)
	}
	h, w, gray, err := firstHeader(root, append(l.train, l.test...))
	if err != nil {
		return nil, nil, err
	}
	c := opt.Channels
	if c == 0 {
		c = map[bool]int{true: 1, false: 3}[gray]
	}
	if opt.Size > 0 {
		h, w = opt.Size, opt.Size
	}
	make1 := func(samples []sample, split string) *Stream {
		src := &folderSource{root: root}
		s := &Stream{Name: l.name + "/" + split, N: len(samples), H: h, W: w, C: c, Labels: make([]int, len(samples)),
			Classes: l.classes, HeldOut: l.heldOut, Crop: SimCLRCrop, src: src}
		for i, sm := range samples {
			src.files = append(src.files, sm.entry.rel)
			s.Labels[i] = sm.label
		}
		return s
	}
	return make1(l.train, "train"), make1(l.test, "test"), nil
}

// firstHeader returns the size of the first of the samples whose header decodes, and whether it is gray (the
// samples before it are skipped when a batch meets them).
func firstHeader(root string, samples []sample) (h, w int, gray bool, err error) {
	var firstErr error
	for _, sm := range samples {
		name := filepath.Join(root, filepath.FromSlash(sm.entry.rel))
		cfg, err := readHeader(name)
		if err == nil && cfg.Width > 0 && cfg.Height > 0 && cfg.Width <= maxImageSide && cfg.Height <= maxImageSide {
			return cfg.Height, cfg.Width, cfg.ColorModel == color.GrayModel || cfg.ColorModel == color.Gray16Model, nil
		}
		if err == nil {
			err = fmt.Errorf("header claims %d×%d pixels", cfg.Width, cfg.Height)
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("datasets: read %s: %w: %v", name, ErrDecode, err)
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("datasets: read %s: no images: %w", root, ErrEmpty)
	}
	return 0, 0, false, firstErr
}

// readHeader decodes the header of an image file (at most its first 64 kB are read).
func readHeader(name string) (image.Config, error) {
	f, err := os.Open(name)
	if err != nil {
		return image.Config{}, err
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF {
		return image.Config{}, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(head[:n]))
	return cfg, err
}
