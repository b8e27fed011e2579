package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/internal/cells"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/spf13/pflag"
)

// Authors1DConfig sets the authors' later 1-D setting (paper.md §6.2, from test-artificial-data.py): values
// marked [C] are the authors', the rest ours.
type Authors1DConfig struct {
	Augment     string  `json:"augment"`     // [C] diagonal shift ξ(1,1), ξ ~ N(0,1)
	Temperature float64 `json:"temperature"` // [C] 0.1, Gaussian kernel
	Width       int     `json:"width"`       // [C] 100
	Activation  string  `json:"activation"`  // [C] LeakyReLU(0.2)
	OffsetStd   float64 `json:"offset-std"`  // [C] b ~ 0.02·N(0,1)
	LR          float64 `json:"lr"`          // [C] SGD 1e-3
	Steps       int     `json:"steps"`       // [C] 20 000
	LogEvery    int     `json:"log-every"`   // [C] the authors store the codes every 10 steps; we do so up to EarlyUntil
	EarlyUntil  int     `json:"early-until"` // ours: log every 10 steps up to here (the groups form within ~30 steps)
	PerDisk     int     `json:"per-disk"`    // [C] 400; fewer: the first of each disk in the shuffled order
	Seeds       int     `json:"seeds"`       // ours: ≥ 3 runs, seeds FirstSeed, FirstSeed+1, …
	FirstSeed   uint64  `json:"first-seed"`  // seed s draws the data, θ0, the offsets b and the augmentation
	// This sitting only (not compared when resuming): no new seed starts after For (0: none); ReportOnly runs
	// no seed and writes the files of the seeds stored.
	For        time.Duration `json:"-"`
	ReportOnly bool          `json:"-"`
}

// DefaultAuthors1D returns the full (or quick) settings.
func DefaultAuthors1D(quick bool) Authors1DConfig {
	c := Authors1DConfig{Augment: "shift:1", Temperature: 0.1, Width: 100, Activation: arch.LeakyReLU, OffsetStd: 0.02, LR: 1e-3,
		Steps: 20000, LogEvery: 100, EarlyUntil: 300, PerDisk: 400, Seeds: 3, FirstSeed: 1}
	if quick {
		c.Steps, c.LogEvery, c.EarlyUntil, c.PerDisk, c.Seeds = 1000, 50, 100, 100, 2
	}
	return c
}

func bindAuthors1D(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
	c := DefaultAuthors1D(quick)
	fs.StringVar(&c.Augment, "augment", c.Augment, "vector augmentation (authors: shift:1 along the diagonal)")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "τ of the Gaussian-kernel loss (authors: 0.1)")
	fs.IntVar(&c.Width, "width", c.Width, "hidden width (authors: 100)")
	fs.StringVar(&c.Activation, "activation", c.Activation, "activation (authors: leaky_relu)")
	fs.Float64Var(&c.OffsetStd, "offset-std", c.OffsetStd, "std of the per-sample offsets b (authors: 0.02)")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate (authors: 1e-3)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "full-batch SGD steps (authors: 20000)")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "record the codes every this many steps")
	fs.IntVar(&c.EarlyUntil, "early-until", c.EarlyUntil, "also record them every 10 steps up to this step")
	fs.IntVar(&c.PerDisk, "per-disk", c.PerDisk, "points per disk, ≤ 400 (authors: 400)")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "number of runs (seeds first-seed, first-seed+1, …)")
	fs.Uint64Var(&c.FirstSeed, "first-seed", c.FirstSeed, "seed of the first run: data, initialisation, offsets and augmentation")
	fs.DurationVar(&c.For, "for", 0, "start no new seed after this long (e.g. 2h; 0: run to the end); run again to resume")
	fs.BoolVar(&c.ReportOnly, "report-only", false, "run no seed: write the tables, figures and summary of the seeds already stored")
	return func(cm Common) (*Result, error) { return RunAuthors1D(c, cm) }
}

// Offset is the authors' construction T(x_i) = f_θ(x_i) − f_θ0(x_i) + b_i (paper.md §5): the MLP f with trainable θ,
// a frozen copy θ0 of its initial parameters, and fixed per-sample offsets b [N, k]. It needs the whole data set in
// a fixed order as its batch (rows i and N+i are the two views of sample i), as the authors' full-batch code has.
type Offset struct {
	MLP       arch.MLP
	N         int
	OffsetStd float64
}

