package datasets

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func jpegBytes(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// grayImage returns channel 0 of fixtureRGB(4, 3, k) as a gray image.
func grayImage(k int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 4, 3))
	for y := range 3 {
		for x := range 4 {
			img.SetGray(x, y, color.Gray{fixturePixel(x, y, 0, 31*k)})
		}
	}
	return img
}

func TestReadFolderColourModels(t *testing.T) {
	rgb := fixtureRGB(4, 3, 0)
	gray16 := image.NewGray16(rgb.Bounds())
	rgba64 := image.NewRGBA64(rgb.Bounds())
	nrgba := image.NewNRGBA(rgb.Bounds())
	pal := image.NewPaletted(rgb.Bounds(), color.Palette{color.RGBA{10, 20, 30, 255}, color.RGBA{200, 100, 50, 255}})
	for y := range 3 {
		for x := range 4 {
			r, g, b := fixturePixel(x, y, 0, 0), fixturePixel(x, y, 1, 0), fixturePixel(x, y, 2, 0)
			gray16.SetGray16(x, y, color.Gray16{uint16(r)<<8 | 0x7f})
			rgba64.SetRGBA64(x, y, color.RGBA64{uint16(r)<<8 | 1, uint16(g)<<8 | 2, uint16(b)<<8 | 3, 0xffff})
			nrgba.SetNRGBA(x, y, color.NRGBA{r, g, b, 128})
			pal.SetColorIndex(x, y, uint8((x+y)%2))
		}
	}
	// Class folders b_more (sorted after a_rgb) with the odd models; a non-image file and a hidden file to skip.
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{
		"a_rgb/0.png":       pngBytes(t, rgb),
		"a_rgb/1.jpg":       jpegBytes(t, rgb),
		"b_more/gray.png":   pngBytes(t, grayImage(0)),
		"b_more/g16.png":    pngBytes(t, gray16),
		"b_more/nrgba.png":  pngBytes(t, nrgba),
		"b_more/pal.png":    pngBytes(t, pal),
		"b_more/rgb64.png":  pngBytes(t, rgba64),
		"b_more/README.md":  []byte("# not an image"),
		"b_more/.thumb.png": []byte("hidden, and not a PNG either"),
	})
	train, test, err := ReadFolder(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := train.Validate(); err != nil {
		t.Fatal(err)
	}
	if train.N != 7 || test.N != 0 || train.C != 3 || !slices.Equal(train.Classes, []string{"a_rgb", "b_more"}) {
		t.Fatalf("got %v and %v, classes %q; want 7 + 0 RGB images, classes [a_rgb b_more]", train, test, train.Classes)
	}
	if want := []int{0, 0, 1, 1, 1, 1, 1}; !slices.Equal(train.Labels, want) {
		t.Errorf("labels %v, want %v", train.Labels, want)
	}
	checkPixels(t, train, 0, 0) // a_rgb/0.png
	// Every image equals the generic conversion img.At(x, y).RGBA() >> 8 of what image/png decoded.
	for i, img := range []image.Image{rgb, nil, gray16, grayImage(0), nrgba, pal, rgba64} { // order: 0, 1, g16, gray, nrgba, pal, rgb64
		if img == nil {
			continue // the JPEG, checked below with a tolerance
		}
		for y := range 3 {
			for x := range 4 {
				r, g, b, _ := img.At(x, y).RGBA()
				want := []uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
				got := train.Example(i)[(y*4+x)*3:][:3]
				if !slices.Equal(got, want) {
					t.Fatalf("image %d (x=%d, y=%d): %v, want %v", i, x, y, got, want)
				}
			}
		}
	}
	// JPEG at quality 95: close to the source.
	for j, v := range train.Example(1) {
		if d := int(v) - int(train.Example(0)[j]); d < -24 || d > 24 {
			t.Fatalf("JPEG byte %d = %d, source %d", j, v, train.Example(0)[j])
		}
	}
}

