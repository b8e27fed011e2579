package datasets

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

// solid is a w×h image of one colour; bands is a w×h image of three vertical bands of width w/3: white,
// gray 128, black.
func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func bands(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := []uint8{255, 128, 0}[3*x/w]
			img.SetRGBA(x, y, color.RGBA{v, v, v, 255})
		}
	}
	return img
}

// TestFolderMixedSizes: a folder of images of several sizes and shapes reads as one set of the first image's
// size (or FolderOptions.Size), each resized to cover it and centre-cropped: solid colours stay exact, and of
// a wide image of three bands the centre crop keeps exactly the middle band.
func TestFolderMixedSizes(t *testing.T) {
	dir := t.TempDir()
	red, blue := color.RGBA{200, 10, 10, 255}, color.RGBA{10, 20, 230, 255}
	files := map[string]image.Image{
		"a/1.png": solid(4, 3, red),  // the first: the set's size
		"a/2.png": solid(12, 9, red), // same shape, 3× larger
		"a/3.png": solid(3, 7, red),  // taller and narrower
		"b/1.png": solid(40, 2, blue),
		"b/2.png": bands(27, 9), // 3:1 wide: its square centre crop (Size 3 below) is exactly the middle band
	}
	for name, img := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, pngBytes(t, img), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr, _, err := ReadFolder(dir, FolderOptions{TestFraction: 0})
	if err != nil {
		t.Fatal(err)
	}
	if tr.N != 5 || tr.H != 3 || tr.W != 4 || tr.C != 3 {
		t.Fatalf("set %d × %d×%d×%d, want 5 × 3×4×3", tr.N, tr.H, tr.W, tr.C)
	}
	for i := range 4 { // a/1, a/2, a/3, b/1 in label-then-path order (b/2, the bands, is the fifth)
		want := red
		if i == 3 {
			want = blue
		}
		px := tr.Pixels[i*36 : (i+1)*36]
		for j := 0; j < len(px); j += 3 {
			if px[j] != want.R || px[j+1] != want.G || px[j+2] != want.B {
				t.Fatalf("image %d pixel %d = %v, want %v", i, j/3, px[j:j+3], want)
			}
		}
	}
	sq, _, err := ReadFolder(dir, FolderOptions{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	if sq.H != 3 || sq.W != 3 {
		t.Fatalf("Size 3: %d×%d", sq.H, sq.W)
	}
	// bands(27, 9) at Size 3: scaled by 1/3 to 9×3, the centre 3×3 is the middle band, gray 128.
	px := sq.Pixels[4*27 : 5*27]
	for j, v := range px {
		if v != 128 {
			t.Fatalf("centre crop of the bands: value %d at %d, want 128 (%v)", v, j, px)
		}
	}
	if _, _, err := ReadFolder(dir, FolderOptions{Size: -1}); err == nil {
		t.Error("Size −1 accepted")
	}
}
