package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/spf13/pflag"
	"gonum.org/v1/plot"
)

// ParticleVsNetworkConfig sets particle-vs-network (the paper's Figures 4/5; paper.md targets 3–5). Every
// value is ours.
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
	Snapshots   []int   `json:"snapshots"`
	Seeds       int     `json:"seeds"`
	FirstSeed   uint64  `json:"first-seed"`
}

// DefaultParticleVsNetwork returns the full (or quick) settings.
func DefaultParticleVsNetwork(quick bool) ParticleVsNetworkConfig {
	c := ParticleVsNetworkConfig{Clusters: 4, PerCluster: 64, Radius: 0.15, Scale: 2, Augment: "noise:0.1", Temperature: 0.5, Width: 256,
		DeepDepth: 4, Activation: arch.LeakyReLU, Scaling: arch.ScalingNTK, LR: 0.05, Steps: 3000, LogEvery: 25,
		Snapshots: []int{0, 100, 300, 1000, 3000}, Seeds: 3, FirstSeed: 1}
	if quick {
		c.Steps, c.LogEvery, c.Snapshots, c.PerCluster = 400, 20, []int{0, 40, 120, 400}, 48
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
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "measure every this many steps")
	fs.IntSliceVar(&c.Snapshots, "snapshots", c.Snapshots, "steps drawn as panels")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "seeds (initialisation and augmentation; the data use the first)")
	fs.Uint64Var(&c.FirstSeed, "first-seed", c.FirstSeed, "first seed")
	return func(cm Common) (*Result, error) { return RunParticleVsNetwork(c, cm) }
}

