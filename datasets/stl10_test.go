package datasets

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseSTL10Fixture(t *testing.T) {
	m, err := ParseSTL10("stl10-tiny", readFixture(t, "stl10-tiny_X.bin"), readFixture(t, "stl10-tiny_y.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.N != 2 || m.H != 96 || m.W != 96 || m.C != 3 || !slices.Equal(m.Labels, []int{0, 9}) {
		t.Fatalf("got %v labels %v, want 2 × 96×96×3, labels [0 9] (stored 1, 10)", m, m.Labels)
	}
	for k := range 2 {
		checkPixels(t, m, k, k) // fails on a missing transpose: R = 7x differs from 7y
	}
	// The byte formula of datasets.md §3.4: pixel (x=3, y=70, c=2) of image 1 is at 27648 + 2·9216 + 3·96 + 70.
	raw := readFixture(t, "stl10-tiny_X.bin")
	if got, want := m.At(1, 3, 70, 2), raw[27648+2*9216+3*96+70]; got != want {
		t.Errorf("At(1, 3, 70, 2) = %d, want %d", got, want)
	}
	if m.Classes[2] != "car" {
		t.Errorf("class 2 = %q, want car", m.Classes[2])
	}
}

func TestReadSTL10Dir(t *testing.T) {
	dir := t.TempDir()
	x, y := readFixture(t, "stl10-tiny_X.bin"), readFixture(t, "stl10-tiny_y.bin")
	files := map[string][]byte{"train_X.bin": x, "train_y.bin": y, "test_X.bin": x[:stlImage], "test_y.bin": {5},
		"class_names.txt": []byte("c0\nc1\nc2\nc3\nc4\nc5\nc6\nc7\nc8\nc9\n")}
	writeFiles(t, filepath.Join(dir, "stl10_binary"), files)
	train, test, err := ReadSTL10Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 2 || test.N != 1 || test.Labels[0] != 4 || train.Classes[3] != "c3" || test.Name != "stl10/test" {
		t.Errorf("got %v, %v (label %d, class 3 %q)", train, test, test.Labels[0], train.Classes[3])
	}
	checkPixels(t, test, 0, 0)

	// The same files in the official archive.
	var names []string
	var contents [][]byte
	for name, b := range files {
		names, contents = append(names, "stl10_binary/"+name), append(contents, b)
	}
	archive := filepath.Join(t.TempDir(), "stl10_binary.tar.gz")
	writeFiles(t, filepath.Dir(archive), map[string][]byte{"stl10_binary.tar.gz": gzipBytes(t, tarBytes(t, names, contents))})
	if train, test, err = ReadSTL10Dir(archive); err != nil {
		t.Fatal(err)
	}
	if train.N != 2 || test.N != 1 || train.Classes[3] != "c3" {
		t.Errorf("archive: got %v, %v", train, test)
	}
	checkPixels(t, train, 1, 1)
}

func TestSTL10UnlabeledLazy(t *testing.T) {
	x := readFixture(t, "stl10-tiny_X.bin")
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "stl10_binary"), map[string][]byte{"unlabeled_X.bin": x})
	u, err := OpenSTL10Unlabeled(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if u.Len() != 2 {
		t.Fatalf("Len = %d, want 2", u.Len())
	}
	labelled, err := ParseSTL10("ref", x, []byte{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		img, err := u.Example(i, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img, labelled.Example(i)) {
			t.Errorf("image %d differs from the labelled reader's", i)
		}
	}
	batch, err := u.Batch([]int{1, 0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := labelled.Batch([]int{1, 0}, nil); !slices.Equal(batch, want) {
		t.Error("Batch differs from Images.Batch")
	}
	if _, err := u.Example(2, nil); err == nil {
		t.Error("Example(2) of 2 images: want an error")
	}

	// A reader over bytes: size must be a whole number of images.
	if _, err := NewSTL10Unlabeled("short", bytes.NewReader(x[:stlImage+1]), stlImage+1); !errors.Is(err, ErrTruncated) {
		t.Errorf("size 27649: got %v, want ErrTruncated", err)
	}
	if _, err := OpenSTL10Unlabeled(t.TempDir()); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty folder: got %v, want ErrNotFound", err)
	}
}
