package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// The fixtures in testdata/ are written by the generators below (run `go test ./datasets -run TestFixtures
// -update` to rewrite them). Formats whose bytes we define (IDX, CIFAR, STL-10) are compared byte for byte;
// gzip and PNG output may change with the Go release, so those files are checked by content instead.

// init defines -update unless another test file of the package already did (go/printer's convention).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "update golden files in testdata/")
	}
}

// updating reports whether the test binary runs with -update.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fixturePixel gives every (x, y, channel, image) of a fixture its own value, so that a swapped plane, a
// transposed image or an off-by-one offset shows: R = 7x+s, G = 13y+s, B = (x⊕y)+s, s = 31·image.
func fixturePixel(x, y, c, s int) uint8 {
	switch c {
	case 0:
		return uint8(7*x + s)
	case 1:
		return uint8(13*y + s)
	}
	return uint8(x ^ y + s)
}

// fixtureRGB returns image k of a fixture as an 8-bit RGBA image of w×h pixels.
func fixtureRGB(w, h, k int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{fixturePixel(x, y, 0, 31*k), fixturePixel(x, y, 1, 31*k), fixturePixel(x, y, 2, 31*k), 255})
		}
	}
	return img
}

// writeIDXu8 returns an IDX file of uint8 elements with the given dims (datasets.md §4).
func writeIDXu8(dims []int, data []byte) []byte {
	b := []byte{0, 0, IDXUint8, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

// The tiny IDX set: n images of 4 rows × 5 columns, pixel (x, y) of image i = 20i + 5y + x + 1.
var (
	idxFixtureLabels         = map[string][]byte{"train": {5, 0, 4}, "t10k": {7, 2}}
	idxFixtureH, idxFixtureW = 4, 5
)

func idxFixtureImages(n int) []byte {
	px := make([]byte, n*idxFixtureH*idxFixtureW)
	for i := range px {
		px[i] = byte(i + 1)
	}
	return writeIDXu8([]int{n, idxFixtureH, idxFixtureW}, px)
}

// cifarFixture returns CIFAR records with the given label bytes (one or two per record); image k is fixtureRGB(32, 32, k).
func cifarFixture(labels [][]byte) []byte {
	var out []byte
	for k, l := range labels {
		out = append(out, l...)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					out = append(out, fixturePixel(x, y, c, 31*k))
				}
			}
		}
	}
	return out
}

var (
	cifar10FixtureLabels  = [][]byte{{3}, {0}, {9}}
	cifar100FixtureLabels = [][]byte{{19, 99}, {4, 42}}
	stl10FixtureLabels    = []byte{1, 10}
)

// stl10Fixture returns STL-10 X bytes (column-major planes) for len(stl10FixtureLabels) images.
func stl10Fixture() []byte {
	out := make([]byte, len(stl10FixtureLabels)*stlImage)
	for k := range stl10FixtureLabels {
		for c := range 3 {
			for x := range 96 {
				for y := range 96 {
					out[k*stlImage+c*stlPlane+x*96+y] = fixturePixel(x, y, c, 31*k)
				}
			}
		}
	}
	return out
}

// folderFixture lists the members of the tiny image-folder archive: 4×3 PNG images (image k =
// fixtureRGB(4, 3, k)) in train/ and test/, classes cat and dog, plus files that must be skipped.
var folderFixture = []struct {
	name string
	k    int // image index; -1 for a non-image file
}{
	{"train/cat/a.png", 0}, {"train/cat/b.png", 1}, {"train/dog/c.png", 2},
	{"test/cat/d.png", 3}, {"test/dog/e.PNG", 4},
	{"train/dog/notes.txt", -1}, {"train/.hidden/x.png", -1},
}

