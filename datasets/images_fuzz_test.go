package datasets

import (
	"archive/tar"
	"bytes"
	"image"
	"slices"
	"strings"
	"testing"
)

// The fuzz targets check that no input makes a parser panic or allocate beyond its input, and that whatever a
// parser accepts is a valid, self-consistent set. Their seeds are the fixtures in testdata/ and a few damaged
// copies; `go test -fuzz FuzzReadIDX` and so on explore from there.

func FuzzReadIDX(f *testing.F) {
	img, lbl := readFixture(f, "mnist-tiny/t10k-images-idx3-ubyte"), readFixture(f, "mnist-tiny/train-labels-idx1-ubyte")
	imgGz, lblGz := readFixture(f, "mnist-tiny/train-images-idx3-ubyte.gz"), readFixture(f, "mnist-tiny/t10k-labels-idx1-ubyte.gz")
	f.Add(img, lbl)
	f.Add(imgGz, lblGz)
	f.Add(img[:len(img)-1], lbl[:9])
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte{0, 0, 8, 1, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0x0e, 2, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8}, []byte{})
	f.Fuzz(func(t *testing.T, imgData, lblData []byte) {
		x, err := ParseIDX("images", imgData)
		if err != nil {
			return
		}
		want := idxElemSize(x.Type)
		for _, d := range x.Dims {
			want *= d
		}
		if len(x.Data) != want {
			t.Fatalf("dims %v type %#x: %d data bytes, want %d", x.Dims, x.Type, len(x.Data), want)
		}
		y, err := ParseIDX("labels", lblData)
		if err != nil {
			return
		}
		m, err := idxSet("fuzz", "images", x, "labels", y, numberedClasses(10))
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid set: %v", err)
		}
	})
}

// FuzzReadCIFAR builds the file from fuzzed label bytes: record k carries labels[k] (CIFAR-10) or the pair
// labels[2k], labels[2k+1] (CIFAR-100) and zero pixels (pixels never steer the parser), delta bytes are added
// or cut at the end, and the whole is gzipped when gz is set. Raw 3 kB records would make the fuzzer spend
// its time minimising inputs.
func FuzzReadCIFAR(f *testing.F) {
	// The fixtures' label bytes: byte 0 of each CIFAR-10 record, bytes 0 and 1 of each CIFAR-100 record.
	var l10, l100 []byte
	for b := readFixture(f, "cifar10-tiny.bin"); len(b) >= 3073; b = b[3073:] {
		l10 = append(l10, b[0])
	}
	for b := readFixture(f, "cifar100-tiny.bin"); len(b) >= 3074; b = b[3074:] {
		l100 = append(l100, b[0], b[1])
	}
	f.Add(l10, int8(0), false, false)
	f.Add(l100, int8(0), true, false)
	f.Add([]byte{1}, int8(-1), false, true)
	f.Add([]byte{20, 1}, int8(1), true, false)
	f.Add([]byte{}, int8(0), false, false)
	f.Fuzz(func(t *testing.T, labels []byte, delta int8, hundred, gz bool) {
		parse, lb := ParseCIFAR10, 1
		if hundred {
			parse, lb = ParseCIFAR100, 2
		}
		rs := lb + cifarPixels
		n := min(len(labels)/lb, 4)
		data := make([]byte, max(n*rs+int(delta), 0))
		for k := range n {
			copy(data[k*rs:min(k*rs+lb, len(data))], labels[k*lb:(k+1)*lb])
		}
		if gz {
			data = gzipBytes(t, data)
		}
		m, err := parse("fuzz.bin", data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid set: %v", err)
		}
		if raw, _ := maybeGunzip("fuzz.bin", data); m.N*rs != len(raw) {
			t.Fatalf("%d records from %d bytes", m.N, len(raw))
		}
	})
}

