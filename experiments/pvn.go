package experiments

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
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

// ParticleVsNetworkConfig sets particle-vs-network (the paper's Figures 4/5; paper.md targets 3–5). Every
// value is ours. With Augment "none" (the default) both views are equal for the networks as for the particles,
// so all three methods minimise the same loss of their latent points (issue 14).
type ParticleVsNetworkConfig struct {
	Clusters    int     `json:"clusters"`
	PerCluster  int     `json:"per-cluster"`
	Radius      float64 `json:"radius"` // Gaussian std of each cluster
	Scale       float64 `json:"scale"`  // radius of the circle of centres
	Augment     string  `json:"augment"`
	Temperature float64 `json:"temperature"`
	Width       int     `json:"width"`
	DeepDepth   int     `json:"deep-depth"`
	Activation  string  `json:"activation"`
	Scaling     string  `json:"scaling"`
	LR          float64 `json:"lr"`          // SGD, networks
	ParticleLR  float64 `json:"particle-lr"` // SGD on the points; 0 = LR·N
	Steps       int     `json:"steps"`
	LogEvery    int     `json:"log-every"`
	// ParticleLogEvery is the particles' logging interval (0: LogEvery): particle descent at lr·N is over in a
	// few hundred steps, so logging it every LogEvery steps misses it (issue 24 point 4).
	ParticleLogEvery int    `json:"particle-log-every,omitempty"`
	Window           int    `json:"window"` // logged points of the networks below the threshold that end persistence (particles: the same span of steps)
	Snapshots        []int  `json:"snapshots"`
	Seeds            int    `json:"seeds"`
	FirstSeed        uint64 `json:"first-seed"`
	// For and ReportOnly steer one sitting: start no run (method, seed) after For; run nothing and write the files
	// of the stored runs (of timeseries.csv for a folder of older runs without cells).
	For        time.Duration `json:"-"`
	ReportOnly bool          `json:"-"`
}

// DefaultParticleVsNetwork returns the full (or quick) settings.
func DefaultParticleVsNetwork(quick bool) ParticleVsNetworkConfig {
	c := ParticleVsNetworkConfig{Clusters: 4, PerCluster: 64, Radius: 0.15, Scale: 2, Augment: "none", Temperature: 0.5, Width: 256,
		DeepDepth: 4, Activation: arch.LeakyReLU, Scaling: arch.ScalingNTK, LR: 0.05, Steps: 3000, LogEvery: 5, ParticleLogEvery: 1,
		Window: 10, Snapshots: []int{0, 30, 100, 300, 1000, 3000}, Seeds: 8, FirstSeed: 1}
	if quick {
		c.Steps, c.LogEvery, c.Window, c.Snapshots, c.PerCluster, c.Seeds = 400, 10, 5, []int{0, 40, 120, 400}, 48, 2
	}
	return c
}

func bindParticleVsNetwork(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
	c := DefaultParticleVsNetwork(quick)
	bindPointFlags(fs, &c.Clusters, &c.PerCluster, &c.Radius, &c.Scale, &c.Augment)
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "temperature τ of NT-Xent")
	fs.IntVar(&c.Width, "width", c.Width, "hidden width m of both networks")
	fs.IntVar(&c.DeepDepth, "deep-depth", c.DeepDepth, "hidden layers of the deep network (the other has 1)")
	fs.StringVar(&c.Activation, "activation", c.Activation, "activation σ: "+strings.Join(arch.Activations, ", "))
	fs.StringVar(&c.Scaling, "scaling", c.Scaling, "output scaling: ntk (1/√m), mean-field (1/m), standard")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate of the networks")
	fs.Float64Var(&c.ParticleLR, "particle-lr", c.ParticleLR, "SGD learning rate of the particles (0: lr·N, the same per-point time scale)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "full-batch steps")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "measure the networks every this many steps")
	fs.IntVar(&c.ParticleLogEvery, "particle-log-every", c.ParticleLogEvery, "measure the particles every this many steps (0: --log-every)")
	fs.IntVar(&c.Window, "window", c.Window, "persistence ends at the first of this many consecutive measurements below the threshold")
	fs.IntSliceVar(&c.Snapshots, "snapshots", c.Snapshots, "steps drawn as panels")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "seeds (initialisation and augmentation; the data use the first)")
	fs.Uint64Var(&c.FirstSeed, "first-seed", c.FirstSeed, "first seed")
	fs.DurationVar(&c.For, "for", 0, "start no new run (method, seed) after this long (e.g. 15m); run again to resume")
	fs.BoolVar(&c.ReportOnly, "report-only", false, "run nothing: write the files of the stored runs (a folder without cells: from timeseries.csv, but panels.png)")
	return func(cm Common) (*Result, error) { return RunParticleVsNetwork(c, cm) }
}

