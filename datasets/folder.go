package datasets

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// FolderOptions controls ReadFolder and ReadFolderArchive.
type FolderOptions struct {
	// Channels of the result: 0 = automatic (1 when every image decodes as gray, else 3), 1 = gray, 3 = RGB.
	// Gray images become RGB by repeating the gray value; colour images become gray with Go's luma
	// (color.GrayModel, ITU-R BT.601 weights; see Images.toGray).
	Channels int
	// TestFraction of each class goes to the test split when the folder has no test/ or val/ sub-folder.
	TestFraction float64
	// Seed of the split drawn when the folder has no test/ or val/ sub-folder.
	Seed uint64
	// Size, if > 0, makes every image Size×Size: resized (Catmull-Rom) so that its shorter side is Size, then
	// centre-cropped. With 0 the first image's H×W is the size, and any image of another size is resized to
	// cover it and centre-cropped the same way.
	Size int
}

// DefaultFolderOptions are the options Load uses for "folder:PATH": automatic channels, and a 10 % test split
// with seed 0 where the folder has no split of its own.
var DefaultFolderOptions = FolderOptions{TestFraction: 0.1}

// imageExts are the file extensions read as images (compared in lower case); other files are skipped.
var imageExts = []string{".png", ".jpg", ".jpeg"}

// folderEntry is one image file: its slash-separated path relative to the root, and its content when it comes
// from an archive (nil for a folder on disk, read when decoded).
type folderEntry struct {
	rel  string
	data []byte
}

// ReadFolder reads an image folder, or a .tar or .tar.gz archive of one (gzip detected by content), in the
// torchvision ImageFolder convention, and returns its train and test splits:
//
//	ROOT/train/<class>/…/x.png   ROOT/test/<class>/…/y.jpg   (or val/ in place of test/)
//	ROOT/<class>/…/x.png                                      (no split folders)
//	ROOT/x.png                                                (no class folders: unlabelled, label −1)
//
// Folders that hold nothing but one sub-folder are descended into (archives often wrap their content in a
// folder; a lone class folder thus gives an unlabelled set). Images are the files ending in .png, .jpg or
// .jpeg (any case), decoded with image/png and image/jpeg. Skipped: other files, hidden files and folders
// (names starting with "."), links to folders (links to files are followed), and files directly in ROOT, train/
// or test/ when class folders exist. Classes are the class-folder names of both splits, sorted byte-wise;
// label = index in that order. Within a split, images are ordered by label, then by path.
//
// Split: when ROOT has train/, it is the train split and test/ (else val/) the test split; with neither, the
// test split is drawn from train/ as follows. For each class c (in label order) with n_c images sorted by
// path, the k = round(TestFraction·n_c) images at positions perm[0..k) of rand.New(rand.NewPCG(Seed,
// c)).Perm(n_c) go to test (math/rand/v2; an unlabelled set counts as one class, c = 0).
//
// Every image takes the size of the first one, or Size×Size (see FolderOptions.Size): one of another size is
// resized with Catmull-Rom to cover it and centre-cropped. Alpha is composited onto black
// (RGBA's premultiplied values), 16-bit samples keep their high byte; see FolderOptions.Channels for gray vs
// RGB. The decoded set must fit in 4 GiB. Decoding runs on runtime.GOMAXPROCS goroutines. An undecodable image
// is ErrDecode, a header claiming an implausible size ErrTooLarge, a folder without images ErrEmpty, a missing
// root ErrNotFound; each error names the file or folder.
func ReadFolder(root string, opt FolderOptions) (train, test *Images, err error) {
	st, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("datasets: read %s: no such folder or archive: %w", root, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: read %s: %w", root, err)
	}
	if !st.IsDir() {
		f, err := os.Open(root)
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: read %s: %w", root, err)
		}
		defer f.Close()
		return ReadFolderArchive(root, f, opt)
	}
	entries, err := listFolder(root)
	if err != nil {
		return nil, nil, err
	}
	return buildFolder(root, entries, func(rel string) ([]byte, error) {
		return os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	}, opt)
}