// Params lists θ (trainable), θ0 (frozen) and the offsets (frozen).
func (o Offset) Params() []arch.Param {
	ps := o.MLP.Params()
	for _, p := range o.MLP.Params() {
		ps = append(ps, arch.Param{Name: "frozen/" + p.Name, Dims: p.Dims})
	}
	return append(ps, arch.Param{Name: "offsets", Dims: []int{o.N, o.MLP.Out}})
}

// Init draws θ from seed, copies it into θ0 and draws b ~ OffsetStd·N(0,1).
func (o Offset) Init(seed uint64) [][]float64 {
	theta := o.MLP.Init(seed)
	out := append([][]float64{}, theta...)
	for _, v := range theta {
		out = append(out, append([]float64(nil), v...))
	}
	return append(out, arch.Normal(rand.New(rand.NewPCG(seed, 0x0ff5e7)), o.N*o.MLP.Out, o.OffsetStd))
}

// Forward returns T = f_θ(x) − f_θ0(x) + b for x of N rows (the data) or 2N rows (both views).
func (o Offset) Forward(params []*graph.Node, x *graph.Node, _ bool) models.Output {
	np := len(o.MLP.Params())
	f := models.MLP(o.MLP, params[:np], x)
	f0 := graph.StopGradient(models.MLP(o.MLP, params[np:2*np], x))
	b := params[2*np]
	if x.Shape().Dimensions[0] == 2*o.N {
		b = graph.Concatenate([]*graph.Node{b, b}, 0)
	}
	z := graph.Add(graph.Sub(f, f0), b)
	return models.Output{Features: z, Z: z}
}

// Project does nothing.
func (o Offset) Project(params []*graph.Node) []*graph.Node { return params }

// RunAuthors1D runs the seeds not yet stored in OutDir/authors-1d/cells (all of them, or as many as c.For
// allows; none with c.ReportOnly), one cell per seed, then writes the files of every stored seed.
func RunAuthors1D(c Authors1DConfig, cm Common) (*Result, error) {
	start := time.Now()
	if c.Seeds < 1 || c.PerDisk < 2 || c.PerDisk > 400 || c.Steps < 1 || c.LogEvery < 1 {
		return nil, fmt.Errorf("experiments: authors-1d: --seeds, --steps and --log-every must be ≥ 1 and --per-disk in [2, 400], got %d, %d, %d and %d",
			c.Seeds, c.Steps, c.LogEvery, c.PerDisk)
	}
	dir := filepath.Join(cm.OutDir, "authors-1d")
	store, err := cells.Open(dir)
	if err != nil {
		return nil, err
	}
	// Other settings are refused only where they would mix with stored seeds: a folder without cells (an older
	// run's files, say) is simply rewritten.
	if len(store.Keys()) > 0 {
		if err := sameSettings(filepath.Join(dir, "config.json"), c, func(s *Authors1DConfig) { s.For, s.ReportOnly = c.For, c.ReportOnly }); err != nil {
			return nil, err
		}
	}
	if err := writeConfig(dir, "authors-1d", cm, c); err != nil {
		return nil, err
	}
	spec, err := augment.ParseVectorSpec(c.Augment)
	if err != nil {
		return nil, err
	}
	b, err := backend.New(backend.Spec(cm.Backend))
	if err != nil {
		return nil, err
	}
	var keys []string
	for si := range c.Seeds {
		keys = append(keys, a1dKey(c.FirstSeed+uint64(si)))
	}
	var ran float64 // seconds of the seeds run in this sitting
	work := func(key string) (any, error) {
		seed := c.FirstSeed + uint64(slices.Index(keys, key))
		t0 := time.Now()
		r, err := authors1DSeed(b, c, spec, seed)
		if err != nil {
			return nil, err
		}
		cl := a1dCellOf(r)
		cl.Seconds, cl.cellBuild = time.Since(t0).Seconds(), thisBuild(b)
		ran += cl.Seconds
		cm.logf("authors-1d: seed %d: %.1f s, three groups from step %s\n", r.seed, r.tj.seconds, stepOrNever(r.onset))
		if a1dSeedDone != nil {
			a1dSeedDone(seed)
		}
		return cl, nil
	}
	deadline := sittingDeadline(start, c.For, c.ReportOnly)
	if _, err := cells.RunUntil(store, keys, work, cm.Log, deadline); err != nil {
		return nil, err
	}
	var runs []a1dSeed
	var builds []cellBuild
	stored := 0.0 // seconds of every stored seed, whichever sitting ran it
	for _, k := range keys {
		var cl a1dCell
		if !store.Done(k) {
			continue
		}
		if err := store.Load(k, &cl); err != nil {
			return nil, err
		}
		r, err := cl.run()
		if err != nil {
			return nil, err
		}
		runs, stored = append(runs, r), stored+cl.Seconds
		builds = append(builds, cl.cellBuild)
	}
	res, err := a1dReport(c, dir, runs)
	if err != nil {
		return nil, err
	}
	res.Builds = countBuilds(builds)
	// Wall time: of the stored seeds' runs plus this sitting's own work besides them (one sitting: its wall time).
	res.Seconds = stored + time.Since(start).Seconds() - ran
	return res, writeSummary(res, cm, res.Numbers+"\n")
}

