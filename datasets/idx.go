package datasets

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"path/filepath"
	"slices"
)

// IDX element type codes (byte 2 of an IDX file).
const (
	IDXUint8   = 0x08
	IDXInt8    = 0x09
	IDXInt16   = 0x0B
	IDXInt32   = 0x0C
	IDXFloat32 = 0x0D
	IDXFloat64 = 0x0E
)

// idxMagicImages and idxMagicLabels are the big-endian uint32 magics of uint8 image (3 dims) and label (1 dim)
// files: 2051 and 2049.
const (
	idxMagicImages = 0x00000803
	idxMagicLabels = 0x00000801
)

// IDX is one parsed IDX file (LeCun's MNIST format):
//
//	offset 0      2 bytes    0x00 0x00
//	offset 2      1 byte     element type (IDXUint8 … IDXFloat64)
//	offset 3      1 byte     number of dimensions D ≥ 1
//	offset 4      4·D bytes  dimension sizes, big-endian uint32
//	offset 4+4D   …          data in C order (last dimension fastest), multi-byte elements big-endian
type IDX struct {
	Type byte   // element type code
	Dims []int  // dimension sizes
	Data []byte // raw data as stored: Π Dims elements of ElemSize bytes, big-endian
}

// idxElemSize returns the byte size of IDX element type t, or 0 if t is not a valid type code.
func idxElemSize(t byte) int {
	switch t {
	case IDXUint8, IDXInt8:
		return 1
	case IDXInt16:
		return 2
	case IDXInt32, IDXFloat32:
		return 4
	case IDXFloat64:
		return 8
	}
	return 0
}

// Magic returns the big-endian uint32 at offset 0 of the file: 2051 for MNIST images, 2049 for labels.
func (x *IDX) Magic() uint32 { return uint32(x.Type)<<8 | uint32(len(x.Dims)) }

// ReadIDX reads an IDX file, gzipped or not (detected by the magic bytes 1f 8b, not by the name).
// See ParseIDX for the checks.
func ReadIDX(path string) (*IDX, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseIDX(path, b)
}

// ParseIDX parses the IDX file content b, gzipped or not; name is used in error messages. It checks the zero
// bytes and element type of the magic (ErrBadMagic), and that b holds exactly the header and the data its
// dimensions claim: ErrTruncated when shorter, ErrTrailingData when longer. The claimed size is compared with
// len(b) before anything is allocated, so a lying header costs nothing. x.Data aliases b.
func ParseIDX(name string, b []byte) (*IDX, error) {
	b, err := maybeGunzip(name, b)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 {
		return nil, sizeError(name, int64(len(b)), 4, "IDX magic")
	}
	size := idxElemSize(b[2])
	if b[0] != 0 || b[1] != 0 || size == 0 {
		return nil, fmt.Errorf("datasets: read %s: offset 0: %w: got % x, want 00 00 <type 08|09|0b|0c|0d|0e> <dims>",
			name, ErrBadMagic, b[:4])
	}
	d := int(b[3])
	if d == 0 {
		return nil, fmt.Errorf("datasets: read %s: offset 3: IDX file with 0 dimensions: %w", name, ErrMismatch)
	}
	hdr := 4 + 4*d
	if len(b) < hdr {
		return nil, sizeError(name, int64(len(b)), int64(hdr), fmt.Sprintf("IDX header with %d dimensions", d))
	}
	x := &IDX{Type: b[2], Dims: make([]int, d)}
	for i := range x.Dims {
		x.Dims[i] = int(binary.BigEndian.Uint32(b[4+4*i:]))
	}
	// need = size·Π dims, saturated at MaxUint64 on overflow; a zero dimension makes it 0.
	avail, need := uint64(len(b)-hdr), uint64(size)
	if slices.Contains(x.Dims, 0) {
		need = 0
	}
	for _, dim := range x.Dims {
		hi, lo := bits.Mul64(need, uint64(dim))
		if need = lo; hi != 0 {
			need = math.MaxUint64
		}
	}
	if need > avail && need <= math.MaxInt64-uint64(hdr) {
		return nil, sizeError(name, int64(len(b)), int64(hdr)+int64(need),
			fmt.Sprintf("IDX header + dims %v of %d-byte elements", x.Dims, size))
	}
	if need > avail {
		return nil, fmt.Errorf("datasets: read %s: header claims dims %v of %d-byte elements, more than the %d data bytes after the %d-byte header: %w",
			name, x.Dims, size, avail, hdr, ErrTruncated)
	}
	if need < avail {
		return nil, sizeError(name, int64(len(b)), int64(hdr)+int64(need), fmt.Sprintf("IDX header + dims %v", x.Dims))
	}
	x.Data = b[hdr:]
	return x, nil
}

// ReadIDXSet reads an IDX image file (uint8, dims N×H×W, magic 2051) and its IDX label file (uint8, dims N,
// magic 2049) into one gray set (C = 1), gzipped or not. Every label must lie in [0, len(classes)).
// The set's Name is the base name of imagesPath; callers usually rename it.
func ReadIDXSet(imagesPath, labelsPath string, classes []string) (*Images, error) {
	img, err := ReadIDX(imagesPath)
	if err != nil {
		return nil, err
	}
	lbl, err := ReadIDX(labelsPath)
	if err != nil {
		return nil, err
	}
	return idxSet(filepath.Base(imagesPath), imagesPath, img, labelsPath, lbl, classes)
}

// idxSet checks a parsed image/label pair and builds the set; the paths are for error messages.
func idxSet(name, imagesPath string, img *IDX, labelsPath string, lbl *IDX, classes []string) (*Images, error) {
	if img.Magic() != idxMagicImages {
		return nil, fmt.Errorf("datasets: read %s: offset 0: %w: got %#08x, want %#08x (uint8 images, 3 dims)",
			imagesPath, ErrBadMagic, img.Magic(), idxMagicImages)
	}
	if lbl.Magic() != idxMagicLabels {
		return nil, fmt.Errorf("datasets: read %s: offset 0: %w: got %#08x, want %#08x (uint8 labels, 1 dim)",
			labelsPath, ErrBadMagic, lbl.Magic(), idxMagicLabels)
	}
	n, h, w := img.Dims[0], img.Dims[1], img.Dims[2]
	switch {
	case n == 0:
		return nil, fmt.Errorf("datasets: read %s: offset 4: the header claims 0 images: %w", imagesPath, ErrEmpty)
	case h == 0 || w == 0:
		return nil, fmt.Errorf("datasets: read %s: offset 8: images of %d×%d pixels: %w", imagesPath, h, w, ErrMismatch)
	case h > maxImageSide || w > maxImageSide:
		return nil, fmt.Errorf("datasets: read %s: offset 8: images of %d×%d pixels, more than %d on a side: %w",
			imagesPath, h, w, maxImageSide, ErrTooLarge)
	}
	if lbl.Dims[0] != n {
		return nil, fmt.Errorf("datasets: read %s: %d labels for the %d images of %s: %w",
			labelsPath, lbl.Dims[0], n, imagesPath, ErrMismatch)
	}
	labels := make([]int, n)
	for i, v := range lbl.Data {
		if int(v) >= len(classes) {
			return nil, fmt.Errorf("datasets: read %s: record %d (offset %d): %w: got %d, want 0..%d",
				labelsPath, i, 8+i, ErrLabelRange, v, len(classes)-1)
		}
		labels[i] = int(v)
	}
	return &Images{Name: name, N: n, H: h, W: w, C: 1, Pixels: img.Data, Labels: labels, Classes: classes}, nil
}