// listFolder lists the image files below the folder root (see ReadFolder for what is skipped), in
// filepath.WalkDir's lexical order.
func listFolder(root string) ([]folderEntry, error) {
	var entries []folderEntry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("datasets: read %s: %w", p, err)
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if isImageName(d.Name()) && (d.Type().IsRegular() || isLinkToFile(p, d)) {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return fmt.Errorf("datasets: read %s: %w", p, err)
			}
			entries = append(entries, folderEntry{rel: filepath.ToSlash(rel)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return entries, nil
}

// ReadFolderArchive reads an image folder stored as a tar stream r (gzipped or not); name is used in errors
// (member paths appear as name:member) and for the sets' names. See ReadFolder for the layout and the rules.
func ReadFolderArchive(name string, r io.Reader, opt FolderOptions) (train, test *Images, err error) {
	var entries []folderEntry
	err = walkTar(name, r, func(hdr *tar.Header, content io.Reader) error {
		rel := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if rel == "" || !isImageName(rel) || slices.ContainsFunc(strings.Split(rel, "/"), isHidden) {
			return nil
		}
		data, err := readMember(name, hdr, content)
		if err != nil {
			return err
		}
		entries = append(entries, folderEntry{rel: rel, data: data})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(entries, func(a, b folderEntry) int { return strings.Compare(a.rel, b.rel) })
	entries = slices.CompactFunc(entries, func(a, b folderEntry) bool { return a.rel == b.rel })
	return buildFolder(name, entries, nil, opt)
}

// isLinkToFile reports whether d is a symbolic link to a regular file (links to folders are not followed).
func isLinkToFile(p string, d fs.DirEntry) bool {
	if d.Type()&fs.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

func isImageName(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(path.Ext(name)))
}

// sample is one image of a split: its entry, its path below the split folder, and its label.
type sample struct {
	entry *folderEntry
	sub   string
	label int
}

// folderLayout is a folder's images laid out into splits (see ReadFolder), before any is decoded.
type folderLayout struct {
	train, test []sample
	classes     []string
	heldOut     float64 // the TestFraction drawn, when the folder had no test/ or val/ split of its own
	name        string  // the sets' base name: the folder's or archive's name
}

// buildFolder lays out the entries (see ReadFolder), decodes them and assembles the two splits. read loads an
// entry's content when entry.data is nil.
func buildFolder(root string, entries []folderEntry, read func(rel string) ([]byte, error), opt FolderOptions) (train, test *Images, err error) {
	if opt.Channels != 0 && opt.Channels != 1 && opt.Channels != 3 {
		return nil, nil, fmt.Errorf("datasets: read %s: FolderOptions.Channels = %d, want 0, 1 or 3", root, opt.Channels)
	}
	if opt.Size < 0 || opt.Size > maxImageSide {
		return nil, nil, fmt.Errorf("datasets: read %s: FolderOptions.Size = %d, want 0 (the first image's) or 1..%d: %w", root, opt.Size, maxImageSide, ErrTooLarge)
	}
	l, err := layoutFolder(root, entries, read == nil, opt)
	if err != nil {
		return nil, nil, err
	}
	m, err := decodeAll(root, append(l.train, l.test...), read, opt.Channels, opt.Size)
	if err != nil {
		return nil, nil, err
	}
	m.Classes = l.classes
	train, test = m.split(len(l.train))
	train.Name, test.Name = l.name+"/train", l.name+"/test"
	train.HeldOut, test.HeldOut = l.heldOut, l.heldOut
	return train, test, nil
}

// layoutFolder sorts the entries into the train and test splits and labels them (see ReadFolder); archive
// says whether root names an archive (else a folder on disk).
func layoutFolder(root string, entries []folderEntry, archive bool, opt FolderOptions) (folderLayout, error) {
	if len(entries) == 0 {
		return folderLayout{}, fmt.Errorf("datasets: read %s: no %s files: %w", root, strings.Join(imageExts, "/"), ErrEmpty)
	}
	if !(opt.TestFraction >= 0 && opt.TestFraction <= 1) {
		return folderLayout{}, fmt.Errorf("datasets: read %s: FolderOptions.TestFraction = %g, want 0..1", root, opt.TestFraction)
	}
	prefix, split := splitPrefix(entries)
	testDir := "test/"
	if split && !hasPrefix(entries, prefix+testDir) {
		testDir = "val/"
	}
	var all, trainSet, testSet []sample
	for i := range entries {
		e := &entries[i]
		rel, ok := strings.CutPrefix(e.rel, prefix)
		switch {
		case !ok:
		case !split:
			all = append(all, sample{entry: e, sub: rel})
		case strings.HasPrefix(rel, "train/"):
			trainSet = append(trainSet, sample{entry: e, sub: rel[len("train/"):]})
		case strings.HasPrefix(rel, testDir):
			testSet = append(testSet, sample{entry: e, sub: rel[len(testDir):]})
		}
	}
	if split {
		all = append(slices.Clip(trainSet), testSet...)
	}
	l := folderLayout{classes: classFolders(all)}
	if split && len(testSet) > 0 {
		l.train, l.test = labelled(trainSet, l.classes), labelled(testSet, l.classes)
	} else {
		if split {
			all = trainSet
		}
		l.train, l.test = drawSplit(labelled(all, l.classes), max(len(l.classes), 1), opt)
		l.heldOut = opt.TestFraction
	}
	if len(l.train)+len(l.test) == 0 {
		return folderLayout{}, fmt.Errorf("datasets: read %s: no images in class folders: %w", root, ErrEmpty)
	}
	if abs, err := filepath.Abs(root); err == nil && !archive {
		root = abs // a folder called "." is named after its real name
	}
	l.name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(root), ".gz"), ".tgz"), ".tar")
	return l, nil
}

// splitPrefix reports whether the entries have a train/ folder, either at the root (prefix "") or below
// folders that each hold nothing but one sub-folder (prefix "W1/W2/"), as archives often wrap their content.
// Without train/, prefix is the chain of such single folders, which is treated as the root.
func splitPrefix(entries []folderEntry) (prefix string, split bool) {
	for {
		if hasPrefix(entries, prefix+"train/") {
			return prefix, true
		}
		rest := strings.TrimPrefix(entries[0].rel, prefix)
		top, _, found := strings.Cut(rest, "/")
		if !found {
			return prefix, false
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.rel, prefix+top+"/") {
				return prefix, false
			}
		}
		prefix += top + "/"
	}
}