// a1dSeedDone, if not nil, is called after each seed's run in RunAuthors1D (tests: spend a sitting's budget at
// a known point).
var a1dSeedDone func(seed uint64)

// a1dKey names the cell of a seed.
func a1dKey(seed uint64) string { return fmt.Sprintf("seed%d", seed) }

// a1dSeed is one seed's run and its three-group measurements.
type a1dSeed struct {
	seed  uint64
	d     datasets.Points
	tj    *trajectory
	g     []groups3 // at each logged step
	ref   groups3   // of u = x₁ − x₂ itself: what an exactly invariant, linear code scores on these data
	onset int       // first logged step at which formed3 holds; −1: never (censored at the last step)
	lost  int       // first logged step after onset at which it fails; −1: never
	d03   float64   // |mean₀ − mean₃| / pooled within-label SD at the last step: the labels the invariance merges
}

// authors1DSeed trains the authors' network from seed and measures it.
func authors1DSeed(b compute.Backend, c Authors1DConfig, spec augment.VectorSpec, seed uint64) (a1dSeed, error) {
	d := datasets.FourDisks(seed)
	if c.PerDisk < 400 {
		x, y := subset(d, c.PerDisk)
		d = datasets.Points{X: x, N: len(y), D: 2, Labels: y, K: 4, Name: d.Name}
	}
	// PyTorch-like standard parameterisation (He-normal hidden weights; PyTorch's default is uniform, ours differs).
	a := arch.MLP{In: 2, Width: c.Width, Depth: 1, Out: 1, Activation: c.Activation, Scaling: arch.ScalingStandard,
		Trainable: arch.TrainBoth, StandardHidden: true}
	x := pointsTensor(d.X, d.N, 2)
	tr := trainee{name: "authors-1d", model: Offset{MLP: a, N: d.N, OffsetStd: c.OffsetStd}, input: x, clean: x, views: vectorViews(spec),
		opt: optim.Optimizer{Name: optim.SGD, LR: c.LR}}
	var early []int
	for t := 10; t < c.EarlyUntil; t += 10 {
		early = append(early, t)
	}
	rc := runCfg{steps: c.Steps, logEvery: c.LogEvery, loss: losses.Config{Kernel: losses.KernelGaussian, Temperature: c.Temperature},
		seed: seed, snapshots: early, keepAll: true, labels: d.Labels, classes: d.K, k: 1, metrics: true}
	tj, err := run(b, tr, rc)
	if err != nil {
		return a1dSeed{}, err
	}
	r := a1dSeed{seed: seed, d: d, tj: tj}
	u := make([]float64, d.N)
	for i := range u {
		u[i] = d.X[2*i] - d.X[2*i+1]
	}
	r.ref = measure3(u, d.Labels)
	for _, t := range tj.steps {
		r.g = append(r.g, measure3(tj.latents[t], d.Labels))
	}
	r.onset, r.lost = onsetLost(tj.steps, r.g)
	r.d03 = pairEffect(tj.latents[tj.steps[len(tj.steps)-1]], d.Labels, 0, 3)
	return r, nil
}

// pairEffect is Cohen's d of the codes of labels a and b: |mean_a − mean_b| / pooled SD.
func pairEffect(z []float64, labels []int, a, b int) float64 {
	var xa, xb []float64
	for i, l := range labels {
		if l == a {
			xa = append(xa, z[i])
		} else if l == b {
			xb = append(xb, z[i])
		}
	}
	ma, sa := meanStd(xa)
	mb, sb := meanStd(xb)
	na, nb := float64(len(xa)), float64(len(xb))
	return math.Abs(ma-mb) / math.Sqrt(((na-1)*sa*sa+(nb-1)*sb*sb)/(na+nb-2))
}
