// Package train runs SimCLR training: it resolves a Config into data, model, loss and optimiser, compiles one
// training step as a single GoMLX graph, and writes config.json, metrics.csv and the final parameters.
package train

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
)

// Config holds every setting of a run; its JSON keys are the command-line flag names.
type Config struct {
	Data       string  `json:"data"`        // clusters, disks, annuli, mnist, fashion-mnist, cifar10, cifar100, stl10, folder:PATH
	DataDir    string  `json:"data-dir"`    // where image files are (default: each set's usual place)
	ImageSize  int     `json:"image-size"`  // folder: sets: resize and centre-crop every image to this square side (0: the first image's size)
	Clusters   int     `json:"clusters"`    // K for --data clusters
	Dim        int     `json:"dim"`         // input dimension d for --data clusters
	PerCluster int     `json:"per-cluster"` // points per cluster
	Radius     float64 `json:"radius"`      // cluster std (gaussian) or radius (ball)
	Shape      string  `json:"shape"`       // gaussian or ball
	Centers    string  `json:"centers"`     // grid, lattice, circle, random
	Spacing    float64 `json:"spacing"`     // grid spacing
	Scale      float64 `json:"scale"`       // circle radius / random box half-width

	Model       string  `json:"model"`              // auto, onehidden, mlp, particle, cnn, resnet18
	Width       int     `json:"width"`              // hidden width (mlp), dense features (cnn), base width (resnet18); 0 = auto
	Stem        string  `json:"stem"`               // resnet18 stem: cifar or imagenet
	Channels    []int   `json:"channels,omitempty"` // cnn: output channels of each conv+pool stage; empty = arch.DefaultCNNChannels
	Depth       int     `json:"depth"`
	Activation  string  `json:"activation"`
	Scaling     string  `json:"scaling"`
	Trainable   string  `json:"trainable"`
	Normalize   bool    `json:"normalize"`
	LatentDim   int     `json:"latent-dim"`  // MLP output; 0 = auto (2 on points, 128 on images)
	HeadDim     int     `json:"head-dim"`    // projection head output; 0: no head, -1: auto (128 on images, none on points)
	HeadHidden  int     `json:"head-hidden"` // projection head hidden width
	Augment     string  `json:"augment"`     // vector spec ("noise:0.1") or image preset ("cifar"); auto = by data set
	BatchSize   int     `json:"batch-size"`  // N pairs: 2N views per step; 0 = the whole data set
	Steps       int     `json:"steps"`
	Epochs      float64 `json:"epochs"` // if > 0, replaces steps: ⌈epochs·examples/batch-size⌉ steps
	Temperature float64 `json:"temperature"`
	Loss        string  `json:"loss"`   // ntxent, align, uniform
	Kernel      string  `json:"kernel"` // exp, gaussian, linear
	Optimizer   string  `json:"optimizer"`
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`     // sgd and lars; −1: the optimiser's default (sgd 0, lars 0.9)
	WeightDecay float64 `json:"weight-decay"` // sgd and lars; −1: the optimiser's default (sgd 0, lars 1e-6)
	LRSchedule  string  `json:"lr-schedule"`  // constant or cosine (decay to 0 over --steps)
	Warmup      int     `json:"warmup-steps"` // steps of linear learning-rate warm-up
	Seed        uint64  `json:"seed"`
	DType       string  `json:"dtype"` // float32 or float64
	Backend     string  `json:"backend"`
	OutDir      string  `json:"out-dir"`
	LogEvery    int     `json:"log-every"`
	EvalEvery   int     `json:"eval-every"` // kNN accuracy every this many steps (0: only at the end)
	Eval        bool    `json:"eval"`       // evaluate (kNN and linear probe) at the end

	CheckpointEvery int    `json:"checkpoint-every"` // write a checkpoint every this many steps (0: only at the end)
	KeepCheckpoints int    `json:"keep-checkpoints"` // how many of the newest checkpoints to keep
	OnNaN           string `json:"on-nan"`           // stop or skip a step whose loss or gradient is NaN/Inf
	// Actions, not settings: never written to config.json.
	Resume    string `json:"-"` // continue the run in this directory from its newest checkpoint
	Overwrite bool   `json:"-"` // a new run may replace the run files of a non-empty --out-dir
}

// Defaults returns the configuration of a plain run: 4 Gaussian clusters in 2-D, the one-hidden-layer network,
// NT-Xent with τ = 0.5 and Adam. All of these are our choices (the paper's settings are unknown).
func Defaults() Config {
	return Config{
		Data: "clusters", Clusters: 4, Dim: 2, PerCluster: 128, Radius: 0.3, Shape: "gaussian", Centers: "circle",
		Spacing: 2, Scale: 2,
		Model: "auto", Width: 0, Depth: 1, Stem: "cifar", Activation: arch.ReLU, Scaling: arch.ScalingNTK,
		Trainable: arch.TrainBoth, Normalize: true, LatentDim: 0, HeadDim: -1, HeadHidden: 512, Augment: "auto",
		BatchSize: 128, Steps: 500, Temperature: 0.5, Loss: losses.PartFull, Kernel: losses.KernelExp,
		Optimizer: optim.Adam, LR: 1e-3, Momentum: -1, WeightDecay: -1, LRSchedule: optim.Constant, Seed: 1, DType: "float32", Backend: "", OutDir: "", LogEvery: 10,
		Eval: true, CheckpointEvery: 500, KeepCheckpoints: 3, OnNaN: "stop",
	}
}

// Models lists the valid --model values (auto: the data set's default, see Resolve); DataSets the valid --data
// values. Both come from the registries of packages models and datasets.
var (
	Models   = append([]string{"auto"}, models.Names...)
	DataSets = datasets.Names
)

// UsageError marks an invalid setting: the command line exits with status 2 and prints it.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// IsUsage reports whether err is (or wraps) a UsageError.
func IsUsage(err error) bool {
	var u UsageError
	return errors.As(err, &u)
}

func oneOf(flag, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return usagef("--%s must be one of %v, got %q", flag, allowed, v)
	}
	return nil
}

// Validate checks every field, naming the flag to change in its error (a UsageError).
func (c Config) Validate() error {
	ds, ok := datasets.Lookup(c.Data)
	if !ok {
		return usagef("--data must be one of %v, got %q", DataSets, c.Data)
	}
	c = c.Resolve()
	checks := []error{
		oneOf("stem", c.Stem, []string{"cifar", "imagenet"}),
		oneOf("model", c.Model, Models),
		oneOf("activation", c.Activation, arch.Activations),
		oneOf("scaling", c.Scaling, arch.Scalings),
		oneOf("trainable", c.Trainable, arch.Trainables),
		oneOf("loss", c.Loss, losses.Parts),
		oneOf("kernel", c.Kernel, losses.Kernels),
		oneOf("optimizer", c.Optimizer, optim.Names),
		oneOf("dtype", c.DType, []string{"float32", "float64"}),
		oneOf("on-nan", c.OnNaN, []string{"stop", "skip"}),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	m, _ := models.Lookup(c.Model) // known: checked above
	images := ds.Kind == datasets.ImageSet
	modelErr := m.Validate(c.modelSpec(0))
	if err := c.Schedule().Validate(); err != nil && c.Epochs == 0 { // with --epochs: checked once the steps are known (Run)
		return usagef("--lr-schedule %s, --warmup-steps %d: %v", c.LRSchedule, c.Warmup, err)
	}
	switch {
	case c.Clusters < 1:
		return usagef("--clusters must be ≥ 1, got %d", c.Clusters)
	case c.Dim < 1:
		return usagef("--dim must be ≥ 1, got %d", c.Dim)
	case c.PerCluster < 1:
		return usagef("--per-cluster must be ≥ 1, got %d", c.PerCluster)
	case c.Width < 1:
		return usagef("--width must be ≥ 1 (or 0 for the model's default), got %d", c.Width)
	case c.EvalEvery < 0:
		return usagef("--eval-every must be ≥ 0, got %d", c.EvalEvery)
	case !images && !m.OnPoints:
		return usagef("--model %s needs image data (--data %s), got --data %s", c.Model, strings.Join(datasets.NamesOf(datasets.ImageSet), ", "), c.Data)
	case images && !m.OnImages:
		return usagef("--model %s works on the point data sets (--data %s), got --data %s", c.Model, strings.Join(datasets.NamesOf(datasets.PointSet), ", "), c.Data)
	case images && c.DType != "float32":
		return usagef("--dtype float64 is for the point data sets; images train in float32")
	case slices.ContainsFunc(c.Channels, func(ch int) bool { return ch < 1 }):
		return usagef("--channels must all be ≥ 1, got %v", c.Channels)
	case c.Depth < 1:
		return usagef("--depth must be ≥ 1, got %d", c.Depth)
	case modelErr != nil: // settings the model refuses: --channels on a model without them, onehidden's --depth 1
		return UsageError{modelErr}
	case c.LatentDim < 1:
		return usagef("--latent-dim must be ≥ 1, got %d", c.LatentDim)
	case c.HeadDim < 0 || (c.HeadDim > 0 && c.HeadHidden < 1):
		return usagef("--head-dim must be ≥ 0 and --head-hidden ≥ 1, got %d and %d", c.HeadDim, c.HeadHidden)
	case c.BatchSize < 0:
		return usagef("--batch-size must be ≥ 1 (pairs), or 0 for the whole data set, got %d", c.BatchSize)
	case c.Steps < 1:
		return usagef("--steps must be ≥ 1, got %d", c.Steps)
	case !(c.Temperature > 0):
		return usagef("--temperature must be > 0, got %g", c.Temperature)
	case c.Momentum != -1 && !(c.Momentum >= 0 && c.Momentum < 1):
		return usagef("--momentum must be in [0, 1) (or −1: the optimiser's default), got %g", c.Momentum)
	case c.WeightDecay != -1 && !(c.WeightDecay >= 0):
		return usagef("--weight-decay must be ≥ 0 (or −1: the optimiser's default), got %g", c.WeightDecay)
	case c.Epochs < 0:
		return usagef("--epochs must be ≥ 0 (0: use --steps), got %g", c.Epochs)
	case !(c.LR > 0):
		return usagef("--lr must be > 0, got %g", c.LR)
	case c.ImageSize < 0:
		return usagef("--image-size must be ≥ 0 (0: the first image's size), got %d", c.ImageSize)
	case c.ImageSize > 0 && !ds.Sized:
		return usagef("--image-size applies to --data %s only (%s has one size of its own)", strings.Join(datasets.SizedNames(), ", "), c.Data)
	case c.LogEvery < 1:
		return usagef("--log-every must be ≥ 1, got %d", c.LogEvery)
	case c.CheckpointEvery < 0:
		return usagef("--checkpoint-every must be ≥ 0, got %d", c.CheckpointEvery)
	case c.KeepCheckpoints < 1:
		return usagef("--keep-checkpoints must be ≥ 1, got %d", c.KeepCheckpoints)
	}
	switch {
	case m.Input == models.Indices: // example indices are not augmented
	case !images:
		spec, err := augment.ParseVectorSpec(c.Augment)
		if err != nil {
			return usagef("--augment: %v", err)
		}
		if err := spec.Check(ds.Dim(c.clusterSpec(c.Seed))); err != nil {
			return usagef("--augment: %v", err)
		}
	default:
		if _, err := augment.Preset(c.Augment); err != nil {
			return usagef("--augment: %v", err)
		}
	}
	return nil
}

// Resolve replaces every "auto" setting by what it means for c's data and model: --model and --augment by the
// data set's defaults (datasets.DataSet Model and Augment), --width 0 by the model's (models.Entry Width),
// --latent-dim 0 and --head-dim −1 by kind of data.
func (c Config) Resolve() Config {
	if c.LRSchedule == "" { // a config.json or checkpoint written before schedules existed
		c.LRSchedule = optim.Constant
	}
	if c.Momentum == -1 {
		c.Momentum = map[bool]float64{true: optim.LARSMomentum, false: 0}[c.Optimizer == optim.LARS]
	}
	if c.WeightDecay == -1 {
		c.WeightDecay = map[bool]float64{true: optim.LARSWeightDecay, false: 0}[c.Optimizer == optim.LARS]
	}
	ds, known := datasets.Lookup(c.Data) // an unknown set keeps "auto" (Validate names it)
	images := ds.Kind == datasets.ImageSet
	if c.Model == "auto" && known {
		c.Model = ds.Model
	}
	if c.Augment == "auto" && known {
		c.Augment = ds.Augment
	}
	if m, ok := models.Lookup(c.Model); ok && c.Width == 0 {
		c.Width = m.Width
	}
	if c.LatentDim == 0 {
		c.LatentDim = 2
		if images {
			c.LatentDim = 128
		}
	}
	if c.HeadDim < 0 {
		c.HeadDim = 0
		if images {
			c.HeadDim = 128
		}
	}
	return c
}

// Schedule is the learning-rate schedule of the run.
func (c Config) Schedule() optim.Schedule {
	return optim.Schedule{Name: c.Resolve().LRSchedule, Warmup: c.Warmup, Total: c.Steps}
}

// Opt is the optimiser c describes (c resolved).
func (c Config) Opt() optim.Optimizer {
	r := c.Resolve()
	return optim.Optimizer{Name: r.Optimizer, LR: r.LR, Momentum: r.Momentum, WeightDecay: r.WeightDecay}
}

// modelFlags are the flags that set a model (models.Spec), in flag order.
var modelFlags = []string{"width", "stem", "channels", "depth", "activation", "scaling", "trainable", "normalize",
	"latent-dim", "head-dim", "head-hidden"}

// flagsOf lists the flags of modelFlags that the model e reads, from its registry fields: the MLPs (vectors)
// read all but --channels and --stem; the particles only --latent-dim; the image encoders --width and the
// head's, and --channels (the cnn, Entry.Channels) or else --stem (resnet18).
func flagsOf(e models.Entry) []string {
	switch e.Input {
	case models.Indices:
		return []string{"latent-dim"}
	case models.Images:
		own := "stem"
		if e.Channels {
			own = "channels"
		}
		return []string{"width", own, "head-dim", "head-hidden"}
	}
	return slices.DeleteFunc(slices.Clone(modelFlags), func(f string) bool { return f == "stem" || f == "channels" })
}

// CheckModelFlags refuses a model flag that was set (set reports whether the user gave it explicitly) but that
// the model of c does not read, so that config.json never records a setting that did not take effect
// (--model cnn --activation gelu: the CNN uses ReLU). Defaults never trip it.
func (c Config) CheckModelFlags(set func(flag string) bool) error {
	name := c.Resolve().Model
	e, ok := models.Lookup(name)
	if !ok {
		return nil // Validate names the bad --model or --data
	}
	reads := flagsOf(e)
	var bad []string
	for _, f := range modelFlags {
		if set(f) && !slices.Contains(reads, f) {
			bad = append(bad, "--"+f)
		}
	}
	switch len(bad) {
	case 0:
		return nil
	case 1:
		return usagef("%s does not apply to --model %s, which reads only --%s", bad[0], name, strings.Join(reads, ", --"))
	}
	return usagef("%s do not apply to --model %s, which reads only --%s", strings.Join(bad, ", "), name, strings.Join(reads, ", --"))
}