// bindPointFlags binds the flags of the clustered 2-D data shared by particle-vs-network and persistence.
func bindPointFlags(fs *pflag.FlagSet, k, per *int, radius, scale *float64, aug *string) {
	fs.IntVar(k, "clusters", *k, "number of clusters K (Gaussian, centres on a circle)")
	fs.IntVar(per, "per-cluster", *per, "points per cluster")
	fs.Float64Var(radius, "radius", *radius, "cluster standard deviation")
	fs.Float64Var(scale, "scale", *scale, "radius of the circle of cluster centres")
	fs.StringVar(aug, "augment", *aug, `vector augmentation of the networks' views: "none" (both views equal, the particles' loss) or e.g. "noise:0.1" (then the networks minimise another loss than the particles)`)
}

// pointData draws the clustered 2-D data of the point experiments.
// setupPoints is the common start of the point-cloud experiments: it writes dir/config.json (dir =
// cm.OutDir/name), parses the augmentation, draws the clusters and creates the backend.
func setupPoints(name string, cm Common, settings any, aug string, k, per int, radius, scale float64, seed uint64) (
	dir string, spec augment.VectorSpec, d datasets.Points, b compute.Backend, err error) {
	dir = filepath.Join(cm.OutDir, name)
	if err = writeConfig(dir, name, cm, settings); err != nil {
		return
	}
	if spec, err = augment.ParseVectorSpec(aug); err != nil {
		err = fmt.Errorf("experiments: --augment: %w", err)
		return
	}
	if d, err = pointData(k, per, radius, scale, seed); err != nil {
		return
	}
	b, err = backend.New(backend.Spec(cm.Backend))
	return
}

func pointData(k, per int, radius, scale float64, seed uint64) (datasets.Points, error) {
	return datasets.Clusters(datasets.ClusterSpec{K: k, D: 2, PerCluster: per, Shape: "gaussian", Radius: radius,
		Centers: "circle", Scale: scale, Seed: seed, Shuffle: true})
}

// method is one row of the particle-vs-network figure.
type method struct {
	name  string
	depth int // 0: particles
}

// pointRun trains one method on d from seed and returns its trajectory. The particles start from the latents of
// the one-hidden-layer network drawn from the same seed, so every method starts from a comparable embedding.
func pointRun(b compute.Backend, d datasets.Points, m method, a arch.MLP, spec augment.VectorSpec, lr, particleLR float64,
	c runCfg) (*trajectory, error) {
	opt := optim.Optimizer{Name: optim.SGD, LR: lr}
	var tr trainee
	if m.depth == 0 {
		one := a
		one.Depth = 1
		start, err := initialLatents(b, models.Encoder{Body: models.MLPBody{MLP: one}}, pointsTensor(d.X, d.N, one.In), c.seed)
		if err != nil {
			return nil, err
		}
		tr = particleTrainee(start, d.N, a.Out, optim.Optimizer{Name: optim.SGD, LR: particleLR})
	} else {
		a.Depth = m.depth
		tr = mlpTrainee(m.name, a, d.X, d.N, spec, opt)
	}
	return run(b, tr, c)
}

// seriesNames are the metrics of a Geometry, in CSV order.
var seriesNames = []string{"spread", "min_sep", "silhouette", "probe_acc", "uniformity", "loss"}

func (g Geometry) values() []float64 {
	return []float64{g.Spread, g.MinSep, g.Silhouette, g.Probe, g.Uniformity, g.Loss}
}

var seriesLabels = []string{"within-cluster spread (rad)", "min angle between cluster means (rad)", "silhouette",
	"linear-probe accuracy", "uniformity (Wang & Isola)", "training loss"}

// pvnRun is one method's run from one seed.
type pvnRun struct {
	seed     uint64
	tj       *trajectory
	diverged bool
}

