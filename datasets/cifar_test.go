package datasets

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseCIFAR10Fixture(t *testing.T) {
	m, err := ParseCIFAR10("cifar10-tiny.bin", readFixture(t, "cifar10-tiny.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.N != 3 || m.H != 32 || m.W != 32 || m.C != 3 || len(m.Classes) != 10 {
		t.Fatalf("got %v, want 3 × 32×32×3, 10 classes", m)
	}
	if !slices.Equal(m.Labels, []int{3, 0, 9}) {
		t.Errorf("labels %v, want [3 0 9]", m.Labels)
	}
	for k := range 3 {
		checkPixels(t, m, k, k)
	}
	// Spot check against the byte formula: pixel (x=5, y=2, c=1) of record 2 is byte 2·3073 + 1 + 1024 + 2·32 + 5.
	raw := readFixture(t, "cifar10-tiny.bin")
	if got, want := m.At(2, 5, 2, 1), raw[2*3073+1+1024+2*32+5]; got != want {
		t.Errorf("At(2, 5, 2, 1) = %d, want byte %d", got, want)
	}
}

func TestParseCIFAR100Fixture(t *testing.T) {
	m, err := ParseCIFAR100("cifar100-tiny.bin", readFixture(t, "cifar100-tiny.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if m.N != 2 || len(m.Classes) != 100 || !slices.Equal(m.Labels, []int{99, 42}) {
		t.Fatalf("got %v labels %v, want 2 images, 100 classes, fine labels [99 42]", m, m.Labels)
	}
	for k := range 2 {
		checkPixels(t, m, k, k)
	}
}

// writeFiles writes name → content into dir.
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// cifar10Release returns the files of a tiny CIFAR-10 binary release: batch k holds the fixture's records with
// labels shifted by k, so the order of concatenation shows in the labels.
func cifar10Release(withMeta bool) map[string][]byte {
	files := map[string][]byte{}
	for k, base := range cifar10.train {
		labels := [][]byte{{byte(k)}, {byte(k + 1)}}
		files[base] = cifarFixture(labels)
	}
	files["test_batch.bin"] = cifarFixture([][]byte{{9}})
	if withMeta {
		files["batches.meta.txt"] = []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")
	}
	return files
}

func checkCIFAR10Release(t *testing.T, train, test *Images, classes []string) {
	t.Helper()
	if train.N != 10 || test.N != 1 || train.Name != "cifar10/train" || test.Name != "cifar10/test" {
		t.Fatalf("got %v and %v, want 10 + 1 images named cifar10/train, cifar10/test", train, test)
	}
	if want := []int{0, 1, 1, 2, 2, 3, 3, 4, 4, 5}; !slices.Equal(train.Labels, want) {
		t.Errorf("train labels %v, want %v", train.Labels, want)
	}
	if !slices.Equal(train.Classes, classes) || !slices.Equal(test.Classes, classes) {
		t.Errorf("classes %q / %q, want %q", train.Classes, test.Classes, classes)
	}
	checkPixels(t, train, 3, 1) // image 1 of batch 2
	checkPixels(t, test, 0, 0)
}

func TestReadCIFAR10DirAndArchive(t *testing.T) {
	letters := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	// A plain folder with batches.meta.txt, and a parent folder holding cifar-10-batches-bin/ without it.
	dir := t.TempDir()
	writeFiles(t, dir, cifar10Release(true))
	train, test, err := ReadCIFAR10Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkCIFAR10Release(t, train, test, letters)

	parent := t.TempDir()
	writeFiles(t, filepath.Join(parent, "cifar-10-batches-bin"), cifar10Release(false))
	if train, test, err = ReadCIFAR10Dir(parent); err != nil {
		t.Fatal(err)
	}
	checkCIFAR10Release(t, train, test, numberedClasses(10))

	// The official archive layout, gzipped, read without unpacking.
	var names []string
	var contents [][]byte
	for name, b := range cifar10Release(true) {
		names, contents = append(names, "cifar-10-batches-bin/"+name), append(contents, b)
	}
	archive := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	writeFiles(t, filepath.Dir(archive), map[string][]byte{filepath.Base(archive): gzipBytes(t, tarBytes(t, names, contents))})
	for _, p := range []string{archive, filepath.Dir(archive)} {
		if train, test, err = ReadCIFAR10Dir(p); err != nil {
			t.Fatal(err)
		}
		checkCIFAR10Release(t, train, test, letters)
	}
}

func TestReadCIFAR100Dir(t *testing.T) {
	dir := t.TempDir()
	names := make([]byte, 0, 400)
	for i := range 100 {
		names = append(names, []byte("c"+string(rune('0'+i/10))+string(rune('0'+i%10))+"\n")...)
	}
	writeFiles(t, filepath.Join(dir, "cifar-100-binary"), map[string][]byte{
		"train.bin":            readFixture(t, "cifar100-tiny.bin"),
		"test.bin":             cifarFixture([][]byte{{0, 7}}),
		"fine_label_names.txt": names,
	})
	train, test, err := ReadCIFAR100Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 2 || test.N != 1 || test.Labels[0] != 7 || train.Classes[42] != "c42" || train.Name != "cifar100/train" {
		t.Errorf("got %v labels %v, %v labels %v, class 42 %q", train, train.Labels, test, test.Labels, train.Classes[42])
	}
}
