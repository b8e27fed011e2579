package datasets

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// rgbFile is the pixels of a fixture image: h×w, HWC RGB.
type rgbFile struct {
	h, w int
	pix  []uint8
}

// streamFolder writes PNG images into class folders a/ and b/ (perClass each), of sizes that vary with the
// index (same: all 12×10), and returns the folder and each file's pixels by its slash path below the folder.
func streamFolder(t *testing.T, perClass int, same bool) (string, map[string]rgbFile) {
	t.Helper()
	dir := t.TempDir()
	files, pix := map[string][]byte{}, map[string]rgbFile{}
	for c, class := range []string{"a", "b"} {
		for i := range perClass {
			k := c*perClass + i
			w, h := 20+7*(k%5), 16+5*(k%4)
			if same {
				w, h = 12, 10
			}
			img := fixtureRGB(w, h, k)
			name := fmt.Sprintf("%s/%03d.png", class, i)
			files[name] = pngBytes(t, img)
			f := rgbFile{h: h, w: w, pix: make([]uint8, h*w*3)}
			toRGB(f.pix, img)
			pix[name] = f
		}
	}
	writeFiles(t, dir, files)
	return dir, pix
}

func streamFiles(s *Stream) []string { return s.src.(*folderSource).files }

// TestStreamViewsMatchReference: the two views and the centre crop of each image, decoded from its PNG and
// resampled on the host, equal the float64 reference computed from the known pixels with the same boxes.
func TestStreamViewsMatchReference(t *testing.T) {
	dir, pix := streamFolder(t, 6, false)
	train, test, err := OpenFolderStream(dir, FolderOptions{TestFraction: 0.25, Size: 24})
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 8 || test.N != 4 || train.H != 24 || train.W != 24 || train.C != 3 || train.HeldOut != 0.25 {
		t.Fatalf("got %v and %v (held out %g), want 8 and 4 images of 24×24×3", train, test, train.HeldOut)
	}
	sz := train.ExampleSize()
	idx := []int{3, 0, 7, 3}
	views := make([]float32, 2*len(idx)*sz)
	const seed, step = 5, 11
	if err := train.Views(step, seed, idx, views); err != nil {
		t.Fatal(err)
	}
	centre := make([]float32, len(idx)*sz)
	if err := train.Fill(idx, centre); err != nil {
		t.Fatal(err)
	}
	for k, i := range idx {
		f := pix[streamFiles(train)[i]]
		boxes := train.ViewBoxes(seed, step, k, f.h, f.w)
		if boxes[0] == boxes[1] {
			t.Errorf("image %d: both views have the box %+v", i, boxes[0])
		}
		for v, box := range boxes {
			want := refResize(f.pix, f.w, 3, box, 24, 24)
			if d := maxDiff(t, views[(2*k+v)*sz:(2*k+v+1)*sz], want); d > 1e-5 {
				t.Errorf("image %d view %d (box %+v): max diff %.3g", i, v, box, d)
			}
		}
		want := refResize(f.pix, f.w, 3, CentreBox(f.h, f.w, 24, 24), 24, 24)
		if d := maxDiff(t, centre[k*sz:(k+1)*sz], want); d > 1e-5 {
			t.Errorf("image %d centre crop: max diff %.3g", i, d)
		}
	}
	// Positions 0 and 3 hold the same image: different positions draw different views.
	if slices.Equal(views[:2*sz], views[6*sz:8*sz]) {
		t.Error("the same image at two positions of a batch got the same views")
	}
}

