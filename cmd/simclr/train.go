package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/train"
	"github.com/spf13/pflag"
)

func isUsage(err error) bool { return train.IsUsage(err) }

// trainFlags binds every Config field to a flag whose default is the field's value in c.
func trainFlags(fs *pflag.FlagSet, c *train.Config) {
	list := func(xs []string) string { return strings.Join(xs, ", ") }
	fs.StringVar(&c.Data, "data", c.Data, "data set: "+list(train.DataSets))
	fs.IntVar(&c.Clusters, "clusters", c.Clusters, "number of clusters K (--data clusters)")
	fs.IntVar(&c.Dim, "dim", c.Dim, "input dimension d (--data clusters)")
	fs.IntVar(&c.PerCluster, "per-cluster", c.PerCluster, "points per cluster (--data clusters)")
	fs.Float64Var(&c.Radius, "radius", c.Radius, "cluster standard deviation (gaussian) or radius (ball)")
	fs.StringVar(&c.Shape, "shape", c.Shape, "cluster shape: gaussian, ball")
	fs.StringVar(&c.Centers, "centers", c.Centers, "cluster centres: grid, lattice, circle, random")
	fs.Float64Var(&c.Spacing, "spacing", c.Spacing, "distance between grid centres")
	fs.Float64Var(&c.Scale, "scale", c.Scale, "circle radius or random-box half-width of the centres")
	fs.StringVar(&c.Model, "model", c.Model, "encoder: "+list(train.Models))
	fs.IntVar(&c.Width, "width", c.Width, "hidden width m")
	fs.IntVar(&c.Depth, "depth", c.Depth, "number of hidden layers L (--model mlp)")
	fs.StringVar(&c.Activation, "activation", c.Activation, "activation σ: "+list(arch.Activations))
	fs.StringVar(&c.Scaling, "scaling", c.Scaling, "output scaling α_m: standard (1), ntk (1/√m), mean-field (1/m)")
	fs.StringVar(&c.Trainable, "trainable", c.Trainable, "trained weights: "+list(arch.Trainables))
	fs.BoolVar(&c.Normalize, "normalize", c.Normalize, "normalise the encoder output onto the unit sphere")
	fs.IntVar(&c.LatentDim, "latent-dim", c.LatentDim, "latent dimension k")
	fs.IntVar(&c.HeadDim, "head-dim", c.HeadDim, "projection head output dimension (0: no head)")
	fs.IntVar(&c.HeadHidden, "head-hidden", c.HeadHidden, "projection head hidden width")
	fs.StringVar(&c.Augment, "augment", c.Augment, `augmentations, e.g. "noise:0.05,shift:1,rotate:pi" or "none"`)
	fs.IntVar(&c.BatchSize, "batch-size", c.BatchSize, "N pairs per step (2N views); 0 = whole data set")
	fs.IntVar(&c.Steps, "steps", c.Steps, "training steps")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "temperature τ")
	fs.StringVar(&c.Loss, "loss", c.Loss, "objective: "+list(losses.Parts))
	fs.StringVar(&c.Kernel, "kernel", c.Kernel, "similarity kernel η: "+list(losses.Kernels))
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "optimiser: "+list(optim.Names))
	fs.Float64Var(&c.LR, "lr", c.LR, "learning rate")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed (data, initialisation, augmentations, batch order)")
	fs.StringVar(&c.DType, "dtype", c.DType, "float32 or float64")
	fs.StringVar(&c.Backend, "backend", c.Backend, `compute backend: go (default), xla, xla:cpu, xla:cuda, xla:/path/plugin.so (default $GOMLX_BACKEND or go)`)
	fs.StringVarP(&c.OutDir, "out-dir", "o", c.OutDir, "output directory")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "write a metrics row every this many steps")
}

func runTrain(args []string) error {
	c := train.Defaults()
	// --config FILE gives a base that explicit flags override: read it before binding the flags.
	for i, a := range args {
		file, ok := strings.CutPrefix(a, "--config=")
		if a == "--config" && i+1 < len(args) {
			file, ok = args[i+1], true
		}
		if ok {
			b, err := os.ReadFile(file)
			if err != nil {
				return usageError{fmt.Errorf("--config: %w", err)}
			}
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				return usageError{fmt.Errorf("--config %s: %w", file, err)}
			}
		}
	}
	fs := newFlags("train")
	trainFlags(fs, &c)
	fs.String("config", "", "JSON file of settings (keys are flag names) that explicit flags override")
	dryRun := fs.Bool("dry-run", false, "print the resolved configuration and exit")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if *dryRun {
		b, _ := json.MarshalIndent(c, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	_, err := train.Run(c, os.Stderr)
	return err
}
