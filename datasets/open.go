package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Stream modes (LoadOptions.Stream, --stream): whether an image folder is decoded into memory or streamed.
const (
	StreamAuto = "auto" // stream a folder whose decoded images would exceed StreamThreshold
	StreamOn   = "on"   // always stream (folders on disk, stl10)
	StreamOff  = "off"  // always decode into memory
)

// StreamModes lists the stream modes.
var StreamModes = []string{StreamAuto, StreamOn, StreamOff}

// StreamThreshold is the rule of StreamAuto: a folder is streamed when its images, decoded at the training
// size as ReadFolder holds them (N·H·W·3 bytes, N counting both splits), would take more than this. The
// evaluation's raw-input baselines take 4 bytes per value on top, so a set held in memory stays well under
// 2 GB in all (CIFAR-10's 60 000 images of 32×32: 184 MB, in memory; 20 000 of 96×96: 553 MB, streamed).
const StreamThreshold = 256 << 20

// Splits is a data set opened for training: each split held in memory (an *Images) or streamed from its files
// (a *Stream), exactly one of the two.
type Splits struct {
	Train, Test             *Images
	TrainStream, TestStream *Stream
	// EvalTrain, when not nil, is the labelled split the evaluation (kNN, linear probe) fits on, because the
	// training split is not it (stl10 with --split unlabeled…, or streamed).
	EvalTrain *Images
}

// Open opens the named data set (NamesOf(ImageSet)) as Load does, streaming where o.Stream says: folder:PATH
// under the StreamAuto rule (an archive is never streamed), stl10 always when o.Split includes the unlabelled
// images. The other sets have no streamed form (StreamOn is ErrMismatch for them).
func Open(name, dataDir string, o LoadOptions) (Splits, error) {
	d, ok := Lookup(name)
	switch {
	case !ok || d.Kind != ImageSet:
		train, test, err := LoadWith(name, dataDir, o) // its error
		return Splits{Train: train, Test: test}, err
	case o.Stream != "" && !slices.Contains(StreamModes, o.Stream):
		return Splits{}, fmt.Errorf("datasets: stream mode %q, want one of %s: %w", o.Stream, strings.Join(StreamModes, ", "), ErrMismatch)
	case o.Split != "" && o.Split != "train" && !slices.Contains(d.Splits, o.Split):
		return Splits{}, fmt.Errorf("datasets: %s: no training split %q (want train%s): %w", name, o.Split, strings.Join(append([]string{""}, d.Splits...), ", "), ErrMismatch)
	case d.Open != nil:
		return d.Open(name, dataDir, o)
	case o.Stream == StreamOn:
		return Splits{}, fmt.Errorf("datasets: %s cannot be streamed (only %s): %w", name, strings.Join(StreamNames(), ", "), ErrMismatch)
	}
	train, test, err := d.Images(name, dataDir, o)
	return Splits{Train: train, Test: test}, err
}

// StreamNames lists the data sets that can be streamed.
func StreamNames() []string {
	var ns []string
	for _, d := range registry {
		if d.Open != nil {
			ns = append(ns, d.Name)
		}
	}
	return ns
}

// openFolder opens folder:PATH: in memory, or streamed under o.Stream's rule.
func openFolder(name, dataDir string, o LoadOptions) (Splits, error) {
	_, p, _ := strings.Cut(name, ":")
	if p == "" || o.Stream == StreamOff {
		train, test, err := loadFolder(name, dataDir, o)
		return Splits{Train: train, Test: test}, err
	}
	if dataDir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(dataDir, p)
	}
	opt := DefaultFolderOptions
	opt.Size = o.ImageSize
	if st, err := os.Stat(p); err == nil && !st.IsDir() && o.Stream != StreamOn { // an archive: in memory
		train, test, err := ReadFolder(p, opt)
		return Splits{Train: train, Test: test}, err
	}
	train, test, err := OpenFolderStream(p, opt)
	if err != nil {
		return Splits{}, err
	}
	if o.Stream == StreamOn || int64(train.N+test.N)*int64(train.H*train.W*3) > StreamThreshold {
		return Splits{TrainStream: train, TestStream: test}, nil
	}
	train, test = nil, nil // small enough: decoded into memory, as ReadFolder does
	tr, te, err := ReadFolder(p, opt)
	return Splits{Train: tr, Test: te}, err
}

// openSTL10 opens stl10: the labelled splits in memory (Load's stl10), and with a --split that includes the
// unlabelled images, or --stream on, the training split streamed in place (OpenSTL10Stream) with the labelled
// train split for the evaluation.
func openSTL10(name, dataDir string, o LoadOptions) (Splits, error) {
	split := o.Split
	if split == "" {
		split = "train"
	}
	if !slices.Contains(STL10Splits, split) {
		return Splits{}, fmt.Errorf("datasets: stl10: split %q, want one of %s: %w", split, strings.Join(STL10Splits, ", "), ErrMismatch)
	}
	streamed := split != "train" || o.Stream == StreamOn
	if streamed && o.Stream == StreamOff {
		return Splits{}, fmt.Errorf("datasets: stl10: the split %s is read in place from unlabeled_X.bin (2.76 GB), never into memory; drop stream mode off: %w", split, ErrMismatch)
	}
	train, test, err := loadSTL10(name, dataDir, o)
	if err != nil || !streamed {
		return Splits{Train: train, Test: test}, err
	}
	s, err := OpenSTL10Stream(dataDir, split)
	if err != nil {
		return Splits{}, err
	}
	s.Classes = train.Classes
	return Splits{TrainStream: s, Test: test, EvalTrain: train}, nil
}
