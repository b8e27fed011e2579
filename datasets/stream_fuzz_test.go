package datasets

import (
	"errors"
	"strings"
	"testing"
)

// FuzzSTL10Stream fuzzes the in-place STL-10 reader (OpenSTL10Stream over unlabeled_X.bin, train_X.bin and
// train_y.bin): the number of unlabelled images and delta bytes after them, the train labels (one image of
// random bytes each), the split, and the pixels' seed. Accepted files give a stream whose images hold the
// stored bytes at the place datasets.md §3.4 gives, and whose views are in [0, 1]; refused ones an error
// wrapping one of the readers' sentinels.
func FuzzSTL10Stream(f *testing.F) {
	f.Add(uint8(2), int8(0), []byte{1, 10}, uint8(2), uint64(1))
	f.Add(uint8(1), int8(-1), []byte{1}, uint8(1), uint64(2))
	f.Add(uint8(0), int8(0), []byte{}, uint8(0), uint64(3))
	f.Add(uint8(1), int8(3), []byte{0, 11}, uint8(2), uint64(4))
	f.Fuzz(func(t *testing.T, nUnlabeled uint8, delta int8, labels []byte, split uint8, seed uint64) {
		labels = labels[:min(len(labels), 3)]
		dir := t.TempDir()
		unl, train := writeSTLFiles(t, dir, int(nUnlabeled%4), int(delta), labels, seed)
		name := STL10Splits[int(split)%len(STL10Splits)]
		s, err := OpenSTL10Stream(dir, name)
		if err != nil {
			for _, sentinel := range []error{ErrTruncated, ErrTrailingData, ErrLabelRange, ErrNotFound} {
				if errors.Is(err, sentinel) {
					return
				}
			}
			t.Fatalf("%s: error without a sentinel: %v", name, err)
		}
		defer s.Close()
		var parts [][]byte
		if strings.HasPrefix(name, "unlabeled") {
			parts = append(parts, unl)
		}
		if strings.HasSuffix(name, "train") {
			parts = append(parts, train)
		}
		checkSTLStream(t, s, parts...)
		idx := []int{s.N - 1, 0}
		views := make([]float32, 2*len(idx)*s.ExampleSize())
		if err := s.Views(1, seed, idx, views); err != nil {
			t.Fatal(err)
		}
		for i, v := range views {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("view value %d = %v, outside [0, 1]", i, v)
			}
		}
	})
}