// bindPointFlags binds the flags of the clustered 2-D data shared by particle-vs-network and persistence.
func bindPointFlags(fs *pflag.FlagSet, k, per *int, radius, scale *float64, aug *string) {
	fs.IntVar(k, "clusters", *k, "number of clusters K (Gaussian, centres on a circle)")
	fs.IntVar(per, "per-cluster", *per, "points per cluster")
	fs.Float64Var(radius, "radius", *radius, "cluster standard deviation")
	fs.Float64Var(scale, "scale", *scale, "radius of the circle of cluster centres")
	fs.StringVar(aug, "augment", *aug, `vector augmentation of the networks' views, e.g. "noise:0.1" (the particles' two views are equal)`)
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

// RunParticleVsNetwork runs particle-vs-network and writes its files.
func RunParticleVsNetwork(c ParticleVsNetworkConfig, cm Common) (*Result, error) {
	start := time.Now()
	dir, spec, d, b, err := setupPoints("particle-vs-network", cm, c, c.Augment, c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed)
	if err != nil {
		return nil, err
	}
	a := arch.MLP{In: 2, Width: c.Width, Depth: 1, Out: 2, Activation: c.Activation, Scaling: c.Scaling,
		Trainable: arch.TrainBoth, Normalize: true}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	plr := c.ParticleLR
	if plr == 0 {
		plr = c.LR * float64(d.N)
	}
	thr := SilThreshold(d.Labels, d.K, 2)
	methods := []method{{"particles", 0}, {"1 hidden layer", 1}, {fmt.Sprintf("%d hidden layers", c.DeepDepth), c.DeepDepth}}
	series := newTable(append([]string{"method", "seed", "step"}, seriesNames...)...)
	ptab := newTable("method", "seed", "persistence_silhouette", "censored_silhouette", "persistence_probe", "censored_probe",
		"initial_silhouette", "initial_probe", "final_silhouette", "final_probe")
	first := map[string]*trajectory{}
	pers := map[string][]persist{}
	for si := range c.Seeds {
		seed := c.FirstSeed + uint64(si)
		for _, m := range methods {
			rc := runCfg{steps: c.Steps, logEvery: c.LogEvery, loss: losses.Config{Kernel: losses.KernelExp, Temperature: c.Temperature},
				seed: seed, snapshots: c.Snapshots, labels: d.Labels, classes: d.K, k: 2, sphere: true, metrics: true}
			tj, err := pointRun(b, d, m, a, spec, c.LR, plr, rc)
			if err != nil {
				return nil, err
			}
			cm.logf("particle-vs-network: %s seed %d: %.1f s\n", m.name, seed, tj.seconds)
			for i, t := range tj.steps {
				row := []any{m.name, int(seed), t}
				for _, v := range tj.rows[i].values() {
					row = append(row, v)
				}
				series.add(row...)
			}
			p := measurePersistence(tj, thr)
			pers[m.name] = append(pers[m.name], p)
			last := tj.rows[len(tj.rows)-1]
			ptab.add(m.name, int(seed), p.sil, p.silCensored, p.probe, p.probeCensored, tj.rows[0].Silhouette, tj.rows[0].Probe,
				last.Silhouette, last.Probe)
			if si == 0 {
				first[m.name] = tj
			}
		}
	}
	if err := series.write(filepath.Join(dir, "timeseries.csv")); err != nil {
		return nil, err
	}
	if err := ptab.write(filepath.Join(dir, "persistence.csv")); err != nil {
		return nil, err
	}
	res := &Result{Name: "particle-vs-network", Dir: dir, Title: "Particle gradient descent vs one- and deep networks on S¹ (paper Figs. 4/5)"}
	if err := pvnFigures(dir, d, methods, first, c); err != nil {
		return nil, err
	}
	res.Figures = []string{"panels.png", "timeseries.png"}
	var rows [][]string
	for _, m := range methods {
		rows = append(rows, persistRow(m.name, pers[m.name]))
	}
	res.Numbers = persistLegend(c.Steps, thr) + markdown(persistHeader, rows)
	res.Verdict = pvnVerdict(methods, pers, c.Steps)
	res.Ours = fmt.Sprintf("Data (%d Gaussian clusters of %d points, std %g, centres on a circle of radius %g), augmentation %q "+
		"for the networks, NT-Xent τ = %g on S¹ (k = 2, normalised output), width %d, depths 1 and %d, %s activation, %s output "+
		"scaling with NTK hidden multipliers, full-batch SGD with lr %g (networks) and %.4g (particles = lr·N unless set), %d steps, "+
		"%d seeds, the persistence thresholds (silhouette %.3f, probe %.2f) and the probe's λ = %g.",
		c.Clusters, c.PerCluster, c.Radius, c.Scale, c.Augment, c.Temperature, c.Width, c.DeepDepth, c.Activation, c.Scaling, c.LR, plr,
		c.Steps, c.Seeds, thr, probeThreshold, probeLambda)
	res.Seconds = time.Since(start).Seconds()
	body := "Three methods from comparable starts: the particles start at the latent points of the untrained one-hidden-layer " +
		"network of the same seed; the networks start from their own initialisation (the deep network's initial embedding " +
		"differs). Full batch; the networks see two augmented views, the particles' two views are equal (their loss is the " +
		"uniformity term plus the constant −1/τ).\n\n" + res.Numbers
	return res, writeSummary(res, cm, body)
}

// persist is the persistence of one run under both measures.
type persist struct {
	sil, probe                 int
	silCensored, probeCensored bool
	silNever, probeNever       bool
}

func measurePersistence(tj *trajectory, silThr float64) persist {
	var p persist
	p.sil, p.silCensored, p.silNever = persistence(tj.steps, tj.rows, func(g Geometry) bool { return g.Silhouette >= silThr })
	p.probe, p.probeCensored, p.probeNever = persistence(tj.steps, tj.rows, probeVisible)
	return p
}

var persistHeader = []string{"method", "persistence (silhouette), mean ± std", "per seed", "persistence (probe < 0.95), mean ± std", "per seed"}

func persistLegend(steps int, thr float64) string {
	return fmt.Sprintf("Persistence time (ours): the first logged step at which the silhouette of the latent points by cluster "+
		"label falls below %.3f (primary; halfway between 1, perfectly collapsed clusters, and the silhouette of the trivial "+
		"minimiser, evenly spread points with contiguous clusters), or the linear-probe accuracy below %.2f (secondary), after "+
		"having been above it. "+
		"'>%d' = still above at the last step (censored; the mean then counts it as %d, a lower bound); 'never' = never above. "+
		"The probe is secondary because on S¹ clusters that fill contiguous arcs stay linearly separable even at the uniform "+
		"(trivial) minimiser.\n\n", thr, probeThreshold, steps, steps)
}

// persistRow formats the persistence times of several seeds.
func persistRow(name string, ps []persist) []string {
	f := func(get func(persist) (int, bool, bool)) (string, string) {
		var xs []float64
		var each []string
		nc := 0
		for _, p := range ps {
			t, cens, never := get(p)
			switch {
			case never:
				each = append(each, "never")
				continue
			case cens:
				each = append(each, fmt.Sprintf(">%d", t))
				nc++
			default:
				each = append(each, fmt.Sprint(t))
			}
			xs = append(xs, float64(t))
		}
		if len(xs) == 0 {
			return "never", strings.Join(each, ", ")
		}
		m, s := meanStd(xs)
		ms := fmt.Sprintf("%.0f ± %.0f", m, s)
		if nc > 0 {
			ms = fmt.Sprintf("≥ %s (%d/%d censored)", ms, nc, len(xs))
		}
		return ms, strings.Join(each, ", ")
	}
	a, b := f(func(p persist) (int, bool, bool) { return p.sil, p.silCensored, p.silNever })
	c, d := f(func(p persist) (int, bool, bool) { return p.probe, p.probeCensored, p.probeNever })
	return []string{name, a, b, c, d}
}

// meanPersist returns the mean silhouette persistence (censored runs count as their bound) and whether any run
// was censored or never visible.
func meanPersist(ps []persist) (mean float64, censored int, never int) {
	var xs []float64
	for _, p := range ps {
		if p.silNever {
			never++
			continue
		}
		if p.silCensored {
			censored++
		}
		xs = append(xs, float64(p.sil))
	}
	m, _ := meanStd(xs)
	return m, censored, never
}

func pvnVerdict(methods []method, pers map[string][]persist, steps int) string {
	mp, _, np := meanPersist(pers[methods[0].name])
	m1, c1, n1 := meanPersist(pers[methods[1].name])
	md, cd, nd := meanPersist(pers[methods[2].name])
	s := fmt.Sprintf("Mean silhouette persistence: particles %.0f, one hidden layer %.0f%s, %s %.0f%s steps (of %d). ",
		mp, m1, censNote(c1, n1), methods[2].name, md, censNote(cd, nd), steps)
	if np > 0 || n1 > 0 || nd > 0 {
		s += "Some runs never had visible clusters (silhouette below the threshold at every logged step), so their persistence is undefined. "
	}
	switch {
	case math.IsNaN(mp) || math.IsNaN(m1):
		s += "The comparison is undefined for this setting."
	case m1 > mp:
		s += "The prediction held: the one-hidden-layer network kept the clusters longer than particle gradient descent."
	default:
		s += "The prediction did NOT hold here: particle gradient descent kept the clusters at least as long as the one-hidden-layer network."
	}
	return s
}

func censNote(c, n int) string {
	if c == 0 && n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d censored, %d never)", c, n)
}