// FuzzReadSTL10 builds the X file as CIFAR's fuzz does: len(y)·27648 + delta zero bytes (pixels never steer
// the parser), gzipped when gz is set; the labels y are fuzzed. X also goes through NewSTL10Unlabeled.
func FuzzReadSTL10(f *testing.F) {
	f.Add(readFixture(f, "stl10-tiny_y.bin"), int8(0), false)
	f.Add([]byte{1}, int8(-1), false)
	f.Add([]byte{10}, int8(1), true)
	f.Add([]byte{0, 11}, int8(0), false)
	f.Add([]byte{}, int8(0), false)
	f.Fuzz(func(t *testing.T, y []byte, delta int8, gz bool) {
		y = y[:min(len(y), 3)]
		x := make([]byte, max(len(y)*stlImage+int(delta), 0))
		if u, err := NewSTL10Unlabeled("fuzz_X", bytes.NewReader(x), int64(len(x))); err == nil {
			if _, err := u.Example(u.Len()-1, nil); err != nil {
				t.Fatalf("last image of %d: %v", u.Len(), err)
			}
		}
		if gz {
			x = gzipBytes(t, x)
		}
		m, err := ParseSTL10("fuzz", x, y)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid set: %v", err)
		}
		if m.N != len(y) {
			t.Fatalf("%d images for %d labels", m.N, len(y))
		}
	})
}

// FuzzReadFolderArchive feeds raw bytes to the tar (and tar.gz) reader. The seeds are one-member archives
// without the closing zero blocks (archive/tar reads them), to keep inputs near 1 kB.
func FuzzReadFolderArchive(f *testing.F) {
	tiny := pngBytes(f, fixtureRGB(2, 2, 0))
	one := tarBytes(f, []string{"c/a.png"}, [][]byte{tiny})
	f.Add(one[:len(one)-1024])
	f.Add(gzipBytes(f, one))
	f.Add(readFixture(f, "folder-tiny.tar.gz"))
	f.Fuzz(func(t *testing.T, data []byte) {
		train, test, err := ReadFolderArchive("fuzz.tar", bytes.NewReader(data), FolderOptions{TestFraction: 0.5})
		if err != nil {
			return
		}
		checkFuzzedFolder(t, train, test, len(data))
	})
}

// FuzzFolderLayout fuzzes the layout rules (split folders, class folders, wrappers, hidden files, extensions)
// with archives built from fuzzed member names (one per line, at most 8) and contents picked by pick[i] from a
// few images, one of another size, one gray, one JPEG, and junk.
func FuzzFolderLayout(f *testing.F) {
	contents := [][]byte{
		pngBytes(f, fixtureRGB(2, 2, 0)), pngBytes(f, fixtureRGB(2, 2, 1)), pngBytes(f, fixtureRGB(3, 2, 2)),
		jpegBytes(f, fixtureRGB(2, 2, 3)), pngBytes(f, image.NewGray(image.Rect(0, 0, 2, 2))), []byte("junk"),
	}
	f.Add("train/cat/a.png\ntrain/dog/b.png\ntest/cat/c.jpg", []byte{0, 1, 3})
	f.Add("w/train/x/a.png\nw/val/x/b.PNG", []byte{0, 4})
	f.Add("a.png\nb.jpeg\n.c.png\nd.txt", []byte{0, 3, 5, 5})
	f.Add("cat/a.png\ncat/b.png\ndog/c.png", []byte{0, 2, 1})
	f.Fuzz(func(t *testing.T, names string, pick []byte) {
		lines := strings.Split(names, "\n")
		lines = lines[:min(len(lines), 8, len(pick))]
		var members [][]byte
		for i := range lines {
			members = append(members, contents[int(pick[i])%len(contents)])
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for i, name := range lines {
			if tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(members[i]))}) != nil {
				return // a name archive/tar cannot write
			}
			tw.Write(members[i])
		}
		tw.Close()
		train, test, err := ReadFolderArchive("fuzz.tar", &buf, FolderOptions{TestFraction: 0.5, Seed: uint64(len(names))})
		if err != nil {
			return
		}
		checkFuzzedFolder(t, train, test, len(lines))
		if !slices.IsSorted(train.Classes) || len(slices.Compact(slices.Clone(train.Classes))) != len(train.Classes) {
			t.Fatalf("classes %q are not sorted and distinct", train.Classes)
		}
	})
}

// checkFuzzedFolder checks the invariants of an accepted archive: valid, non-empty sets, at most max images.
func checkFuzzedFolder(t *testing.T, train, test *Images, max int) {
	t.Helper()
	for _, m := range []*Images{train, test} {
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid set: %v", err)
		}
	}
	if n := train.N + test.N; n == 0 || n > max {
		t.Fatalf("accepted %d images from an input of size %d", n, max)
	}
}