func pngBytes(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarBytes returns a tar archive of the given members, in order.
func tarBytes(t testing.TB, names []string, contents [][]byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, name := range names {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(contents[i])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(contents[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func folderFixtureTar(t testing.TB) []byte {
	var names []string
	var contents [][]byte
	for _, m := range folderFixture {
		names = append(names, m.name)
		if m.k < 0 {
			contents = append(contents, []byte("not an image\n"))
		} else {
			contents = append(contents, pngBytes(t, fixtureRGB(4, 3, m.k)))
		}
	}
	return tarBytes(t, names, contents)
}

// fixture is one file of testdata/: its generator, and whether it is compared byte for byte.
type fixture struct {
	path  string
	gen   func(testing.TB) []byte
	exact bool
}

func fixtures() []fixture {
	return []fixture{
		{"mnist-tiny/train-images-idx3-ubyte.gz", func(t testing.TB) []byte { return gzipBytes(t, idxFixtureImages(3)) }, false},
		{"mnist-tiny/train-labels-idx1-ubyte", func(testing.TB) []byte { return writeIDXu8([]int{3}, idxFixtureLabels["train"]) }, true},
		{"mnist-tiny/t10k-images-idx3-ubyte", func(testing.TB) []byte { return idxFixtureImages(2) }, true},
		{"mnist-tiny/t10k-labels-idx1-ubyte.gz", func(t testing.TB) []byte { return gzipBytes(t, writeIDXu8([]int{2}, idxFixtureLabels["t10k"])) }, false},
		{"cifar10-tiny.bin", func(testing.TB) []byte { return cifarFixture(cifar10FixtureLabels) }, true},
		{"cifar100-tiny.bin", func(testing.TB) []byte { return cifarFixture(cifar100FixtureLabels) }, true},
		{"stl10-tiny_X.bin", func(testing.TB) []byte { return stl10Fixture() }, true},
		{"stl10-tiny_y.bin", func(testing.TB) []byte { return stl10FixtureLabels }, true},
		{"folder-tiny.tar", folderFixtureTar, false},
		{"folder-tiny.tar.gz", func(t testing.TB) []byte { return gzipBytes(t, folderFixtureTar(t)) }, false},
	}
}

// readFixture returns the content of testdata/name.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (run go test -run TestFixtures -update to write the fixtures)", err)
	}
	return b
}

// TestFixtures checks that testdata/ holds what the generators write: byte for byte for our own formats, after
// gunzip or as decoded images for the others. With -update it rewrites the files.
func TestFixtures(t *testing.T) {
	for _, f := range fixtures() {
		want := f.gen(t)
		p := filepath.Join("testdata", f.path)
		if updating() {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got := readFixture(t, f.path)
		if f.exact && !bytes.Equal(got, want) {
			t.Errorf("%s differs from its generator (run with -update if the generator changed on purpose)", p)
		}
	}
	if updating() {
		return
	}
	// The inexact ones: gunzip gives the generator's bytes; the archive's images decode to the fixture pixels.
	for _, name := range []string{"mnist-tiny/train-images-idx3-ubyte.gz", "mnist-tiny/t10k-labels-idx1-ubyte.gz"} {
		raw, err := maybeGunzip(name, readFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		gen := idxFixtureImages(3)
		if name == "mnist-tiny/t10k-labels-idx1-ubyte.gz" {
			gen = writeIDXu8([]int{2}, idxFixtureLabels["t10k"])
		}
		if !bytes.Equal(raw, gen) {
			t.Errorf("testdata/%s gunzips to other bytes than its generator", name)
		}
	}
	for _, name := range []string{"folder-tiny.tar", "folder-tiny.tar.gz"} {
		train, test, err := ReadFolderArchive(name, bytes.NewReader(readFixture(t, name)), FolderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkFolderFixture(t, train, test)
	}
}

// checkFolderFixture checks the sets read from folderFixture: train = a, b (cat), c (dog); test = d (cat), e (dog).
func checkFolderFixture(t *testing.T, train, test *Images) {
	t.Helper()
	if train.N != 3 || test.N != 2 || train.H != 3 || train.W != 4 || train.C != 3 {
		t.Fatalf("got train %v, test %v; want 3 and 2 images of 3×4×3", train, test)
	}
	if got := train.Classes; len(got) != 2 || got[0] != "cat" || got[1] != "dog" {
		t.Errorf("classes = %q, want [cat dog]", got)
	}
	for _, c := range []struct {
		m        *Images
		i, k, lb int
	}{{train, 0, 0, 0}, {train, 1, 1, 0}, {train, 2, 2, 1}, {test, 0, 3, 0}, {test, 1, 4, 1}} {
		if c.m.Labels[c.i] != c.lb {
			t.Errorf("%s image %d: label %d, want %d", c.m.Name, c.i, c.m.Labels[c.i], c.lb)
		}
		checkPixels(t, c.m, c.i, c.k)
	}
}

// checkPixels checks that image i of m holds fixtureRGB(W, H, k) exactly.
func checkPixels(t *testing.T, m *Images, i, k int) {
	t.Helper()
	for y := range m.H {
		for x := range m.W {
			for c := range m.C {
				if got, want := m.At(i, x, y, c), fixturePixel(x, y, c, 31*k); got != want {
					t.Fatalf("%s image %d pixel (x=%d, y=%d, c=%d) = %d, want %d", m.Name, i, x, y, c, got, want)
				}
			}
		}
	}
}