// TestStreamMatchesReadFolder: the streamed splits hold ReadFolder's images in its order with its labels
// (same-size images, whose centre crop at their own size is the identity: the same float32 values).
func TestStreamMatchesReadFolder(t *testing.T) {
	dir, _ := streamFolder(t, 9, true)
	opt := FolderOptions{TestFraction: 0.3, Seed: 4}
	train, test, err := ReadFolder(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	strain, stest, err := OpenFolderStream(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]any{{train, strain}, {test, stest}} {
		m, s := p[0].(*Images), p[1].(*Stream)
		if s.N != m.N || s.H != m.H || s.W != m.W || s.C != m.C || !slices.Equal(s.Labels, m.Labels) ||
			!slices.Equal(s.Classes, m.Classes) || s.HeldOut != m.HeldOut {
			t.Fatalf("stream %v labels %v, ReadFolder %v labels %v", s, s.Labels, m, m.Labels)
		}
		idx := make([]int, m.N)
		for i := range idx {
			idx[i] = i
		}
		got := make([]float32, m.N*m.ExampleSize())
		if err := s.Fill(idx, got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, m.Batch(idx, nil)) {
			t.Errorf("%s: streamed pixels differ from ReadFolder's", s.Name)
		}
	}
}

// TestStreamGray: a folder whose first image is gray streams one channel; a colour image in it becomes its luma.
func TestStreamGray(t *testing.T) {
	dir := t.TempDir()
	colour := fixtureRGB(4, 3, 2)
	writeFiles(t, dir, map[string][]byte{"c/0.png": pngBytes(t, grayImage(1)), "c/1.png": pngBytes(t, colour)})
	train, _, err := OpenFolderStream(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if train.C != 1 || train.H != 3 || train.W != 4 || train.N != 2 {
		t.Fatalf("got %v, want 2 gray images of 4×3", train)
	}
	got := make([]float32, 2*12)
	if err := train.Fill([]int{0, 1}, got); err != nil {
		t.Fatal(err)
	}
	for y := range 3 {
		for x := range 4 {
			r, g, b, _ := colour.At(x, y).RGBA()
			luma := color.GrayModel.Convert(color.RGBA64{uint16(r), uint16(g), uint16(b), 0xffff}).(color.Gray).Y
			if want := []float32{byteToUnit[grayImage(1).GrayAt(x, y).Y], byteToUnit[luma]}; got[y*4+x] != want[0] || got[12+y*4+x] != want[1] {
				t.Fatalf("(%d, %d): got %v, %v, want %v", x, y, got[y*4+x], got[12+y*4+x], want)
			}
		}
	}
}

// TestStreamDeterministic: the views of a step depend on the seed, the step and the position only: two opens
// give the same batch, another step or seed another one, and a loader started at step k (a resumed run)
// hands out the same batch k as one started at step 1.
func TestStreamDeterministic(t *testing.T) {
	dir, _ := streamFolder(t, 5, false)
	opt := FolderOptions{Size: 16}
	a, _, err := OpenFolderStream(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := OpenFolderStream(dir, opt)
	b.Workers = 1 // another schedule of the work: same values
	idx := []int{4, 1, 2}
	views := func(s *Stream, step int, seed uint64) []float32 {
		v := make([]float32, 2*len(idx)*s.ExampleSize())
		if err := s.Views(step, seed, idx, v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if !slices.Equal(views(a, 3, 9), views(b, 3, 9)) {
		t.Error("same seed and step, two opens: different views")
	}
	if slices.Equal(views(a, 3, 9), views(a, 4, 9)) || slices.Equal(views(a, 3, 9), views(a, 3, 10)) {
		t.Error("another step or seed gave the same views")
	}
	indices := func(step int) []int { return []int{step % a.N, (3 * step) % a.N} }
	batchAt := func(first, want int) []float32 {
		l := a.Loader(LoaderOptions{First: first, Last: 6, Indices: indices, Seed: 2, Ahead: 2})
		defer l.Close()
		for {
			step, v, err := l.Next()
			if err != nil {
				t.Fatal(err)
			}
			if step == want {
				return v
			}
		}
	}
	if !slices.Equal(batchAt(1, 5), batchAt(5, 5)) {
		t.Error("batch 5 from a loader started at step 5 differs from the one started at step 1")
	}
}

// TestLoaderBounded: with a consumer that does not take its batches, the loader assembles exactly Ahead of
// them and waits; it hands out the steps in order and ErrLoaderDone after the last.
func TestLoaderBounded(t *testing.T) {
	dir, _ := streamFolder(t, 4, false)
	s, _, err := OpenFolderStream(dir, FolderOptions{Size: 8})
	if err != nil {
		t.Fatal(err)
	}
	for _, ahead := range []int{1, 3} {
		l := s.Loader(LoaderOptions{First: 1, Last: 8, Indices: func(int) []int { return []int{0, 1} }, Ahead: ahead})
		deadline := time.Now().Add(10 * time.Second)
		for l.ahead.Load() < int64(ahead) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // time to overrun, were it not bounded
		if got := l.most.Load(); got != int64(ahead) {
			t.Errorf("Ahead %d: %d batches assembled ahead of the consumer", ahead, got)
		}
		for want := 1; want <= 8; want++ {
			step, v, err := l.Next()
			if err != nil || step != want || len(v) != 2*2*s.ExampleSize() {
				t.Fatalf("Ahead %d: Next = step %d, %d values, %v; want step %d", ahead, step, len(v), err, want)
			}
		}
		if _, _, err := l.Next(); !errors.Is(err, ErrLoaderDone) {
			t.Errorf("after the last step: %v, want ErrLoaderDone", err)
		}
		if got := l.most.Load(); got > int64(ahead) {
			t.Errorf("Ahead %d: at most %d batches were ahead", ahead, got)
		}
		l.Close()
	}
}

// TestStreamSkipsBadFiles: a corrupt JPEG and an empty PNG are skipped with a warning naming them, counted,
// and replaced by the next image that decodes; a folder of nothing but bad files is an error naming none.
func TestStreamSkipsBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := jpegBytes(t, fixtureRGB(10, 8, 1))
	writeFiles(t, dir, map[string][]byte{
		"c/0.jpg": good, "c/1.jpg": good[:len(good)/3], "c/2.png": {}, "c/3.png": pngBytes(t, fixtureRGB(10, 8, 3)),
	})
	s, _, err := OpenFolderStream(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	s.Warn = &warn
	got := make([]float32, 4*s.ExampleSize())
	if err := s.Fill([]int{0, 1, 2, 3}, got); err != nil {
		t.Fatal(err)
	}
	sz := s.ExampleSize()
	for k := 1; k <= 2; k++ { // both replaced by c/3.png
		if !slices.Equal(got[k*sz:(k+1)*sz], got[3*sz:]) {
			t.Errorf("image %d: not replaced by the next good image", k)
		}
	}
	if s.Skipped() != 2 || !strings.Contains(warn.String(), filepath.Join(dir, "c", "1.jpg")) || !strings.Contains(warn.String(), filepath.Join(dir, "c", "2.png")) {
		t.Errorf("skipped %d, warnings %q", s.Skipped(), warn.String())
	}
	if err := s.Fill([]int{1}, got); err != nil || s.Skipped() != 2 || strings.Count(warn.String(), "\n") != 2 {
		t.Errorf("a bad file met again: %v, skipped %d, warnings %q (one per file)", err, s.Skipped(), warn.String())
	}

	bad := t.TempDir()
	writeFiles(t, bad, map[string][]byte{"c/0.jpg": good[:20], "c/1.png": []byte("not a png")})
	if _, _, err := OpenFolderStream(bad, FolderOptions{}); !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), "0.jpg") {
		t.Errorf("no header decodes: %v, want ErrDecode naming the first file", err)
	}
	s, _, err = OpenFolderStream(bad, FolderOptions{Size: 4})
	if err == nil {
		err = s.Fill([]int{0}, make([]float32, 48))
	}
	if !errors.Is(err, ErrDecode) {
		t.Errorf("a folder of bad files: %v, want ErrDecode", err)
	}
}

// TestOpenStreamRule: folder:PATH is streamed when its images at the training size exceed StreamThreshold
// (counted from the headers, nothing decoded) or with StreamOn, held in memory otherwise, with StreamOff, and
// from an archive; streaming an archive, or another set, is refused.
func TestOpenStreamRule(t *testing.T) {
	dir, _ := streamFolder(t, 3, true)
	open := func(size int, mode string) (Splits, error) {
		return Open("folder:"+dir, "", LoadOptions{ImageSize: size, Stream: mode})
	}
	for _, tc := range []struct {
		size     int
		mode     string
		streamed bool
	}{
		{0, "", false}, {0, StreamAuto, false}, {0, StreamOn, true}, {0, StreamOff, false},
		{4096, StreamAuto, true}, // 6 × 4096² × 3 bytes = 302 MB > 256 MiB
		{64, StreamAuto, false}, {4096, StreamOff, false},
	} {
		if tc.size == 4096 && tc.mode == StreamOff {
			continue // would decode 302 MB
		}
		sp, err := open(tc.size, tc.mode)
		if err != nil {
			t.Fatalf("size %d, %q: %v", tc.size, tc.mode, err)
		}
		if streamed := sp.TrainStream != nil; streamed != tc.streamed || (sp.Train != nil) == streamed || (sp.TestStream != nil) != streamed {
			t.Errorf("size %d, %q: streamed %v, want %v", tc.size, tc.mode, streamed, tc.streamed)
		}
	}
	archive := filepath.Join(t.TempDir(), "f.tar")
	writeFiles(t, filepath.Dir(archive), map[string][]byte{"f.tar": readFixture(t, "folder-tiny.tar")})
	if sp, err := Open("folder:"+archive, "", LoadOptions{}); err != nil || sp.Train == nil {
		t.Errorf("archive, auto: %v, want it in memory", err)
	}
	if _, err := Open("folder:"+archive, "", LoadOptions{Stream: StreamOn}); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "unpack") {
		t.Errorf("archive, on: %v, want ErrMismatch saying to unpack it", err)
	}
	for _, o := range []LoadOptions{{Stream: StreamOn}, {Stream: "maybe"}, {Split: "unlabeled"}} {
		if _, err := Open("mnist", "", o); !errors.Is(err, ErrMismatch) {
			t.Errorf("mnist with %+v: %v, want ErrMismatch", o, err)
		}
	}
}

// BenchmarkStreamViews times the loader's work for one batch of 64 images of 256×256 (JPEG quality 90, as
// scripts/genimages writes them): read, decode, two random resized crops to 96×96 each, on GOMAXPROCS
// goroutines. img/s is the rate at which the loader can feed a step.
func BenchmarkStreamViews(b *testing.B) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 64 {
		img := image.NewRGBA(image.Rect(0, 0, 256, 256))
		for k := range img.Pix {
			img.Pix[k] = uint8(128 + 60*math.Sin(float64(k%1024)/40) + 20*rng.NormFloat64())
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, "c", fmt.Sprintf("%02d.jpg", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s, _, err := OpenFolderStream(dir, FolderOptions{Size: 96})
	if err != nil {
		b.Fatal(err)
	}
	idx := make([]int, s.N)
	for i := range idx {
		idx[i] = i
	}
	views := make([]float32, 2*len(idx)*s.ExampleSize())
	step := 0
	for b.Loop() {
		step++
		if err := s.Views(step, 1, idx, views); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(step*len(idx))/b.Elapsed().Seconds(), "img/s")
}
