// Package train runs SimCLR training: it resolves a Config into data, model, loss and optimiser, compiles one
// training step as a single GoMLX graph, and writes config.json, metrics.csv and the final parameters.
package train

import (
	"errors"
	"fmt"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
)

// Config holds every setting of a run; its JSON keys are the command-line flag names.
type Config struct {
	Data       string  `json:"data"`        // clusters, disks, annuli, mnist, fashion-mnist, cifar10, cifar100, stl10, folder:PATH
	DataDir    string  `json:"data-dir"`    // where image files are (default: each set's usual place)
	ImageSize  int     `json:"image-size"`  // folder: sets: resize and centre-crop every image to this square side (0: the first image's size)
	Stream     string  `json:"stream"`      // auto, on, off: read folder:PATH (and stl10) images from their files per batch (datasets.Open)
	Split      string  `json:"split"`       // the training split of stl10: train, unlabeled, unlabeled+train
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
	// Method is the objective: simclr (--loss, --kernel, --temperature), vicreg, barlow, byol, mocov3 (--temperature)
	// (method.go). The settings after it apply to some methods only; 0 is the method's default, and stays 0 for
	// the others.
	Method          string  `json:"method"`
	PredictorHidden int     `json:"predictor-hidden"` // byol, mocov3: the predictor MLP's hidden width
	TargetTau       float64 `json:"target-tau"`       // byol, mocov3: τ_base of the target network's EMA
	BarlowLambda    float64 `json:"barlow-lambda"`    // barlow: the off-diagonal weight λ
	// The ablations that show which terms prevent collapse (ablation.go): VICReg's weights λ, μ, ν (nil: the
	// paper's 25, 25, 1) and BYOL or MoCo v3 without their predictor.
	VICRegWeights []float64 `json:"vicreg-weights,omitempty"`
	NoPredictor   bool      `json:"no-predictor"`
	// SimCLR's loss family, and the training settings of every method:
	Loss        string  `json:"loss"`   // ntxent, align, uniform
	Kernel      string  `json:"kernel"` // exp, gaussian, linear
	Optimizer   string  `json:"optimizer"`
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`     // sgd and lars; −1: the optimiser's default (sgd 0, lars 0.9)
	WeightDecay float64 `json:"weight-decay"` // sgd and lars; −1: the optimiser's default (sgd 0, lars 1e-6)
	LRSchedule  string  `json:"lr-schedule"`  // constant or cosine (decay to 0 over --steps)
	Warmup      int     `json:"warmup-steps"` // steps of linear learning-rate warm-up
	Seed        uint64  `json:"seed"`
	// InitFrom: start from these weights instead of the seed's (a new run only; see initWeights)
	InitFrom InitFrom `json:"init-from,omitzero"`
	DType    string   `json:"dtype"` // float32, float64, or bfloat16 (float32 weights, bfloat16 forward/backward)
	Backend  string   `json:"backend"`
	Devices  int      `json:"devices"` // data-parallel devices (XLA); -1: all of the backend's
	// LocalNegatives: with several devices, each device's examples are contrasted only among themselves
	LocalNegatives bool `json:"local-negatives"`
	// SyncBN: with several devices, batch norm takes its statistics over the global batch (as on one device)
	// instead of over each device's share (the default, SimCLR's reference without sync)
	SyncBN    bool   `json:"sync-bn"`
	OutDir    string `json:"out-dir"`
	LogEvery  int    `json:"log-every"`
	EvalEvery int    `json:"eval-every"` // kNN accuracy every this many steps (0: only at the end)
	Eval      bool   `json:"eval"`       // evaluate (kNN and linear probe) at the end
	// OnlineProbe trains a linear classifier on the detached features alongside the SSL step and logs its
	// accuracy (online_acc): auto (on for image data, off for points), true or false
	OnlineProbe   string  `json:"online-probe"`
	OnlineProbeLR float64 `json:"online-probe-lr"` // the online probe's (Adam's, constant) learning rate

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
		Data: "clusters", Stream: datasets.StreamAuto, Split: "train", Clusters: 4, Dim: 2, PerCluster: 128, Radius: 0.3, Shape: "gaussian", Centers: "circle",
		Spacing: 2, Scale: 2,
		Model: "auto", Width: 0, Depth: 1, Stem: "cifar", Activation: arch.ReLU, Scaling: arch.ScalingNTK,
		Trainable: arch.TrainBoth, Normalize: true, LatentDim: 0, HeadDim: -1, HeadHidden: 512, Augment: "auto",
		BatchSize: 128, Steps: 500, Temperature: 0.5, Method: MethodSimCLR, Loss: losses.PartFull, Kernel: losses.KernelExp,
		Optimizer: optim.Adam, LR: 1e-3, Momentum: -1, WeightDecay: -1, LRSchedule: optim.Constant, Seed: 1, DType: "float32", Backend: "", Devices: 1, OutDir: "", LogEvery: 10,
		Eval: true, OnlineProbe: "auto", OnlineProbeLR: DefaultOnlineProbeLR, CheckpointEvery: 500, KeepCheckpoints: 3, OnNaN: "stop",
	}
}

// Models lists the valid --model values (auto: the data set's default, see Resolve); DataSets the valid --data
// values. Both come from the registries of packages models and datasets.
var (
	Models   = append([]string{"auto"}, models.Names...)
	DataSets = datasets.Names
	// DTypes lists the valid --dtype values: bfloat16 is mixed precision (precision.go).
	DTypes = []string{"float32", "float64", "bfloat16"}
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

// Resolve replaces every "auto" setting by what it means for c's data and model: --model and --augment by the
// data set's defaults (datasets.DataSet Model and Augment), --width 0 by the model's (models.Entry Width),
// --latent-dim 0, --head-dim −1 and --online-probe auto by kind of data, and the optimiser's −1 defaults.
func (c Config) Resolve() Config {
	r, _, _, _ := c.resolve()
	return r
}

// resolve is Resolve, looking each registry up once: it also returns the data set's and the model's entries,
// and whether the data set is known (an unknown one keeps --model and --augment "auto": Validate names it).
func (c Config) resolve() (Config, datasets.DataSet, models.Entry, bool) {
	c = c.resolveOptim().resolveMethod()
	ds, known := datasets.Lookup(c.Data)
	images := ds.Kind == datasets.ImageSet
	if c.Model == "auto" && known {
		c.Model = ds.Model
	}
	if c.Augment == "auto" && known {
		c.Augment = ds.Augment
	}
	m, ok := models.Lookup(c.Model)
	if ok && c.Width == 0 {
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
	if c.OnlineProbe == "auto" && known {
		c.OnlineProbe = map[bool]string{true: "true", false: "false"}[images]
	}
	return c, ds, m, known
}

// resolveOptim resolves the settings of the optimiser and schedule, which need no registry.
func (c Config) resolveOptim() Config {
	if c.LRSchedule == "" { // a config.json or checkpoint written before schedules existed
		c.LRSchedule = optim.Constant
	}
	if c.Momentum == -1 {
		c.Momentum = map[bool]float64{true: optim.LARSMomentum, false: 0}[c.Optimizer == optim.LARS]
	}
	if c.WeightDecay == -1 {
		c.WeightDecay = map[bool]float64{true: optim.LARSWeightDecay, false: 0}[c.Optimizer == optim.LARS]
	}
	return c
}

// Schedule is the learning-rate schedule of the run.
func (c Config) Schedule() optim.Schedule {
	return optim.Schedule{Name: c.resolveOptim().LRSchedule, Warmup: c.Warmup, Total: c.Steps}
}

// Opt is the optimiser c describes (c resolved).
func (c Config) Opt() optim.Optimizer {
	r := c.resolveOptim()
	return optim.Optimizer{Name: r.Optimizer, LR: r.LR, Momentum: r.Momentum, WeightDecay: r.WeightDecay}
}