// pvnFigures draws the panel figure (one row per method, one panel per snapshot) and the time series.
func pvnFigures(dir string, d datasets.Points, methods []method, first map[string]*trajectory, c ParticleVsNetworkConfig) error {
	var grid [][]*plot.Plot
	for mi, m := range methods {
		tj := first[m.name]
		var row []*plot.Plot
		for si, s := range c.Snapshots {
			z, ok := tj.latents[s]
			if !ok {
				continue
			}
			p, err := circlePanel(fmt.Sprintf("%s, step %d", m.name, s), z, d.N, 2, d.Labels, d.K, mi == 0 && si == 0)
			if err != nil {
				return err
			}
			row = append(row, p)
		}
		grid = append(grid, row)
	}
	if err := saveGrid(grid, filepath.Join(dir, "panels.png"), 7, 7); err != nil {
		return err
	}
	return seriesGrid(dir, "timeseries.png", "seed "+fmt.Sprint(c.FirstSeed), methods, first)
}

// seriesGrid draws the six metrics against the step, one curve per method.
func seriesGrid(dir, file, note string, methods []method, tjs map[string]*trajectory) error {
	var plots []*plot.Plot
	for vi, label := range seriesLabels {
		var cs []curve
		for mi, m := range methods {
			tj := tjs[m.name]
			xs, ys := make([]float64, len(tj.steps)), make([]float64, len(tj.steps))
			for i, t := range tj.steps {
				xs[i], ys[i] = float64(t), tj.rows[i].values()[vi]
			}
			cs = append(cs, curve{Name: m.name, X: xs, Y: ys, Color: mi})
		}
		p, err := lineChart(label+" ("+note+")", "step", label, cs, false)
		if err != nil {
			return err
		}
		plots = append(plots, p)
	}
	return saveGrid([][]*plot.Plot{plots[:3], plots[3:]}, filepath.Join(dir, file), 11, 8)
}
