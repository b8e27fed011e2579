package datasets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput feeds every reader broken input. Each case must fail with its sentinel (errors.Is), name the
// file (and the record or offset where there is one) in the message, and return no set at all.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		writeFiles(t, dir, map[string][]byte{name: b})
		return p
	}
	images := idxFixtureImages(3)
	labels := writeIDXu8([]int{3}, []byte{5, 0, 4})
	imgs := write("images-idx3", images)
	lbls := write("labels-idx1", labels)
	withByte := func(b []byte, i int, v byte) []byte { c := bytes.Clone(b); c[i] = v; return c }
	bigHeader := bytes.Clone(images)
	binary.BigEndian.PutUint32(bigHeader[4:], 1_000_000)
	gz := gzipBytes(t, images)
	cifar := readFixture(t, "cifar10-tiny.bin")
	cifar100 := readFixture(t, "cifar100-tiny.bin")
	stlX, stlY := readFixture(t, "stl10-tiny_X.bin"), readFixture(t, "stl10-tiny_y.bin")
	tiny := pngBytes(t, fixtureRGB(4, 3, 0))
	// A PNG whose header claims 30 000 × 30 000 pixels in a 70-byte file.
	huge := pngBytes(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(huge[16:], 30000)
	binary.BigEndian.PutUint32(huge[20:], 30000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29])) // IHDR's CRC
	folder := func(files map[string][]byte) string {
		d := t.TempDir()
		writeFiles(t, d, files)
		return d
	}
	archive := func(b []byte) func() (any, error) {
		return func() (any, error) {
			tr, te, err := ReadFolderArchive("bad.tar", bytes.NewReader(b), FolderOptions{})
			return pair(tr, te), err
		}
	}
	emptyDir := t.TempDir()
	cases := []struct {
		name string
		run  func() (any, error)
		want error
		msg  []string // substrings of the message
	}{
		{"idx truncated", idxPair(write("short-idx3", images[:len(images)-1]), lbls), ErrTruncated, []string{"short-idx3", "short by 1"}},
		{"idx trailing byte", idxPair(write("long-idx3", append(bytes.Clone(images), 0)), lbls), ErrTrailingData, []string{"long-idx3", "1 extra bytes from offset 76"}},
		{"idx wrong magic", idxPair(write("magic-idx3", withByte(images, 0, 1)), lbls), ErrBadMagic, []string{"magic-idx3", "offset 0"}},
		{"idx unknown type", idxPair(write("type-idx3", withByte(images, 2, 0x42)), lbls), ErrBadMagic, []string{"type-idx3"}},
		{"idx labels as images", idxPair(lbls, lbls), ErrBadMagic, []string{"labels-idx1", "0x00000801"}},
		{"idx header claims more", idxPair(write("claims-idx3", bigHeader), lbls), ErrTruncated, []string{"claims-idx3", "1000000"}},
		{"idx label out of range", idxPair(imgs, write("range-idx1", withByte(labels, 10, 10))), ErrLabelRange, []string{"range-idx1", "record 2 (offset 10)"}},
		{"idx count mismatch", idxPair(imgs, write("count-idx1", writeIDXu8([]int{2}, []byte{1, 2}))), ErrMismatch, []string{"count-idx1", "2 labels"}},
		{"idx gzip truncated", idxPair(write("cut-idx3.gz", gz[:len(gz)/2]), lbls), ErrTruncated, []string{"cut-idx3.gz"}},
		{"idx header only", idxPair(write("hdr-idx3", images[:10]), lbls), ErrTruncated, []string{"hdr-idx3"}},
		{"idx no images", idxPair(write("zero-idx3", writeIDXu8([]int{0, 28, 28}, nil)), write("zero-idx1", writeIDXu8([]int{0}, nil))), ErrEmpty, []string{"zero-idx3", "0 images"}},
		// Found by FuzzReadIDX: sides whose product overflows an int once multiplied by the count.
		{"idx huge sides", idxPair(write("huge-idx3", writeIDXu8([]int{0, 1 << 16, 1 << 16}, nil)), write("zero-idx1", writeIDXu8([]int{0}, nil))), ErrEmpty, []string{"huge-idx3"}},
		{"idx huge sides with images", idxPair(write("wide-idx3", writeIDXu8([]int{1, 1, 1 << 16}, make([]byte, 1<<16))), write("one-idx1", writeIDXu8([]int{1}, []byte{1}))), ErrTooLarge, []string{"wide-idx3", "1×65536"}},
		{"mnist empty folder", func() (any, error) { tr, te, err := ReadMNIST(emptyDir); return pair(tr, te), err }, ErrNotFound, []string{emptyDir}},

		{"cifar truncated", cifar10File(write("short.bin", cifar[:len(cifar)-1])), ErrTruncated, []string{"short.bin", "record 2 at offset 6146"}},
		{"cifar empty", cifar10File(write("empty.bin", nil)), ErrTruncated, []string{"empty.bin"}},
		{"cifar label 10", cifar10File(write("label.bin", withByte(cifar, 3073, 10))), ErrLabelRange, []string{"label.bin", "record 1 (offset 3073)"}},
		{"cifar100 coarse 20", cifar100File(write("coarse.bin", withByte(cifar100, 3074, 20))), ErrLabelRange, []string{"coarse.bin", "record 1"}},
		{"cifar100 fine 100", cifar100File(write("fine.bin", withByte(cifar100, 1, 100))), ErrLabelRange, []string{"fine.bin", "record 0 (offset 1)"}},
		{"cifar bad meta", func() (any, error) {
			d := folder(map[string][]byte{"data_batch_1.bin": cifar, "batches.meta.txt": []byte("a\nb\n")})
			return nilSet(ReadCIFAR10(filepath.Join(d, "data_batch_1.bin")))
		}, ErrMismatch, []string{"batches.meta.txt", "2 class names"}},
		{"cifar archive truncated", func() (any, error) {
			a := gzipBytes(t, tarBytes(t, []string{"cifar-10-batches-bin/data_batch_1.bin"}, [][]byte{cifar}))
			tr, te, err := ReadCIFAR10Dir(write("cifar-10-binary.tar.gz", a[:len(a)-20]))
			return pair(tr, te), err
		}, ErrTruncated, []string{"cifar-10-binary.tar.gz"}},
		{"cifar missing", func() (any, error) { tr, te, err := ReadCIFAR10Dir(emptyDir); return pair(tr, te), err }, ErrNotFound, []string{emptyDir}},

		{"stl X short", stlFiles(write("s_X.bin", stlX[:len(stlX)-1]), write("s_y.bin", stlY)), ErrTruncated, []string{"s_X.bin", "short by 1"}},
		{"stl X trailing", stlFiles(write("t_X.bin", append(bytes.Clone(stlX), 1)), write("t_y.bin", stlY)), ErrTrailingData, []string{"t_X.bin", "offset 55296"}},
		{"stl label 0", stlFiles(write("z_X.bin", stlX), write("z_y.bin", []byte{1, 0})), ErrLabelRange, []string{"z_y.bin", "record 1 (offset 1)"}},
		{"stl label 11", stlFiles(write("e_X.bin", stlX), write("e_y.bin", []byte{11, 1})), ErrLabelRange, []string{"e_y.bin", "record 0"}},

		{"folder undecodable", folderRun(folder(map[string][]byte{"c/a.png": tiny, "c/bad.jpg": []byte("not a jpeg")})), ErrDecode, []string{"c/bad.jpg"}},
		{"folder truncated png", folderRun(folder(map[string][]byte{"c/a.png": tiny, "c/cut.png": tiny[:len(tiny)-20]})), ErrDecode, []string{"c/cut.png"}},
		{"folder huge header", folderRun(folder(map[string][]byte{"c/huge.png": huge})), ErrTooLarge, []string{"c/huge.png", "30000×30000"}},
		{"folder empty", folderRun(emptyDir), ErrEmpty, []string{emptyDir}},
		{"folder missing", folderRun(filepath.Join(emptyDir, "nope")), ErrNotFound, []string{"nope"}},
		{"folder no images", folderRun(folder(map[string][]byte{"c/a.txt": []byte("x")})), ErrEmpty, []string{"no .png/.jpg/.jpeg files"}},
		{"tar truncated", archive(tarBytes(t, []string{"c/a.png"}, [][]byte{tiny})[:600]), ErrTruncated, []string{"bad.tar"}},
		{"tar.gz truncated", archive(gzipBytes(t, tarBytes(t, []string{"c/a.png"}, [][]byte{tiny}))[:100]), ErrTruncated, []string{"bad.tar"}},
		{"tar undecodable member", archive(tarBytes(t, []string{"c/a.png", "c/b.png"}, [][]byte{tiny, []byte("junk")})), ErrDecode, []string{"bad.tar:c/b.png"}},

		{"load unknown", loadRun("imagenet", ""), nil, []string{"imagenet", "mnist, fashion-mnist"}},
		{"load cifar100 default", loadRun("cifar100", ""), ErrNotFound, []string{"--data-dir", "cifar-100-binary"}},
		{"load mnist wrong dir", loadRun("mnist", emptyDir), ErrNotFound, []string{emptyDir, "--data-dir"}},
		{"load cifar10 wrong dir", loadRun("cifar10", emptyDir), ErrNotFound, []string{emptyDir, "--data-dir", CIFAR10JPEGArchive}},
		{"load stl10 wrong dir", loadRun("stl10", emptyDir), ErrNotFound, []string{emptyDir, "--data-dir"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.run()
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %q does not wrap %q", err, c.want)
			}
			for _, s := range c.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if got != nil {
				t.Errorf("returned a set with the error: %v", got)
			}
		})
	}
}

// pair returns nil when both sets are nil, else the pair, so a test can tell that no partial set came back.
func pair(a, b *Images) any {
	if a == nil && b == nil {
		return nil
	}
	return [2]*Images{a, b}
}

func nilSet(m *Images, err error) (any, error) {
	if m == nil {
		return nil, err
	}
	return m, err
}

func idxPair(imgs, lbls string) func() (any, error) {
	return func() (any, error) { return nilSet(ReadIDXSet(imgs, lbls, numberedClasses(10))) }
}

func cifar10File(p string) func() (any, error) {
	return func() (any, error) { return nilSet(ReadCIFAR10(p)) }
}

func cifar100File(p string) func() (any, error) {
	return func() (any, error) { return nilSet(ReadCIFAR100(p)) }
}

func stlFiles(x, y string) func() (any, error) {
	return func() (any, error) { return nilSet(ReadSTL10(x, y)) }
}

func folderRun(dir string) func() (any, error) {
	return func() (any, error) { tr, te, err := ReadFolder(dir, FolderOptions{}); return pair(tr, te), err }
}

func loadRun(name, dataDir string) func() (any, error) {
	return func() (any, error) { tr, te, err := Load(name, dataDir); return pair(tr, te), err }
}
