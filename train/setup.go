package train

import (
	"io"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
)

// Setup is what a run is made of before it takes a step: its settings, data, model, views, optimiser, loss,
// backend and dtype. Open builds one from settings (simclr train, eval, export, embed); experiments fill one
// by hand for data and models that are not in the registries. From a Setup, Stepper builds the compiled
// training step and Featurizer the evaluation-mode forward pass.
type Setup struct {
	Config  Config // resolved and validated; the zero Config for a Setup filled by hand
	Model   models.Model
	Input   models.Input // what Model reads: batchTensor gathers it
	Views   ViewsFn      // nil: both views are the batch itself
	Opt     optim.Optimizer
	Loss    losses.Config
	Method  Method // the objective, when not SimCLR's Loss, and its target network (method.go)
	Seed    uint64 // the parameters' initialisation and the views' RNG
	Backend compute.Backend
	DType   dtypes.DType // of the parameters, optimiser state, views, loss and features
	Compute dtypes.DType // of the training step's forward and backward passes: bfloat16, or unset for DType
	Batch   int          // examples per step (Config.BatchSize, or the whole training split)

	train, test *dataset // nil for a Setup filled by hand
	evalTrain   *dataset // the labelled split the evaluation fits on, when not train (stl10 --split unlabeled…)
}

// warnTo sends the warnings of streamed splits (skipped files) to log.
func (s *Setup) warnTo(log io.Writer) {
	for _, d := range []*dataset{s.train, s.test, s.evalTrain} {
		if d != nil && d.stream != nil {
			d.stream.Warn = log
		}
	}
}

// evalSplit is the split the evaluation (kNN, linear probe) fits on: evalTrain, or else the training split.
func (s *Setup) evalSplit() *dataset {
	if s.evalTrain != nil {
		return s.evalTrain
	}
	return s.train
}

// Open validates and resolves c (the one place settings are checked), loads its data, and builds its model,
// views, optimiser, loss and backend. With --epochs, the returned Setup's Config.Steps is the number of steps
// they come to.
func Open(c Config) (*Setup, error) {
	r, err := c.check() // resolved once: the registry entries come with it
	if err != nil {
		return nil, err
	}
	c = r.Config
	// The data first: --epochs and --batch-size 0 need its size.
	train, test, evalTrain, err := loadData(c, r.data)
	if err != nil {
		return nil, err
	}
	n := c.BatchSize
	if n == 0 {
		n = train.n
	}
	if n > train.n {
		return nil, usagef("--batch-size %d is larger than the data set (%d examples)", n, train.n)
	}
	if c.Epochs > 0 {
		c.Steps = int(math.Ceil(c.Epochs * float64(train.n) / float64(n)))
		if err := c.Schedule().Validate(); err != nil {
			return nil, usagef("--epochs %g (%d steps): %v", c.Epochs, c.Steps, err)
		}
	}
	model, views, err := buildModel(c, r.model, train)
	if err != nil {
		return nil, err
	}
	method := c.method()
	if model, err = withPredictor(method, model, c.PredictorHidden); err != nil { // BYOL, MoCo v3
		return nil, err
	}
	b, resolved, err := backend.Open(backend.Spec(c.Backend))
	if err != nil {
		return nil, err
	}
	c.Backend = resolved // "auto" is recorded as what it chose
	if c.Devices, err = devicesFor(c, b, n); err != nil {
		b.Finalize()
		return nil, err
	}
	dt, compute := c.precision()
	return &Setup{Config: c, Model: model, Input: r.model.Input, Views: views, Opt: c.Opt(),
		Loss:   losses.Config{Kernel: c.Kernel, Part: c.Loss, Temperature: c.Temperature},
		Method: method,
		Seed:   c.Seed, Backend: b, DType: dt, Compute: compute, Batch: n, train: train, test: test, evalTrain: evalTrain}, nil
}

// Stepper builds the compiled training step, with parameters initialised from s.Seed, and the online probe
// when the settings ask for it and the data has labels.
func (s *Setup) Stepper() (*Stepper, error) {
	st, err := newStepper(s.Backend, s.Model, s.Opt, s.Loss, s.Views, s.DType, s.Seed)
	if err == nil {
		st.Compute = s.Compute
		st.useMethod(s.Method)
	}
	if err == nil && s.probeOn() {
		err = st.EnableOnlineProbe(s.train.classes, s.Config.OnlineProbeLR, batchShape(s.Input, s.train, s.Batch, s.DType))
	}
	if err == nil && s.Config.Devices > 1 {
		err = st.Distribute(s.Config.Devices)
		if s.Config.LocalNegatives {
			st.UseLocalNegatives()
		}
		if !s.Config.SyncBN {
			st.SetBatchStatGroups(s.Config.Devices)
		}
	}
	return st, err
}

// Featurizer builds the evaluation-mode forward pass of s.Model (batch-norm running averages, no views) over
// the parameter tensors params. params is read at every call, so a Stepper's Params, which Step and restore
// update in place, can be passed once and the features follow the training.
func (s *Setup) Featurizer(params []*tensors.Tensor) *Featurizer {
	return newFeaturizer(s.Backend, s.Model, s.Input, s.DType, params)
}