// RunParticleVsNetwork runs the (method, seed) runs not yet stored in OutDir/particle-vs-network/cells (all of
// them, or as many as c.For allows), seed by seed, and writes the files of every stored run; with c.ReportOnly it
// runs nothing. A folder of older runs without cells is reported from its timeseries.csv.
func RunParticleVsNetwork(c ParticleVsNetworkConfig, cm Common) (*Result, error) {
	start := time.Now()
	dir := filepath.Join(cm.OutDir, "particle-vs-network")
	store, err := cells.Open(dir)
	if err != nil {
		return nil, err
	}
	if c.ReportOnly && len(store.Keys()) == 0 {
		return pvnReportOnly(c, cm)
	}
	if len(store.Keys()) > 0 {
		if err := sameSettings(filepath.Join(dir, "config.json"), c, func(s *ParticleVsNetworkConfig) { s.For, s.ReportOnly, s.Seeds = c.For, c.ReportOnly, c.Seeds }); err != nil {
			return nil, err
		}
	}
	if !c.ReportOnly {
		if err := writeConfig(dir, "particle-vs-network", cm, c); err != nil {
			return nil, err
		}
	}
	spec, err := augment.ParseVectorSpec(c.Augment)
	if err != nil {
		return nil, fmt.Errorf("experiments: --augment: %w", err)
	}
	d, err := pointData(c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed)
	if err != nil {
		return nil, err
	}
	a := arch.MLP{In: 2, Width: c.Width, Depth: 1, Out: 2, Activation: c.Activation, Scaling: c.Scaling,
		Trainable: arch.TrainBoth, Normalize: true}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	lmin := lossOfRegularPolygon(d.N, c.Temperature)
	methods := pvnMethods(c)
	type planned struct {
		m    method
		seed uint64
	}
	plan := map[string]planned{}
	var keys []string
	for si := range c.Seeds {
		for _, m := range methods {
			k := fmt.Sprintf("L%d-seed%d", m.depth, c.FirstSeed+uint64(si))
			plan[k], keys = planned{m, c.FirstSeed + uint64(si)}, append(keys, k)
		}
	}
	var be compute.Backend
	work := func(key string) (any, error) {
		if be == nil {
			if be, err = backend.New(backend.Spec(cm.Backend)); err != nil {
				return nil, err
			}
		}
		p := plan[key]
		rc := runCfg{steps: c.Steps, logEvery: c.logEvery(p.m), loss: losses.Config{Kernel: losses.KernelExp, Temperature: c.Temperature},
			seed: p.seed, snapshots: c.Snapshots, labels: d.Labels, classes: d.K, k: 2, sphere: true, metrics: true}
		tj, err := pointRun(be, d, p.m, a, spec, c.LR, c.particleLR(d.N), rc)
		diverged := errors.Is(err, errNotFinite)
		if err != nil && !diverged {
			return nil, err
		}
		cm.logf("particle-vs-network: %s seed %d: %.1f s (diverged: %v)\n", p.m.name, p.seed, tj.seconds, diverged)
		cl := pvCellOf(p.m, p.seed, tj, diverged, d.N, p.seed == c.FirstSeed)
		cl.cellBuild = thisBuild(be)
		return cl, nil
	}
	if _, err := cells.RunUntil(store, keys, work, cm.Log, sittingDeadline(start, c.For, c.ReportOnly)); err != nil {
		return nil, err
	}
	runs := map[string][]pvnRun{}
	first := map[string]*trajectory{}
	var builds []cellBuild
	var seconds float64
	series := newTable(append(append([]string{"method", "seed", "step"}, seriesNames...), "loss_gap", "out_norm", "diverged")...)
	for _, k := range keys {
		var cl pvCell
		if store.Load(k, &cl) != nil {
			continue
		}
		r, err := cl.run(d.N)
		if err != nil {
			return nil, err
		}
		for i, t := range r.tj.steps {
			g := r.tj.rows[i]
			series.add(append(append([]any{cl.Method, int(cl.Seed), t}, anys(g.values())...), g.Loss-lmin, g.OutNorm, r.diverged)...)
		}
		runs[cl.Method] = append(runs[cl.Method], r)
		if cl.Seed == c.FirstSeed {
			first[cl.Method] = r.tj
		}
		builds, seconds = append(builds, cl.cellBuild), seconds+cl.Seconds
	}
	for _, m := range methods {
		if len(runs[m.name]) == 0 {
			return &Result{Name: "particle-vs-network", Dir: dir, Title: "Particle gradient descent vs one- and deep networks on S¹ (paper Figs. 4/5)"},
				fmt.Errorf("experiments: particle-vs-network: no stored run of %s yet; run again to go on", m.name)
		}
	}
	if err := series.write(filepath.Join(dir, "timeseries.csv")); err != nil {
		return nil, err
	}
	if len(first) == len(methods) {
		if err := snapshotPanels(filepath.Join(dir, "panels.png"), d, methods, first, c.Snapshots); err != nil {
			return nil, err
		}
	}
	// The summary is computed from the file just written, as a report of older runs is.
	if runs, err = readPVNSeries(filepath.Join(dir, "timeseries.csv"), methods, lmin); err != nil {
		return nil, err
	}
	res, err := pvnReport(c, dir, d, methods, runs)
	if err != nil {
		return nil, err
	}
	res.Builds, res.Seconds = countBuilds(builds), seconds
	if n, total := len(builds), len(keys); n < total {
		v := res.Values
		res.Numbers = fmt.Sprintf("Cells finished: %s of %s (%s remain; `simclr experiment particle-vs-network` resumes them).\n\n",
			v.count("cells/done", n), v.count("cells/total", total), v.count("cells/remaining", total-n)) + res.Numbers
	}
	return res, writeSummary(res, cm, pvnIntro(c)+res.Numbers)
}

