package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
)

// maxGrid bounds --rows and --views of simclr augment.
const maxGrid = 64

// runAugment writes a PNG grid: each row an original training image and several augmented views of it.
func runAugment(args []string) error {
	fs := newFlags("augment")
	images := strings.Join(datasets.NamesOf(datasets.ImageSet), ", ")
	data := fs.String("data", "mnist", "image data set: "+images+" (default: MNIST, which ships with the module)")
	dataDir := fs.String("data-dir", "", "folder holding the image files (default: the data set's usual place)")
	preset := fs.String("augment", "auto", "augmentation preset: "+strings.Join(augment.PresetNames, ", ")+" (auto: by data set)")
	out := fs.StringP("out", "o", "views.png", "output PNG file")
	rows := fs.Int("rows", 8, "number of images (rows)")
	views := fs.Int("views", 6, "augmented views per image")
	seed := fs.Uint64("seed", 1, "random seed (which images, and the augmentations)")
	spec := fs.String("backend", "", "compute backend (default $GOMLX_BACKEND or auto: xla:cuda, xla:cpu or go, the first that works)")
	if err := parse(fs, args); err != nil {
		return err
	}
	// One graph holds rows·views augmented images, and the PNG grid rows × (views+1) of them: bounded.
	if *rows < 1 || *rows > maxGrid || *views < 1 || *views > maxGrid {
		return usageError{fmt.Errorf("--rows and --views must be in [1, %d], got %d and %d", maxGrid, *rows, *views)}
	}
	d, ok := datasets.Lookup(*data)
	if !ok || d.Kind != datasets.ImageSet {
		return usageError{fmt.Errorf("--data must be one of %s, got %q", images, *data)}
	}
	name := *preset
	if name == "auto" { // the preset simclr train would use on this data set
		name = d.Augment
	}
	pl, err := augment.Preset(name)
	if err != nil {
		return usageError{fmt.Errorf("--augment: %w", err)}
	}
	train, _, err := datasets.Load(*data, *dataDir)
	if errors.Is(err, datasets.ErrNotFound) { // the fix is a flag: --data-dir, or another --data
		return usageError{err}
	} else if err != nil {
		return err
	}
	b, err := backend.New(backend.Spec(*spec))
	if err != nil {
		return err
	}
	defer b.Finalize()
	n := min(*rows, train.N)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = int((uint64(i)*0x9e3779b97f4a7c15 + *seed*0xbf58476d1ce4e5b9) % uint64(train.N))
	}
	x := tensors.FromFlatDataAndDimensions(train.Batch(idx, nil), n, train.H, train.W, train.C)
	rng, err := graph.RNGStateFromSeed(int64(*seed))
	if err != nil {
		return err
	}
	// All views in one graph: the batch repeated, each copy drawing its own parameters.
	outs, err := graph.CallOnceN(b, func(rng, x *graph.Node) []*graph.Node {
		rep := graph.Concatenate(repeat(x, *views), 0) // view v of image i is row v·n + i
		_, p := pl.Sample(rng, n**views, train.H, train.W, train.C)
		return []*graph.Node{pl.Apply(rep, p)}
	}, rng, x)
	if err != nil {
		return err
	}
	all, _ := tensors.CopyFlatData[float32](outs[0])
	size := train.H * train.W * train.C
	originals := make([][]float32, n)
	grid := make([][][]float32, n)
	for i := range n {
		originals[i] = train.Batch([]int{idx[i]}, nil)
		for v := range *views {
			k := v*n + i
			grid[i] = append(grid[i], all[k*size:(k+1)*size])
		}
	}
	if err := augment.WriteGrid(*out, originals, grid, train.H, train.W, train.C); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d images of %s with %d %q views each\n", *out, n, train.Name, *views, pl.Name)
	return nil
}

func repeat(x *graph.Node, n int) []*graph.Node {
	out := make([]*graph.Node, n)
	for i := range out {
		out[i] = x
	}
	return out
}
