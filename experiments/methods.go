package experiments

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/internal/cells"
	"github.com/gosimclr/gosimclr/internal/survival"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/recipe"
	"github.com/gosimclr/gosimclr/train"
	"github.com/spf13/pflag"
)

// MethodsConfig sets the paper's target 9 (paper.md §7 item 9: "VICReg and BYOL versions of targets 3-5"): the
// persistence of cluster structure of depth-width (same clusters, same silhouette threshold, same window
// rule, Kaplan–Meier and log-rank) with the objective as the one thing that changes: simclr (NT-Xent, exp
// kernel), vicreg (weights 25/25/1) and byol (predictor k→hidden→k, EMA target from τ_base to 1 on a cosine
// over Steps). Every network normalises its output onto S¹ (k = 2) as in depth-width, so that all methods are
// measured on the same circle; for VICReg this is ours (its paper regularises unnormalised embeddings). Every
// value is ours.
type MethodsConfig struct {
	Clusters    int           `json:"clusters"`
	PerCluster  int           `json:"per-cluster"`
	Radius      float64       `json:"radius"`
	Scale       float64       `json:"scale"`
	Depths      []int         `json:"depths"`
	Width       int           `json:"width"`
	Scaling     string        `json:"scaling"`
	Methods     []string      `json:"methods"`
	Temperature float64       `json:"temperature"` // simclr's τ
	Activation  string        `json:"activation"`
	LR          float64       `json:"lr"` // plain SGD, every method
	Steps       int           `json:"steps"`
	LogEvery    int           `json:"log-every"`
	Window      int           `json:"window"`
	Seeds       int           `json:"seeds"`
	FirstSeed   uint64        `json:"first-seed"`
	For         time.Duration `json:"-"`
	ReportOnly  bool          `json:"-"`
}

// DefaultMethods returns the reduced grid of target 9 (or its quick version): depth-width's data, width 256,
// NTK scaling, depths 1 and 4, 8 seeds, T = 3000 steps (depth-width's T is 20000; ours, to fit a sitting).
func DefaultMethods(quick bool) MethodsConfig {
	c := MethodsConfig{Clusters: 4, PerCluster: 32, Radius: 0.15, Scale: 2, Depths: []int{1, 4}, Width: 256, Scaling: arch.ScalingNTK,
		Methods: []string{train.MethodSimCLR, train.MethodVICReg, train.MethodBYOL}, Temperature: 0.5, Activation: arch.LeakyReLU,
		LR: 0.05, Steps: 3000, LogEvery: 100, Window: 5, Seeds: 8, FirstSeed: 1}
	if quick {
		c.PerCluster, c.Width, c.Steps, c.LogEvery, c.Window, c.Seeds = 16, 32, 100, 10, 3, 2
	}
	return c
}

func bindMethods(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
	c := DefaultMethods(quick)
	fs.IntVar(&c.Clusters, "clusters", c.Clusters, "number of clusters K (Gaussian, centres on a circle)")
	fs.IntVar(&c.PerCluster, "per-cluster", c.PerCluster, "points per cluster")
	fs.Float64Var(&c.Radius, "radius", c.Radius, "cluster standard deviation")
	fs.Float64Var(&c.Scale, "scale", c.Scale, "radius of the circle of cluster centres")
	fs.IntSliceVar(&c.Depths, "depths", c.Depths, "hidden layers L")
	fs.IntVar(&c.Width, "width", c.Width, "hidden width m")
	fs.StringVar(&c.Scaling, "scaling", c.Scaling, "parameterisation: standard, ntk, mean-field")
	fs.StringSliceVar(&c.Methods, "methods", c.Methods, "objectives: simclr, vicreg, byol")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "simclr's temperature τ")
	fs.StringVar(&c.Activation, "activation", c.Activation, "activation σ")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate")
	fs.IntVar(&c.Steps, "steps", c.Steps, "full-batch steps per run: the censoring time T")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "measure every this many steps")
	fs.IntVar(&c.Window, "window", c.Window, "persistence ends at the first of this many consecutive measurements below the threshold")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "seeds per cell")
	fs.Uint64Var(&c.FirstSeed, "first-seed", c.FirstSeed, "first seed (the data are drawn from it)")
	fs.DurationVar(&c.For, "for", 0, "stop starting new cells after this long (0: run to the end); run again to resume")
	fs.BoolVar(&c.ReportOnly, "report-only", false, "run no cell: write the summary of the cells already stored")
	return func(cm Common) (*Result, error) {
		for _, m := range c.Methods {
			if !slices.Contains([]string{train.MethodSimCLR, train.MethodVICReg, train.MethodBYOL}, m) {
				return nil, fmt.Errorf("experiments: methods: --methods takes simclr, vicreg, byol, got %q", m)
			}
		}
		return RunMethods(c, cm)
	}
}

// mtCell is one run of target 9 as stored (cells/KEY.json).
type mtCell struct {
	Method       string       `json:"method"`
	Depth        int          `json:"depth"`
	Seed         uint64       `json:"seed"`
	Steps        []int        `json:"steps"`
	Silhouette   []float64    `json:"silhouette"`
	Loss         []float64    `json:"loss"`
	Threshold    float64      `json:"threshold"`
	Persistence  survival.Obs `json:"persistence"`
	NeverVisible bool         `json:"never_visible"`
	Diverged     bool         `json:"diverged"`
	Seconds      float64      `json:"seconds,omitempty"`
	// cellBuild is the build, host and backend that ran the cell (the commit only in cells stored before cells
	// recorded the rest).
	cellBuild
}

