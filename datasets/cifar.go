package datasets

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// CIFAR10Classes are the CIFAR-10 class names in label order, as in batches.meta.txt; used when that file is absent.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// cifarFormat describes one of the two CIFAR binary record layouts:
//
//	CIFAR-10:  byte 0 label 0..9,                              bytes 1..3072 R, G, B planes (32×32, row-major)
//	CIFAR-100: byte 0 coarse label 0..19, byte 1 fine 0..99,   bytes 2..3073 R, G, B planes
//
// Pixel (x, y) of channel c of record k is at byte k·recordSize + labelBytes + c·1024 + y·32 + x.
type cifarFormat struct {
	name       string   // "cifar10" or "cifar100"
	labelBytes int      // 1 or 2
	classes    int      // 10 or 100 (the label used is the last label byte)
	coarse     int      // 20 for CIFAR-100 (range of byte 0), 0 for CIFAR-10
	train      []string // base names of the train files, in order
	test       string   // base name of the test file
	names      string   // base name of the class-name file
	folder     string   // folder name inside the official archive
	archive    string   // file name of the official archive
}

var (
	cifar10 = cifarFormat{name: "cifar10", labelBytes: 1, classes: 10,
		train: []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
		test:  "test_batch.bin", names: "batches.meta.txt", folder: "cifar-10-batches-bin", archive: "cifar-10-binary.tar.gz"}
	cifar100 = cifarFormat{name: "cifar100", labelBytes: 2, classes: 100, coarse: 20,
		train: []string{"train.bin"}, test: "test.bin", names: "fine_label_names.txt",
		folder: "cifar-100-binary", archive: "cifar-100-binary.tar.gz"}
)

const cifarPixels = 32 * 32 * 3 // bytes of one CIFAR image

func (f cifarFormat) recordSize() int { return f.labelBytes + cifarPixels }

// ParseCIFAR10 parses the content of one CIFAR-10 binary batch (10 000 records of 3 073 bytes in the real
// files; gzipped or not), with classes numbered "0"…"9". name is used in error messages and as the set's Name.
// Errors: ErrTruncated when b is empty or its last record is incomplete (the format has no header, so a stray
// trailing byte reads as a truncated record), ErrLabelRange for a label above 9, naming the record and offset.
func ParseCIFAR10(name string, b []byte) (*Images, error) {
	return parseCIFAR(name, b, cifar10)
}

// ParseCIFAR100 parses the content of a CIFAR-100 binary file (records of 3 074 bytes) into a set labelled by
// the fine label (100 classes, numbered "0"…"99"); the coarse label byte must lie in 0..19 and is not kept.
func ParseCIFAR100(name string, b []byte) (*Images, error) {
	return parseCIFAR(name, b, cifar100)
}

// ReadCIFAR10 reads and concatenates CIFAR-10 binary batches, e.g. data_batch_1.bin … data_batch_5.bin.
// Class names come from batches.meta.txt beside the first file when present, else CIFAR10Classes.
func ReadCIFAR10(paths ...string) (*Images, error) { return readCIFARFiles(paths, cifar10) }

// ReadCIFAR100 reads and concatenates CIFAR-100 binary files (train.bin, test.bin), labelled by fine label.
// Class names come from fine_label_names.txt beside the first file when present, else "0"…"99".
func ReadCIFAR100(paths ...string) (*Images, error) { return readCIFARFiles(paths, cifar100) }

// ReadCIFAR10Dir reads the CIFAR-10 binary release: path is the folder holding data_batch_{1..5}.bin and
// test_batch.bin, a folder holding cifar-10-batches-bin/ or cifar-10-binary.tar.gz, or that archive itself
// (streamed, not unpacked). It returns 50 000 train and 10 000 test images for the real release.
func ReadCIFAR10Dir(path string) (train, test *Images, err error) { return readCIFARDir(path, cifar10) }

// ReadCIFAR100Dir reads the CIFAR-100 binary release (train.bin, test.bin, fine_label_names.txt) from a folder,
// a folder holding cifar-100-binary/ or cifar-100-binary.tar.gz, or that archive.
func ReadCIFAR100Dir(path string) (train, test *Images, err error) {
	return readCIFARDir(path, cifar100)
}

// parseCIFAR decodes records of format f into a new set.
func parseCIFAR(name string, b []byte, f cifarFormat) (*Images, error) {
	m := &Images{Name: name, H: 32, W: 32, C: 3, Classes: numberedClasses(f.classes)}
	if err := appendCIFAR(m, name, b, f); err != nil {
		return nil, err
	}
	return m, nil
}

// appendCIFAR decodes the records of b (gzipped or not) and appends them to m, converting CHW planes to HWC.
func appendCIFAR(m *Images, name string, b []byte, f cifarFormat) error {
	b, err := maybeGunzip(name, b)
	if err != nil {
		return err
	}
	rs := f.recordSize()
	if err := recordsError(name, len(b), rs); err != nil {
		return err
	}
	n := len(b) / rs
	m.Pixels = append(m.Pixels, make([]uint8, n*cifarPixels)...)
	px := m.Pixels[m.N*cifarPixels:]
	for k := range n {
		rec := b[k*rs : (k+1)*rs]
		if f.coarse > 0 && int(rec[0]) >= f.coarse {
			return fmt.Errorf("datasets: read %s: record %d (offset %d): coarse %w: got %d, want 0..%d",
				name, k, k*rs, ErrLabelRange, rec[0], f.coarse-1)
		}
		l := int(rec[f.labelBytes-1])
		if l >= f.classes {
			return fmt.Errorf("datasets: read %s: record %d (offset %d): %w: got %d, want 0..%d",
				name, k, k*rs+f.labelBytes-1, ErrLabelRange, l, f.classes-1)
		}
		m.Labels = append(m.Labels, l)
		r, g, bl := rec[f.labelBytes:f.labelBytes+1024], rec[f.labelBytes+1024:f.labelBytes+2048], rec[f.labelBytes+2048:rs]
		out := px[k*cifarPixels : (k+1)*cifarPixels]
		for j := range 1024 {
			out[3*j], out[3*j+1], out[3*j+2] = r[j], g[j], bl[j]
		}
	}
	m.N += n
	return nil
}