func TestReadFolderChannels(t *testing.T) {
	dir := t.TempDir()
	gray16 := image.NewGray16(image.Rect(0, 0, 4, 3))
	gray16.SetGray16(1, 1, color.Gray16{0xabcd})
	writeFiles(t, dir, map[string][]byte{"x/a.png": pngBytes(t, grayImage(1)), "x/b.png": pngBytes(t, gray16),
		"y/c.png": pngBytes(t, grayImage(2))})
	// All gray: automatic channels give C = 1 with the stored values.
	m, _, err := ReadFolder(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.C != 1 || m.N != 3 || m.At(1, 1, 1, 0) != 0xab {
		t.Fatalf("got %v, pixel %d; want C = 1 and 0xab", m, m.At(1, 1, 1, 0))
	}
	checkPixels(t, m, 0, 1) // channel 0 of the fixture is the gray value
	// Forced RGB repeats the gray value.
	if m, _, err = ReadFolder(dir, FolderOptions{Channels: 3}); err != nil {
		t.Fatal(err)
	}
	if m.C != 3 || m.At(2, 3, 2, 0) != m.At(2, 3, 2, 2) {
		t.Errorf("Channels 3: got %v", m)
	}
	// Forced gray on colour images: color.GrayModel's luma.
	writeFiles(t, dir, map[string][]byte{"y/d.png": pngBytes(t, fixtureRGB(4, 3, 3))})
	if m, _, err = ReadFolder(dir, FolderOptions{Channels: 1}); err != nil {
		t.Fatal(err)
	}
	want := color.GrayModel.Convert(fixtureRGB(4, 3, 3).At(2, 1)).(color.Gray).Y
	if m.C != 1 || m.At(3, 2, 1, 0) != want {
		t.Errorf("Channels 1: got %v, luma %d, want %d", m, m.At(3, 2, 1, 0), want)
	}
}

func TestReadFolderDrawnSplit(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	for k := range 10 {
		files[filepath.Join("cat", string(rune('a'+k))+".png")] = pngBytes(t, fixtureRGB(4, 3, k))
		files[filepath.Join("dog", string(rune('a'+k))+".png")] = pngBytes(t, fixtureRGB(4, 3, k+10))
	}
	writeFiles(t, dir, files)
	opt := FolderOptions{TestFraction: 0.3, Seed: 7}
	train, test, err := ReadFolder(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 14 || test.N != 6 || !slices.Equal(test.ClassCounts(), []int{3, 3}) {
		t.Fatalf("got %v, %v, test counts %v; want 14 + 6, 3 per class", train, test, test.ClassCounts())
	}
	again, test2, err := ReadFolder(dir, opt)
	if err != nil || !bytes.Equal(again.Pixels, train.Pixels) || !bytes.Equal(test2.Pixels, test.Pixels) {
		t.Errorf("the same seed gave another split (%v)", err)
	}
	other, _, err := ReadFolder(dir, FolderOptions{TestFraction: 0.3, Seed: 8})
	if err != nil || bytes.Equal(other.Pixels, train.Pixels) {
		t.Errorf("seeds 7 and 8 gave the same split (%v)", err)
	}
	// The split is a partition: every source image appears exactly once.
	seen := map[string]int{}
	for _, m := range []*Images{train, test} {
		for i := range m.N {
			seen[string(m.Example(i))]++
		}
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct images across the splits, want 20", len(seen))
	}
}

func TestReadFolderArchiveLayouts(t *testing.T) {
	a, b := pngBytes(t, fixtureRGB(4, 3, 0)), pngBytes(t, fixtureRGB(4, 3, 1))
	for _, c := range []struct {
		name                 string
		members              []string
		nTrain, nTest, nClas int
		unlabelled           bool
	}{
		{"wrapped split", []string{"./wrap/train/cat/a.png", "./wrap/test/cat/b.png"}, 1, 1, 1, false},
		{"val instead of test", []string{"train/cat/a.png", "train/dog/b.png", "val/dog/a.png"}, 2, 1, 2, false},
		{"flat, unlabelled", []string{"a.png", "b.png"}, 2, 0, 0, true},
		{"one wrapper, flat", []string{"pics/a.png", "pics/b.png"}, 2, 0, 0, true},
		{"root files ignored", []string{"x.png", "cat/a.png", "dog/b.png"}, 2, 0, 2, false},
	} {
		contents := make([][]byte, len(c.members))
		for i := range contents {
			contents[i] = [][]byte{a, b}[i%2]
		}
		train, test, err := ReadFolderArchive(c.name+".tar", bytes.NewReader(tarBytes(t, c.members, contents)), FolderOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if train.N != c.nTrain || test.N != c.nTest || len(train.Classes) != c.nClas || (train.Labels[0] == -1) != c.unlabelled {
			t.Errorf("%s: got %v, %v, labels %v", c.name, train, test, train.Labels)
		}
		if err := train.Validate(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestCIFAR10JPEGArchive loads CIFAR-10 with no --data-dir, which finds ../shared/datasets/cifar10-jpg.tar.gz
// (the CIFAR-10 JPEG q75 copy), and logs the time taken.
func TestCIFAR10JPEGArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 60 000 JPEG files; skipped under -short")
	}
	archive := FindCIFAR10JPEG(CIFAR10JPEGPaths())
	if archive == "" {
		t.Skipf("CIFAR-10 JPEG archive not found in %q", CIFAR10JPEGPaths())
	}
	start := time.Now()
	train, test, err := Load("cifar10", "") // finds the archive itself: no --data-dir, no binary release
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Load(cifar10) read %s: %v + %v in %v", archive, train, test, time.Since(start))
	if train.Name != "cifar10-jpg/train" {
		t.Errorf("Load(cifar10) read %s, want the JPEG copy", train.Name)
	}
	if train.N != 50000 || test.N != 10000 || train.H != 32 || train.W != 32 || train.C != 3 {
		t.Fatalf("got %v and %v, want 50000 + 10000 of 32×32×3", train, test)
	}
	if !slices.Equal(train.Classes, CIFAR10Classes) {
		t.Errorf("classes %q, want %q", train.Classes, CIFAR10Classes)
	}
	if !slices.Equal(train.ClassCounts(), slices.Repeat([]int{5000}, 10)) || !slices.Equal(test.ClassCounts(), slices.Repeat([]int{1000}, 10)) {
		t.Errorf("class counts %v / %v, want 5000 / 1000 each", train.ClassCounts(), test.ClassCounts())
	}
}

// BenchmarkReadFolderCIFAR10JPEG measures reading the CIFAR-10 JPEG archive (gunzip, untar, parallel decode).
func BenchmarkReadFolderCIFAR10JPEG(b *testing.B) {
	archive := FindCIFAR10JPEG(CIFAR10JPEGPaths())
	if archive == "" {
		b.Skipf("CIFAR-10 JPEG archive not found in %q", CIFAR10JPEGPaths())
	}
	n := 0
	for b.Loop() {
		train, test, err := ReadFolder(archive, FolderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n += train.N + test.N
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "img/s")
}

// TestToRGBFastPaths checks that the YCbCr, Gray and RGBA fast paths of toRGB give the bytes of the generic
// conversion, for every chroma subsampling and for sub-images whose bounds do not start at (0, 0).
func TestToRGBFastPaths(t *testing.T) {
	var imgs []image.Image
	r := image.Rect(0, 0, 9, 7)
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		m := image.NewYCbCr(r, ratio)
		for i := range m.Y {
			m.Y[i] = uint8(i * 37)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*53+7), uint8(255-i*29)
		}
		imgs = append(imgs, m, m.SubImage(image.Rect(1, 3, 8, 6)))
	}
	gray, rgba := grayImage(2), fixtureRGB(9, 7, 1)
	imgs = append(imgs, gray, gray.SubImage(image.Rect(1, 1, 3, 3)), rgba, rgba.SubImage(image.Rect(3, 1, 8, 5)))
	for k, img := range imgs {
		b := img.Bounds()
		fast, slow := make([]uint8, 3*b.Dx()*b.Dy()), make([]uint8, 3*b.Dx()*b.Dy())
		g1, g2 := toRGB(fast, img), toRGBGeneric(slow, img)
		if !bytes.Equal(fast, slow) || g1 != g2 {
			t.Errorf("image %d (%T, bounds %v): fast path differs from the generic one", k, img, b)
		}
	}
}

func TestReadFolderSymlinks(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	writeFiles(t, dir, map[string][]byte{"c/a.png": pngBytes(t, fixtureRGB(4, 3, 0))})
	writeFiles(t, outside, map[string][]byte{"b.png": pngBytes(t, fixtureRGB(4, 3, 1)), "d/e.png": pngBytes(t, fixtureRGB(4, 3, 2))})
	if err := os.Symlink(filepath.Join(outside, "b.png"), filepath.Join(dir, "c", "b.png")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.Symlink(filepath.Join(outside, "d"), filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	train, _, err := ReadFolder(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The lone class folder c/ is descended into: two unlabelled images, a.png and the linked b.png.
	if train.N != 2 || train.Classes != nil {
		t.Fatalf("got %v, want the 2 images of c/ (the link to folder d/ is not followed)", train)
	}
	checkPixels(t, train, 1, 1)
}