func (m mtCell) key() string { return fmt.Sprintf("%s-L%d-seed%d", m.Method, m.Depth, m.Seed) }

// plan lists the cells, depth 1 before depth 4 and seed by seed, so that a grid cut short has whole seeds.
func (c MethodsConfig) plan() []mtCell {
	var out []mtCell
	for _, l := range c.Depths {
		for s := range uint64(c.Seeds) {
			for _, m := range c.Methods {
				out = append(out, mtCell{Method: m, Depth: l, Seed: c.FirstSeed + s})
			}
		}
	}
	return out
}

// methodSetup is the train.Setup of one cell: the normalised MLP a, SGD, and the method's objective.
func (c MethodsConfig) methodSetup(b compute.Backend, a arch.MLP, method string, seed uint64) train.Setup {
	var model models.Model = models.Encoder{Body: models.MLPBody{MLP: a}}
	m := train.Method{Name: method, VICReg: losses.DefaultVICReg(), TauBase: recipe.BYOLTauBase, Steps: c.Steps}
	if method == train.MethodBYOL {
		model = models.WithPredictor{Model: model, Predictor: arch.Head{In: a.Out, Hidden: train.DefaultPredictorHidden, Out: a.Out}}
	}
	return train.Setup{Model: model, Opt: optim.Optimizer{Name: optim.SGD, LR: c.LR}, Method: m, Seed: seed, Backend: b, DType: dtypes.Float32,
		Loss: losses.Config{Kernel: losses.KernelExp, Temperature: c.Temperature}}
}

// runMethodCell trains one cell full-batch (both views the clean points) and records its silhouette every
// LogEvery steps, stopping once the persistence event is decided (depth-width's belowWindow).
func (c MethodsConfig) runMethodCell(b compute.Backend, d datasets.Points, thr float64, cl mtCell) (mtCell, error) {
	t0 := time.Now()
	a := arch.MLP{In: 2, Width: c.Width, Depth: cl.Depth, Out: 2, Activation: c.Activation, Scaling: c.Scaling, Trainable: arch.TrainBoth, Normalize: true}
	s := c.methodSetup(b, a, cl.Method, cl.Seed)
	st, err := s.Stepper()
	if err != nil {
		return cl, err
	}
	x := pointsTensor(d.X, d.N, 2)
	feats := s.Featurizer(st.Params)
	var rows []Geometry
	var z []float64
	loop := train.Loop{Stepper: st, First: 0, Last: c.Steps, Batch: func(int) (*tensors.Tensor, error) { return x, nil },
		Before: func(t int) (err error) {
			if z = nil; t%c.LogEvery == 0 || t == c.Steps {
				_, z, err = feats.Latents(x)
			}
			return err
		},
		After: func(t int, r train.StepResult) error {
			if z == nil {
				return nil
			}
			g := Measure(latentSet{Z: z, N: d.N, K: 2, Labels: d.Labels, C: d.K, Sphere: true}, r.Loss)
			cl.Steps, cl.Silhouette, cl.Loss = append(cl.Steps, t), append(cl.Silhouette, g.Silhouette), append(cl.Loss, r.Loss)
			rows = append(rows, g)
			if !r.Finite {
				return errNotFinite
			}
			if belowWindow(rows, thr, c.Window) {
				return errStopped
			}
			return nil
		}}
	err = loop.Run()
	cl.Diverged = errors.Is(err, errNotFinite)
	if err != nil && !cl.Diverged && !errors.Is(err, errStopped) {
		return cl, err
	}
	last := c.Steps
	if cl.Diverged {
		last = cl.Steps[len(cl.Steps)-1]
	}
	cl.Threshold, cl.cellBuild, cl.Seconds = thr, thisBuild(b), time.Since(t0).Seconds()
	cl.Persistence, cl.NeverVisible = persistenceOf(cl.Steps, cl.Silhouette, thr, c.Window, last)
	return cl, nil
}

// RunMethods runs the cells not yet stored in OutDir/methods/cells, then writes summary.json and summary.md
// of every stored cell (methods_report.go).
func RunMethods(c MethodsConfig, cm Common) (*Result, error) {
	start := time.Now()
	if err := sameSettings(filepath.Join(cm.OutDir, "methods", "config.json"), c, func(s *MethodsConfig) { s.For, s.ReportOnly = c.For, c.ReportOnly }); err != nil {
		return nil, err
	}
	dir, _, d, b, err := setupPoints("methods", cm, c, "none", c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed)
	if err != nil {
		return nil, err
	}
	store, err := cells.Open(dir)
	if err != nil {
		return nil, err
	}
	thr := SilThreshold(d.Labels, d.K, 2)
	byKey := map[string]mtCell{}
	var keys []string
	for _, cl := range c.plan() {
		byKey[cl.key()], keys = cl, append(keys, cl.key())
	}
	work := func(key string) (any, error) { return c.runMethodCell(b, d, thr, byKey[key]) }
	remaining, err := cells.RunUntil(store, keys, work, cm.Log, sittingDeadline(start, c.For, c.ReportOnly))
	if err != nil {
		return nil, err
	}
	var done []mtCell
	for _, k := range keys {
		var cl mtCell
		if store.Load(k, &cl) == nil {
			done = append(done, cl)
		}
	}
	return methodsReport(c, cm, dir, done, len(keys), remaining, thr)
}
