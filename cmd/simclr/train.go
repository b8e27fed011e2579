package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/train"
	"github.com/spf13/pflag"
)

func isUsage(err error) bool { return train.IsUsage(err) }

// widths lists each model's default --width, from the registry: "onehidden 256, …".
func widths() string {
	var ws []string
	for _, name := range models.Names {
		m, _ := models.Lookup(name)
		ws = append(ws, fmt.Sprintf("%s %d", name, m.Width))
	}
	return strings.Join(ws, ", ")
}

// byData says what each data set picks for a setting, from the registry: "cnn on mnist, fashion-mnist; …".
func byData(pick func(datasets.DataSet) string) string {
	var values []string
	sets := map[string][]string{}
	for _, name := range datasets.Names {
		d, _ := datasets.Lookup(name)
		v := pick(d)
		if sets[v] == nil {
			values = append(values, v)
		}
		sets[v] = append(sets[v], name)
	}
	var parts []string
	for _, v := range values {
		parts = append(parts, v+" on "+strings.Join(sets[v], ", "))
	}
	return strings.Join(parts, "; ")
}

// trainFlags binds every Config field to a flag whose default is the field's value in c.
func trainFlags(fs *pflag.FlagSet, c *train.Config) {
	list := func(xs []string) string { return strings.Join(xs, ", ") }
	fs.StringVar(&c.Data, "data", c.Data, "data set: "+list(train.DataSets)+
		fmt.Sprintf(" (folder:PATH: an ImageFolder tree; without train/ and test/ (or val/) sub-folders, %g%% of each class is held out as the test split and not trained on)",
			100*datasets.DefaultFolderOptions.TestFraction))
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "folder holding the image files (default: the data set's usual place)")
	fs.IntVar(&c.ImageSize, "image-size", c.ImageSize, "folder:PATH data: resize (shorter side, Catmull-Rom) and centre-crop every image to SIZE×SIZE (0: the first image's size; images of other sizes are resized and cropped to it); streamed: the size of the host's crops")
	fs.StringVar(&c.Stream, "stream", c.Stream, fmt.Sprintf("read the images from their files batch by batch instead of decoding the data set into memory: auto, on, off; auto streams a folder:PATH on disk whose images at the training size would take more than %d MiB (N·H·W·3 bytes), and stl10's unlabelled split. Streamed: JPEG/PNG decoded in parallel (GOMAXPROCS workers), SimCLR's random resized crop drawn on the host from the full-resolution image (the device augmentations then skip theirs), %d batches ahead; files that do not decode are skipped with a warning; evaluation on centre crops, without raw-input baselines",
		datasets.StreamThreshold>>20, train.LoaderAhead))
	fs.StringVar(&c.Split, "split", c.Split, "training split of --data stl10: "+strings.Join(datasets.STL10Splits, ", ")+" (unlabeled: the 100 000 unlabelled images, read in place from unlabeled_X.bin; the evaluation uses the labelled train and test splits)")
	fs.IntVar(&c.Clusters, "clusters", c.Clusters, "number of clusters K (--data clusters)")
	fs.IntVar(&c.Dim, "dim", c.Dim, "input dimension d (--data clusters)")
	fs.IntVar(&c.PerCluster, "per-cluster", c.PerCluster, "points per cluster (--data clusters)")
	fs.Float64Var(&c.Radius, "radius", c.Radius, "cluster standard deviation (gaussian) or radius (ball)")
	fs.StringVar(&c.Shape, "shape", c.Shape, "cluster shape: gaussian, ball")
	fs.StringVar(&c.Centers, "centers", c.Centers, "cluster centres: grid, lattice, circle, random")
	fs.Float64Var(&c.Spacing, "spacing", c.Spacing, "distance between grid centres")
	fs.Float64Var(&c.Scale, "scale", c.Scale, "circle radius or random-box half-width of the centres")
	fs.StringVar(&c.Model, "model", c.Model, "encoder: "+list(train.Models)+" (auto: by data set: "+byData(func(d datasets.DataSet) string { return d.Model })+")")
	fs.IntVar(&c.Width, "width", c.Width, "hidden width m (mlp), dense features (cnn), base width (resnet18); 0 = the model's default ("+widths()+")")
	fs.StringVar(&c.Stem, "stem", c.Stem, "resnet18 stem: cifar (3×3, no max-pool) or imagenet (7×7/2 + max-pool)")
	fs.IntSliceVar(&c.Channels, "channels", c.Channels, "output channels of each convolution + pool stage of --model cnn, e.g. 16,32 (default 32,64)")
	fs.IntVar(&c.Depth, "depth", c.Depth, "number of hidden layers L (--model mlp)")
	fs.StringVar(&c.Activation, "activation", c.Activation, "activation σ: "+list(arch.Activations))
	fs.StringVar(&c.Scaling, "scaling", c.Scaling, "output scaling α_m: standard (1), ntk (1/√m), mean-field (1/m)")
	fs.StringVar(&c.Trainable, "trainable", c.Trainable, "trained weights: "+list(arch.Trainables))
	fs.BoolVar(&c.Normalize, "normalize", c.Normalize, "normalise the encoder output onto the unit sphere")
	fs.IntVar(&c.LatentDim, "latent-dim", c.LatentDim, "latent dimension k of the MLP encoders (0: 2 on points, 128 on images)")
	fs.IntVar(&c.HeadDim, "head-dim", c.HeadDim, "projection head output dimension (0: no head; -1: 128 on images, none on points)")
	fs.IntVar(&c.HeadHidden, "head-hidden", c.HeadHidden, "projection head hidden width")
	fs.StringVar(&c.Augment, "augment", c.Augment, `augmentations: on points e.g. "noise:0.05,shift:1,rotate:pi" or "none"; on images a preset: `+strings.Join(augment.PresetNames, ", ")+`; auto = by data set: `+byData(func(d datasets.DataSet) string { return d.Augment }))
	fs.IntVar(&c.BatchSize, "batch-size", c.BatchSize, "N pairs per step (2N views); 0 = whole data set")
	fs.IntVar(&c.Steps, "steps", c.Steps, "training steps")
	fs.Float64Var(&c.Epochs, "epochs", c.Epochs, "passes over the training set; if > 0 it sets the steps to ⌈epochs·examples/batch-size⌉")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "temperature τ of simclr and mocov3 (mocov3 without this flag: the paper's 0.2)")
	fs.StringVar(&c.Method, "method", c.Method, "objective: simclr (NT-Xent, --loss, --kernel; Chen et al. 2020), vicreg (weights 25/25/1, γ 1, ε 1e-4; Bardes et al. 2022), "+
		"barlow (λ --barlow-lambda; Zbontar et al. 2021), byol (predictor, target network by EMA from --target-tau to 1, cosine; Grill et al. 2020), "+
		"mocov3 (InfoNCE of predictor queries against target keys, τ 0.2, target by EMA; Chen et al. 2021). The papers' projectors are wider than our "+
		"default head (512→128, ours): vicreg 8192-8192-8192, barlow 8192×3, byol 4096→256, mocov3 4096→256; set --head-hidden and --head-dim (configs/cifar10-*.json)")
	fs.IntVar(&c.PredictorHidden, "predictor-hidden", c.PredictorHidden, fmt.Sprintf("byol, mocov3: hidden width of the predictor MLP k→hidden→k, no batch norm (0: %d, ours; the papers: 4096 with batch norm)", train.DefaultPredictorHidden))
	fs.Float64Var(&c.TargetTau, "target-tau", c.TargetTau, "byol, mocov3: τ_base of the target network's EMA ξ ← τξ + (1−τ)θ, raised to 1 over --steps on a cosine (0: the paper's, byol 0.996, mocov3 0.99)")
	fs.Float64Var(&c.BarlowLambda, "barlow-lambda", c.BarlowLambda, "barlow: off-diagonal weight λ (0: the paper's 5e-3 for d = 8192, kept unscaled for smaller projectors; see losses.BarlowConfig)")
	fs.Float64SliceVar(&c.VICRegWeights, "vicreg-weights", c.VICRegWeights, "vicreg: `weights` λ,μ,ν of the invariance, variance and covariance terms; 25,0,1 is the collapse ablation without the variance term (default the paper's 25,25,1)")
	fs.Lookup("vicreg-weights").DefValue = "" // pflag would add "(default [])" for the nil slice that means 25,25,1
	fs.BoolVar(&c.NoPredictor, "no-predictor", c.NoPredictor, "byol, mocov3: no predictor, the online latents predict the target's (the collapse ablation of Grill et al. 2020, Table 5b)")
	fs.StringVar(&c.Loss, "loss", c.Loss, "objective: "+list(losses.Parts))
	fs.StringVar(&c.Kernel, "kernel", c.Kernel, "similarity kernel η: "+list(losses.Kernels))
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "optimiser: "+list(optim.Names))
	fs.Float64Var(&c.LR, "lr", c.LR, "learning rate")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "momentum of sgd and lars (−1: the optimiser's default: sgd 0, lars 0.9)")
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "weight decay of sgd and lars, not applied to biases and batch-norm parameters under lars (−1: default: sgd 0, lars 1e-6)")
	fs.StringVar(&c.LRSchedule, "lr-schedule", c.LRSchedule, "learning-rate schedule: constant, or cosine (decays to 0 over --steps)")
	fs.IntVar(&c.Warmup, "warmup-steps", c.Warmup, "steps of linear learning-rate warm-up from 0")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed (data, initialisation, augmentations, batch order)")
	fs.Var(initFromFlag{&c.InitFrom}, "init-from", "start from the weights of FILE instead of drawing them from --seed: a run folder (its newest checkpoint; any model), a checkpoint (.ckpt), "+
		"or simclr export's .safetensors/.npz (mlp, onehidden, cnn); matched by name and shape. A projection head that the file lacks (an encoder-only export) is drawn from --seed as usual. "+
		"config.json records the file and its sha256. Not with --resume")
	fs.StringVar(&c.DType, "dtype", c.DType, "float32; float64 (point data only); or bfloat16: mixed precision, the model's forward and backward passes in bfloat16 with float32 weights, optimiser state and loss (doc/precision.md)")
	fs.StringVar(&c.Backend, "backend", c.Backend, `compute backend: auto (xla:cuda with a GPU and its plugin, else xla:cpu with its plugin, else go), go, xla, xla:cpu, xla:cuda, xla:/path/plugin.so (default $GOMLX_BACKEND or auto)`)
	fs.Var(devicesFlag{&c.Devices}, "devices", "data-parallel devices of an XLA backend (a number, or all): the batch is split across them, embeddings gathered for the loss (global negatives), gradients summed (doc/distributed.md)")
	fs.BoolVar(&c.LocalNegatives, "local-negatives", c.LocalNegatives, "with --devices > 1: contrast each device's examples only among themselves (fewer negatives, no gathering of the embeddings)")
	fs.BoolVar(&c.SyncBN, "sync-bn", c.SyncBN, "with --devices > 1: batch norm over the global batch, as on one device (default: each device's share, as SimCLR's reference)")
	fs.StringVarP(&c.OutDir, "out-dir", "o", c.OutDir, "output directory; a folder holding another run is refused (see --resume, --overwrite) (default: a new runs/<date-time>, linked as runs/latest)")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "write a metrics row every this many steps")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "also log the kNN accuracy every this many steps (0: never)")
	fs.BoolVar(&c.Eval, "eval", c.Eval, "evaluate (kNN and linear probe, and raw-input baselines) at the end")
	fs.Var(probeFlag{&c.OnlineProbe}, "online-probe", "online linear probe: a linear classifier on the detached features, trained in the same step (Adam), its accuracy on each logged batch in metrics.csv (online_acc): auto (on for image data, off for points), true or false; ignored, with a note, on data without labels")
	fs.Lookup("online-probe").NoOptDefVal = "true"
	fs.Float64Var(&c.OnlineProbeLR, "online-probe-lr", c.OnlineProbeLR, "learning rate of the online probe (Adam, constant: the features move until the last step)")
	fs.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "write a checkpoint every this many steps (0: only at the end)")
	fs.IntVar(&c.KeepCheckpoints, "keep-checkpoints", c.KeepCheckpoints, "how many of the newest checkpoints to keep")
	fs.StringVar(&c.OnNaN, "on-nan", c.OnNaN, "when a loss or gradient is NaN/Inf: stop, or skip the step")
	fs.StringVar(&c.Resume, "resume", c.Resume, "continue the run in this directory from its newest complete checkpoint")
	fs.BoolVar(&c.Overwrite, "overwrite", c.Overwrite, "let a new run replace the run files (config.json, metrics.csv, checkpoints, …) of a non-empty --out-dir; nothing else there is touched")
}