func hasPrefix(entries []folderEntry, prefix string) bool {
	return slices.ContainsFunc(entries, func(e folderEntry) bool { return strings.HasPrefix(e.rel, prefix) })
}

// classFolders returns the sorted, distinct first path components of the samples that lie in a folder, or nil
// when none does (an unlabelled, flat folder).
func classFolders(samples []sample) []string {
	var classes []string
	for _, s := range samples {
		if class, _, ok := strings.Cut(s.sub, "/"); ok {
			classes = append(classes, class)
		}
	}
	slices.Sort(classes)
	return slices.Compact(classes)
}

// labelled sets each sample's label to the index of its class folder in classes, or −1 when classes is nil,
// drops the samples outside class folders when classes is not nil, and orders the rest by label, then path.
func labelled(samples []sample, classes []string) []sample {
	out := make([]sample, 0, len(samples))
	for _, s := range samples {
		s.label = -1
		if classes != nil {
			class, _, ok := strings.Cut(s.sub, "/")
			if !ok {
				continue
			}
			s.label, _ = slices.BinarySearch(classes, class)
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b sample) int {
		if a.label != b.label {
			return a.label - b.label
		}
		return strings.Compare(a.sub, b.sub)
	})
	return out
}

// drawSplit moves, for each class c, the round(TestFraction·n_c) samples at positions perm[0..k) of
// rand.New(rand.NewPCG(Seed, c)).Perm(n_c) to the test split; samples are ordered by label then path, and both
// splits keep that order. Unlabelled samples (label −1) form class 0.
func drawSplit(samples []sample, numClasses int, opt FolderOptions) (train, test []sample) {
	byClass := make([][]sample, numClasses)
	for _, s := range samples {
		c := max(s.label, 0)
		byClass[c] = append(byClass[c], s)
	}
	for c, group := range byClass {
		k := int(math.Round(opt.TestFraction * float64(len(group))))
		toTest := make([]bool, len(group))
		for _, j := range rand.New(rand.NewPCG(opt.Seed, uint64(c))).Perm(len(group))[:k] {
			toTest[j] = true
		}
		for j, s := range group {
			if toTest[j] {
				test = append(test, s)
			} else {
				train = append(train, s)
			}
		}
	}
	return train, test
}