// logEvery is the logging interval of a method.
func (c ParticleVsNetworkConfig) logEvery(m method) int {
	if m.depth == 0 && c.ParticleLogEvery > 0 {
		return c.ParticleLogEvery
	}
	return c.LogEvery
}

// window is the persistence window of a method in logged points: Window for the networks, the same span of
// steps for the particles.
func (c ParticleVsNetworkConfig) window(m method) int {
	return max(1, c.Window*c.LogEvery/c.logEvery(m))
}

// pvnMethods are the particles and the two networks.
func pvnMethods(c ParticleVsNetworkConfig) []method {
	return []method{{"particles", 0}, {"1 hidden layer", 1}, {fmt.Sprintf("%d hidden layers", c.DeepDepth), c.DeepDepth}}
}

// particleLR is the particles' learning rate: ParticleLR, or LR·N (the same per-point time scale).
func (c ParticleVsNetworkConfig) particleLR(n int) float64 {
	if c.ParticleLR == 0 {
		return c.LR * float64(n)
	}
	return c.ParticleLR
}

// pvnReport writes persistence.csv, the time-series figures and the result of the runs.
func pvnReport(c ParticleVsNetworkConfig, dir string, d datasets.Points, methods []method, runs map[string][]pvnRun) (*Result, error) {
	thr, lmin := SilThreshold(d.Labels, d.K, 2), lossOfRegularPolygon(d.N, c.Temperature)
	sil, probe, err := pvnPersistence(dir, c, methods, runs, thr, lmin)
	if err != nil {
		return nil, err
	}
	v := vals{}
	res := &Result{Name: "particle-vs-network", Dir: dir, Title: "Particle gradient descent vs one- and deep networks on S¹ (paper Figs. 4/5)",
		Figures: []string{"silhouette_vs_gap.png", "panels.png", "timeseries.png"}, Values: v}
	kpoint := lossOfKPoints(d.N, d.K, c.Temperature) - lmin
	if err := pvnFigures(dir, d, methods, runs, c, kpoint); err != nil {
		return nil, err
	}
	cmp, cmpRows := gapComparison(v, methods, runs, lmin)
	res.Numbers = pvnNumbers(v, c, methods, sil, probe, thr, kpoint, cmpRows, runs, lmin)
	_, paired := pvnCreatedPaired(v, c, methods, runs, thr)
	res.Verdict = pvnVerdict(v, c, methods, sil, cmp, paired)
	res.Ours = fmt.Sprintf("Data (%d Gaussian clusters of %d points, std %g, centres on a circle of radius %g), augmentation %q "+
		"(%s), NT-Xent τ = %g on S¹ (k = 2, normalised output), width %d, depths 1 and %d, %s activation, %s output "+
		"scaling with NTK hidden multipliers, full-batch SGD with lr %g (networks) and %.4g (particles = lr·N unless set), %d steps, "+
		"%d seeds, the persistence rule (window %d) and thresholds (silhouette %.3f, probe %.2f), the gap levels of the "+
		"comparison and the probe's λ = %g.", c.Clusters, c.PerCluster, c.Radius, c.Scale, c.Augment, augmentNote(c.Augment),
		c.Temperature, c.Width, c.DeepDepth, c.Activation, c.Scaling, c.LR, c.particleLR(d.N), c.Steps, c.Seeds, c.Window, thr,
		probeThreshold, probeLambda)
	return res, nil
}

// pvnReportOnly rebuilds the runs from OutDir/particle-vs-network/timeseries.csv (every metric at every logged
// step, the loss as the regular N-gon's plus the stored gap) and writes the summary and the figures but
// panels.png, which needs the latent points. The settings must be those of the stored config.json; its wall
// time is the stored summary's.
func pvnReportOnly(c ParticleVsNetworkConfig, cm Common) (*Result, error) {
	dir := filepath.Join(cm.OutDir, "particle-vs-network")
	if err := sameSettings(filepath.Join(dir, "config.json"), c, func(s *ParticleVsNetworkConfig) { s.ReportOnly = c.ReportOnly }); err != nil {
		return nil, err
	}
	d, err := pointData(c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed)
	if err != nil {
		return nil, err
	}
	methods := pvnMethods(c)
	runs, err := readPVNSeries(filepath.Join(dir, "timeseries.csv"), methods, lossOfRegularPolygon(d.N, c.Temperature))
	if err != nil {
		return nil, err
	}
	res, err := pvnReport(c, dir, d, methods, runs)
	if err != nil {
		return nil, err
	}
	res.Seconds = storedSeconds(dir)
	return res, writeSummary(res, cm, pvnIntro(c)+res.Numbers)
}

func anys(v []float64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func augmentNote(aug string) string {
	if aug == "none" {
		return "ours: both views equal, so particles and networks minimise the same loss"
	}
	return "ours; the particles' views are equal, so the networks minimise a different loss"
}