func runTrain(args []string) error {
	c := train.Defaults()
	// --config FILE, or the config.json of --resume DIR, gives a base that explicit flags override: read it
	// before binding the flags.
	if file := flagValue(args, "config"); file != "" {
		rec, err := train.ReadRunRecord(file, c)
		if err != nil {
			return usageError{fmt.Errorf("--config: %w", err)}
		}
		c = rec.Config
	}
	if dir := flagValue(args, "resume"); dir != "" {
		rec, err := train.ReadRunRecord(filepath.Join(dir, "config.json"), c)
		if err != nil {
			return usageError{fmt.Errorf("--resume %s: reading the run's config.json: %w", dir, err)}
		}
		c = rec.Config
		c.OutDir, c.Backend = dir, ""
	}
	fs := newFlags("train")
	trainFlags(fs, &c)
	fs.String("config", "", "JSON file of settings (keys are flag names) that explicit flags override")
	dryRun := fs.Bool("dry-run", false, "print the resolved configuration and exit")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.CheckModelFlags(fs.Changed); err != nil {
		return err
	}
	if c.Resume != "" && fs.Changed("init-from") {
		return usageError{fmt.Errorf("--init-from cannot be used with --resume: a resumed run continues from its own checkpoint (which holds the weights it started from and all it learnt since)")}
	}
	if fs.Changed("online-probe-lr") && c.Resolve().OnlineProbe == "false" {
		return usageError{fmt.Errorf("--online-probe-lr applies only with the online probe (on by default for image data; --online-probe turns it on for points)")}
	}
	c = c.MethodDefaults(func(name string) bool { return fs.Changed(name) || inBase(args, name) })
	if *dryRun { // a real run validates in train.Open, the one place that does
		if err := c.Validate(); err != nil {
			return err
		}
		// The settings, and the actions (not settings, never in config.json) the run would take.
		b, _ := json.MarshalIndent(struct {
			train.Config
			Resume    string `json:"resume,omitempty"`
			Overwrite bool   `json:"overwrite,omitempty"`
		}{c.Resolve(), c.Resume, c.Overwrite}, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	_, err := train.Run(c, os.Stderr)
	return err
}

// inBase reports whether the JSON file of --config or the config.json of --resume in args sets the key name.
func inBase(args []string, name string) bool {
	files := []string{flagValue(args, "config")}
	if dir := flagValue(args, "resume"); dir != "" {
		files = append(files, filepath.Join(dir, "config.json"))
	}
	for _, f := range files {
		var keys map[string]json.RawMessage
		if b, err := os.ReadFile(f); f != "" && err == nil && json.Unmarshal(b, &keys) == nil {
			if _, ok := keys[name]; ok {
				return true
			}
		}
	}
	return false
}

// flagValue returns the value of --name in args ("--name V" or "--name=V"), or "".
func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// initFromFlag is --init-from: a path; naming it anew drops the sha256 that a --config file recorded.
type initFromFlag struct{ f *train.InitFrom }

func (f initFromFlag) String() string {
	if f.f == nil {
		return ""
	}
	return f.f.Path
}

func (f initFromFlag) Set(s string) error {
	if s == "" {
		return fmt.Errorf("want a file or run folder")
	}
	*f.f = train.InitFrom{Path: s}
	return nil
}

func (f initFromFlag) Type() string { return "FILE" }

// devicesFlag is --devices: a number of devices, or "all" (stored as -1).
type devicesFlag struct{ n *int }

func (f devicesFlag) String() string {
	if f.n == nil {
		return "1"
	}
	if *f.n == -1 {
		return "all"
	}
	return strconv.Itoa(*f.n)
}

func (f devicesFlag) Set(s string) error {
	if s == "all" {
		*f.n = -1
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		return fmt.Errorf("want a number of devices ≥ 1 or all, got %q", s)
	}
	*f.n = v
	return nil
}

func (f devicesFlag) Type() string { return "N|all" }

// probeFlag is --online-probe: auto, true or false; the flag alone means true.
type probeFlag struct{ v *string }

func (f probeFlag) String() string {
	if f.v == nil {
		return "auto"
	}
	return *f.v
}

func (f probeFlag) Set(s string) error {
	switch s {
	case "auto", "true", "false":
		*f.v = s
		return nil
	}
	return fmt.Errorf("want auto, true or false, got %q", s)
}

func (f probeFlag) Type() string { return "auto|true|false" }
