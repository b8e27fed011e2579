package datasets

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

// writeSTLFiles writes unlabeled_X.bin (nUnlabeled images of random bytes, plus delta bytes), train_X.bin and
// train_y.bin (one image per label, random bytes) into dir/stl10_binary and returns the two X files' bytes.
func writeSTLFiles(t *testing.T, dir string, nUnlabeled, delta int, labels []byte, seed uint64) (unl, train []byte) {
	rng := rand.New(rand.NewPCG(seed, 1))
	unl = randomPixels(rng, max(nUnlabeled*stlImage+delta, 0))
	train = randomPixels(rng, len(labels)*stlImage)
	files := map[string][]byte{"unlabeled_X.bin": unl, "train_X.bin": train, "train_y.bin": labels}
	if nUnlabeled < 0 {
		delete(files, "unlabeled_X.bin")
	}
	writeFiles(t, filepath.Join(dir, "stl10_binary"), files)
	return unl, train
}

// checkSTLStream checks that the centre crops of s (96×96 from 96×96: the identity) are the stored pixels,
// read with the byte formula of datasets.md §3.4, k·27648 + c·9216 + x·96 + y, of parts (file bytes, in order).
func checkSTLStream(t *testing.T, s *Stream, parts ...[]byte) {
	t.Helper()
	var raw []byte
	for _, p := range parts {
		raw = append(raw, p...)
	}
	if s.N*stlImage != len(raw) || s.H != 96 || s.W != 96 || s.C != 3 {
		t.Fatalf("%v from %d bytes", s, len(raw))
	}
	idx := make([]int, s.N)
	for i := range idx {
		idx[i] = i
	}
	got := make([]float32, s.N*stlImage)
	if err := s.Fill(idx, got); err != nil {
		t.Fatal(err)
	}
	for k := range s.N {
		for _, p := range [][3]int{{0, 0, 0}, {3, 70, 2}, {95, 1, 1}, {50, 95, 0}} {
			x, y, c := p[0], p[1], p[2]
			if g, want := got[((k*96+y)*96+x)*3+c], byteToUnit[raw[k*stlImage+c*stlPlane+x*96+y]]; g != want {
				t.Fatalf("image %d pixel (x=%d, y=%d, c=%d) = %v, want %v", k, x, y, c, g, want)
			}
		}
	}
}

// TestSTL10Stream: the unlabelled, train and unlabeled+train splits read in place, with their labels; Open
// streams them with the labelled splits for the evaluation, and refuses stream mode off for them.
func TestSTL10Stream(t *testing.T) {
	dir := t.TempDir()
	unl, train := writeSTLFiles(t, dir, 3, 0, []byte{1, 10}, 1)
	writeFiles(t, filepath.Join(dir, "stl10_binary"), map[string][]byte{"test_X.bin": train[:stlImage], "test_y.bin": {4}})
	for _, tc := range []struct {
		split  string
		labels []int
		parts  [][]byte
	}{
		{"unlabeled", []int{-1, -1, -1}, [][]byte{unl}},
		{"train", []int{0, 9}, [][]byte{train}},
		{"unlabeled+train", []int{-1, -1, -1, 0, 9}, [][]byte{unl, train}},
	} {
		s, err := OpenSTL10Stream(dir, tc.split)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Labels, tc.labels) || len(s.Classes) != 10 {
			t.Errorf("%s: labels %v, want %v", tc.split, s.Labels, tc.labels)
		}
		checkSTLStream(t, s, tc.parts...)
		s.Close()

		sp, err := Open("stl10", dir, LoadOptions{Split: tc.split})
		if err != nil {
			t.Fatal(err)
		}
		streamed := tc.split != "train"
		if (sp.TrainStream != nil) != streamed || sp.Test == nil || sp.Test.N != 1 || (sp.EvalTrain != nil) != streamed {
			t.Errorf("Open %s: %+v", tc.split, sp)
		}
		if streamed && (sp.EvalTrain.N != 2 || sp.TrainStream.N != len(tc.labels)) {
			t.Errorf("Open %s: evaluation on %v, training on %v", tc.split, sp.EvalTrain, sp.TrainStream)
		}
	}
	if _, err := Open("stl10", dir, LoadOptions{Split: "unlabeled", Stream: StreamOff}); !errors.Is(err, ErrMismatch) {
		t.Errorf("unlabeled with stream off: %v, want ErrMismatch", err)
	}
	if sp, err := Open("stl10", dir, LoadOptions{Stream: StreamOn}); err != nil || sp.TrainStream == nil || sp.TrainStream.N != 2 {
		t.Errorf("train with stream on: %v, want the train split streamed", err)
	}
	if _, err := OpenSTL10Stream(dir, "test"); err == nil {
		t.Error("split test: want an error")
	}
}

// TestSTL10StreamBadFiles: a train_X.bin that does not match train_y.bin, a label out of range, a missing or
// ragged unlabelled file, each an error wrapping its sentinel.
func TestSTL10StreamBadFiles(t *testing.T) {
	for _, tc := range []struct {
		name       string
		unl, delta int
		labels     []byte
		split      string
		want       error
	}{
		{name: "ragged unlabelled", unl: 2, delta: 5, labels: []byte{1}, split: "unlabeled", want: ErrTruncated},
		{name: "no unlabelled", unl: -1, labels: []byte{1}, split: "unlabeled+train", want: ErrNotFound},
		{name: "label 0", unl: 1, labels: []byte{0, 1}, split: "unlabeled+train", want: ErrLabelRange},
		{name: "label 11", unl: 1, labels: []byte{11}, split: "train", want: ErrLabelRange},
	} {
		dir := t.TempDir()
		writeSTLFiles(t, dir, tc.unl, tc.delta, tc.labels, 2)
		if _, err := OpenSTL10Stream(dir, tc.split); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	dir := t.TempDir()
	writeSTLFiles(t, dir, 1, 0, []byte{1, 2}, 3)
	writeFiles(t, filepath.Join(dir, "stl10_binary"), map[string][]byte{"train_y.bin": {1, 2, 3}})
	if _, err := OpenSTL10Stream(dir, "train"); !errors.Is(err, ErrTruncated) {
		t.Errorf("3 labels, 2 images: %v, want ErrTruncated", err)
	}
}
