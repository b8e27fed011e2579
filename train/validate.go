package train

import (
	"slices"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
)

// resolved is a Config resolved and checked once (Config.check), with the registry entries of its data set and
// model, so that Open, loadData and buildModel look nothing up again.
type resolved struct {
	Config // every "auto" replaced (Resolve)
	data   datasets.DataSet
	model  models.Entry
}

// Validate checks every field, naming the flag to change in its error (a UsageError).
func (c Config) Validate() error {
	_, err := c.check()
	return err
}

// check resolves c once and checks every field: names, then the data, model and training settings, then
// the augmentations.
func (c Config) check() (resolved, error) {
	rc, ds, m, known := c.resolve()
	if !known {
		return resolved{}, usagef("--data must be one of %v, got %q", DataSets, c.Data)
	}
	r := resolved{Config: rc, data: ds, model: m}
	for _, check := range []func() error{r.checkNames, r.checkData, r.checkModel, r.checkTraining, r.checkAugment, r.checkMethod, r.checkAblation} {
		if err := check(); err != nil {
			return resolved{}, err
		}
	}
	return r, nil
}

func oneOf(flag, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return usagef("--%s must be one of %v, got %q", flag, allowed, v)
	}
	return nil
}

// checkNames checks the settings that name one of a list.
func (r resolved) checkNames() error {
	for _, err := range []error{
		oneOf("stem", r.Stem, []string{"cifar", "imagenet"}),
		oneOf("model", r.Model, Models),
		oneOf("activation", r.Activation, arch.Activations),
		oneOf("scaling", r.Scaling, arch.Scalings),
		oneOf("trainable", r.Trainable, arch.Trainables),
		oneOf("loss", r.Loss, losses.Parts),
		oneOf("kernel", r.Kernel, losses.Kernels),
		oneOf("optimizer", r.Optimizer, optim.Names),
		oneOf("dtype", r.DType, DTypes),
		oneOf("on-nan", r.OnNaN, []string{"stop", "skip"}),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkData checks the settings of the data: the point generators' and --image-size.
func (r resolved) checkData() error {
	switch {
	case r.Clusters < 1:
		return usagef("--clusters must be ≥ 1, got %d", r.Clusters)
	case r.Dim < 1:
		return usagef("--dim must be ≥ 1, got %d", r.Dim)
	case r.PerCluster < 1:
		return usagef("--per-cluster must be ≥ 1, got %d", r.PerCluster)
	case r.ImageSize < 0:
		return usagef("--image-size must be ≥ 0 (0: the first image's size), got %d", r.ImageSize)
	case r.ImageSize > 0 && !r.data.Sized:
		return usagef("--image-size applies to --data %s only (%s has one size of its own)", strings.Join(datasets.SizedNames(), ", "), r.Data)
	}
	return r.checkStream()
}

// checkStream checks --stream and --split: streaming applies to the sets that can be streamed, --split to
// stl10, whose unlabelled images are always streamed.
func (r resolved) checkStream() error {
	streams := r.data.Open != nil
	switch {
	case !slices.Contains(datasets.StreamModes, r.Stream):
		return usagef("--stream must be one of %v, got %q", datasets.StreamModes, r.Stream)
	case r.Stream == datasets.StreamOn && !streams:
		return usagef("--stream on applies to --data %s only (%s is held in memory)", strings.Join(datasets.StreamNames(), ", "), r.Data)
	case r.Split != "train" && r.data.Splits == nil:
		return usagef("--split applies to --data %s only (%s trains on its train split), got %q", strings.Join(datasets.SplitNames(), ", "), r.Data, r.Split)
	case r.data.Splits != nil && !slices.Contains(r.data.Splits, r.Split):
		return usagef("--split must be one of %v for --data %s, got %q", r.data.Splits, r.Data, r.Split)
	case r.Split != "train" && r.Stream == datasets.StreamOff:
		return usagef("--split %s is read from its file as batches need it (the unlabelled images: 2.76 GB), never held in memory: drop --stream off", r.Split)
	}
	return nil
}

// checkModel checks the model's settings and that it trains on the data.
func (r resolved) checkModel() error {
	images := r.data.Kind == datasets.ImageSet
	switch {
	case r.Width < 1:
		return usagef("--width must be ≥ 1 (or 0 for the model's default), got %d", r.Width)
	case !images && !r.model.OnPoints:
		return usagef("--model %s needs image data (--data %s), got --data %s", r.Model, strings.Join(datasets.NamesOf(datasets.ImageSet), ", "), r.Data)
	case images && !r.model.OnImages:
		return usagef("--model %s works on the point data sets (--data %s), got --data %s", r.Model, strings.Join(datasets.NamesOf(datasets.PointSet), ", "), r.Data)
	case images && r.DType == "float64":
		return usagef("--dtype float64 is for the point data sets; images train in float32 or bfloat16 (mixed precision)")
	case slices.ContainsFunc(r.Channels, func(ch int) bool { return ch < 1 }):
		return usagef("--channels must all be ≥ 1, got %v", r.Channels)
	case r.Depth < 1:
		return usagef("--depth must be ≥ 1, got %d", r.Depth)
	}
	if err := r.model.Validate(r.modelSpec(0)); err != nil { // --channels on a model without them, onehidden's --depth 1
		return UsageError{err}
	}
	switch {
	case r.LatentDim < 1:
		return usagef("--latent-dim must be ≥ 1, got %d", r.LatentDim)
	case r.HeadDim < 0 || (r.HeadDim > 0 && r.HeadHidden < 1):
		return usagef("--head-dim must be ≥ 0 and --head-hidden ≥ 1, got %d and %d", r.HeadDim, r.HeadHidden)
	}
	return nil
}

// checkTraining checks the settings of the optimisation and of the run's outputs.
func (r resolved) checkTraining() error {
	if err := r.Schedule().Validate(); err != nil && r.Epochs == 0 { // with --epochs: checked once the steps are known (Open)
		return usagef("--lr-schedule %s, --warmup-steps %d: %v", r.LRSchedule, r.Warmup, err)
	}
	switch {
	case r.EvalEvery < 0:
		return usagef("--eval-every must be ≥ 0, got %d", r.EvalEvery)
	case r.BatchSize < 0:
		return usagef("--batch-size must be ≥ 1 (pairs), or 0 for the whole data set, got %d", r.BatchSize)
	case r.Steps < 1:
		return usagef("--steps must be ≥ 1, got %d", r.Steps)
	case !(r.Temperature > 0):
		return usagef("--temperature must be > 0, got %g", r.Temperature)
	case r.Momentum != -1 && !(r.Momentum >= 0 && r.Momentum < 1):
		return usagef("--momentum must be in [0, 1) (or −1: the optimiser's default), got %g", r.Momentum)
	case r.WeightDecay != -1 && !(r.WeightDecay >= 0):
		return usagef("--weight-decay must be ≥ 0 (or −1: the optimiser's default), got %g", r.WeightDecay)
	case r.Epochs < 0:
		return usagef("--epochs must be ≥ 0 (0: use --steps), got %g", r.Epochs)
	case !(r.LR > 0):
		return usagef("--lr must be > 0, got %g", r.LR)
	case r.OnlineProbe != "true" && r.OnlineProbe != "false": // auto is resolved by now
		return usagef("--online-probe must be auto, true or false, got %q", r.OnlineProbe)
	case !(r.OnlineProbeLR > 0):
		return usagef("--online-probe-lr must be > 0, got %g", r.OnlineProbeLR)
	case r.LogEvery < 1:
		return usagef("--log-every must be ≥ 1, got %d", r.LogEvery)
	case r.CheckpointEvery < 0:
		return usagef("--checkpoint-every must be ≥ 0, got %d", r.CheckpointEvery)
	case r.KeepCheckpoints < 1:
		return usagef("--keep-checkpoints must be ≥ 1, got %d", r.KeepCheckpoints)
	case r.Devices == 0 || r.Devices < -1:
		return usagef("--devices must be a number of devices ≥ 1 or all, got %d", r.Devices)
	}
	return nil
}

// checkAugment checks --augment: a vector spec on points (fitting their dimension), a preset on images;
// a model of example indices has no views.
func (r resolved) checkAugment() error {
	switch {
	case r.model.Input == models.Indices:
	case r.data.Kind != datasets.ImageSet:
		spec, err := augment.ParseVectorSpec(r.Augment)
		if err != nil {
			return usagef("--augment: %v", err)
		}
		if err := spec.Check(r.data.Dim(r.clusterSpec(r.Seed))); err != nil {
			return usagef("--augment: %v", err)
		}
	default:
		if _, err := augment.Preset(r.Augment); err != nil {
			return usagef("--augment: %v", err)
		}
	}
	return nil
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
	rc, _, e, _ := c.resolve()
	name := rc.Model
	if e.Name == "" {
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