// readCIFARFiles reads files of format f in order into one set, with class names from the name file beside
// the first one when present.
func readCIFARFiles(paths []string, f cifarFormat) (*Images, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("datasets: %s: no files given: %w", f.name, ErrNotFound)
	}
	m := &Images{Name: f.name, H: 32, W: 32, C: 3}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("datasets: read %s: %w", p, err)
		}
		if err := appendCIFAR(m, p, b, f); err != nil {
			return nil, err
		}
	}
	names := filepath.Join(filepath.Dir(paths[0]), f.names)
	b, err := os.ReadFile(names)
	if err != nil {
		b = nil // absent: numbered classes
	}
	if m.Classes, err = classNames(names, b, f.classes); err != nil {
		return nil, err
	}
	return m, nil
}

// classNames parses a class-name file (one name per line, blank lines ignored); b == nil gives "0"…"n-1".
// A file naming other than n classes is an error.
func classNames(name string, b []byte, n int) ([]string, error) {
	if b == nil {
		return numberedClasses(n), nil
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
	}
	if len(names) != n {
		return nil, fmt.Errorf("datasets: read %s: %d class names, want %d: %w", name, len(names), n, ErrMismatch)
	}
	return names, nil
}

// readCIFARDir finds the release of format f at path (see ReadCIFAR10Dir) and reads its train and test splits.
func readCIFARDir(p string, f cifarFormat) (train, test *Images, err error) {
	var looked []string
	for _, dir := range []string{p, filepath.Join(p, f.folder)} {
		looked = append(looked, dir)
		if _, err := os.Stat(filepath.Join(dir, f.train[0])); err == nil {
			train, err := f.readFiles(dir, f.train)
			if err != nil {
				return nil, nil, err
			}
			test, err := f.readFiles(dir, []string{f.test})
			if err != nil {
				return nil, nil, err
			}
			return train, test, nil
		}
	}
	for _, a := range []string{p, filepath.Join(p, f.archive)} {
		if st, err := os.Stat(a); err == nil && st.Mode().IsRegular() {
			return readCIFARArchive(a, f)
		}
		looked = append(looked, a)
	}
	return nil, nil, fmt.Errorf("datasets: %s: no %s or %s in %s: %w", f.name, f.train[0], f.archive,
		joinLooked(looked), ErrNotFound)
}

// readFiles reads the given files of dir into a set named f.name/train or f.name/test.
func (f cifarFormat) readFiles(dir string, bases []string) (*Images, error) {
	paths := make([]string, len(bases))
	for i, b := range bases {
		paths[i] = filepath.Join(dir, b)
	}
	m, err := readCIFARFiles(paths, f)
	if err != nil {
		return nil, err
	}
	m.Name = f.name + "/" + splitName(bases[0] == f.test)
	return m, nil
}

func splitName(test bool) string {
	if test {
		return "test"
	}
	return "train"
}

// readCIFARArchive streams the official archive (tar, gzipped or not), keeping only the members of f by base name.
func readCIFARArchive(archive string, f cifarFormat) (train, test *Images, err error) {
	file, err := os.Open(archive)
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: read %s: %w", archive, err)
	}
	defer file.Close()
	members, err := readTarMembers(archive, file, append([]string{f.test, f.names}, f.train...))
	if err != nil {
		return nil, nil, err
	}
	sets := [2]*Images{}
	for k, bases := range [][]string{f.train, {f.test}} {
		m := &Images{Name: f.name + "/" + splitName(k == 1), H: 32, W: 32, C: 3}
		for _, b := range bases {
			data, ok := members[b]
			if !ok {
				return nil, nil, fmt.Errorf("datasets: read %s: no member %s: %w", archive, b, ErrNotFound)
			}
			if err := appendCIFAR(m, archive+":"+b, data, f); err != nil {
				return nil, nil, err
			}
		}
		if m.Classes, err = classNames(archive+":"+f.names, members[f.names], f.classes); err != nil {
			return nil, nil, err
		}
		sets[k] = m
	}
	return sets[0], sets[1], nil
}

// readTarMembers reads the members of a tar stream whose base names are in bases, keyed by base name.
func readTarMembers(archive string, r io.Reader, bases []string) (map[string][]byte, error) {
	want := map[string]bool{}
	for _, b := range bases {
		want[b] = true
	}
	members := map[string][]byte{}
	err := walkTar(archive, r, func(hdr *tar.Header, content io.Reader) error {
		base := path.Base(hdr.Name)
		if !want[base] {
			return nil
		}
		data, err := readMember(archive, hdr, content)
		members[base] = data
		return err
	})
	if err != nil {
		return nil, err
	}
	return members, nil
}
