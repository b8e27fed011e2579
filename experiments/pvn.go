package experiments

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
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
	Window      int     `json:"window"` // logged points below the threshold that end persistence
	Snapshots   []int   `json:"snapshots"`
	Seeds       int     `json:"seeds"`
	FirstSeed   uint64  `json:"first-seed"`
}

// DefaultParticleVsNetwork returns the full (or quick) settings.
func DefaultParticleVsNetwork(quick bool) ParticleVsNetworkConfig {
	c := ParticleVsNetworkConfig{Clusters: 4, PerCluster: 64, Radius: 0.15, Scale: 2, Augment: "none", Temperature: 0.5, Width: 256,
		DeepDepth: 4, Activation: arch.LeakyReLU, Scaling: arch.ScalingNTK, LR: 0.05, Steps: 3000, LogEvery: 10, Window: 10,
		Snapshots: []int{0, 30, 100, 300, 1000, 3000}, Seeds: 3, FirstSeed: 1}
	if quick {
		c.Steps, c.LogEvery, c.Window, c.Snapshots, c.PerCluster = 400, 10, 5, []int{0, 40, 120, 400}, 48
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
	fs.IntVar(&c.Window, "window", c.Window, "persistence ends at the first of this many consecutive measurements below the threshold")
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
	thr, lmin := SilThreshold(d.Labels, d.K, 2), lossOfRegularPolygon(d.N, c.Temperature)
	methods := []method{{"particles", 0}, {"1 hidden layer", 1}, {fmt.Sprintf("%d hidden layers", c.DeepDepth), c.DeepDepth}}
	series := newTable(append(append([]string{"method", "seed", "step"}, seriesNames...), "loss_gap", "out_norm")...)
	runs := map[string][]pvnRun{}
	for si := range c.Seeds {
		seed := c.FirstSeed + uint64(si)
		for _, m := range methods {
			rc := runCfg{steps: c.Steps, logEvery: c.LogEvery, loss: losses.Config{Kernel: losses.KernelExp, Temperature: c.Temperature},
				seed: seed, snapshots: c.Snapshots, labels: d.Labels, classes: d.K, k: 2, sphere: true, metrics: true}
			tj, err := pointRun(b, d, m, a, spec, c.LR, plr, rc)
			diverged := errors.Is(err, errNotFinite)
			if err != nil && !diverged {
				return nil, err
			}
			cm.logf("particle-vs-network: %s seed %d: %.1f s (diverged: %v)\n", m.name, seed, tj.seconds, diverged)
			for i, t := range tj.steps {
				g := tj.rows[i]
				series.add(append(append([]any{m.name, int(seed), t}, anys(g.values())...), g.Loss-lmin, g.OutNorm)...)
			}
			runs[m.name] = append(runs[m.name], pvnRun{seed, tj, diverged})
		}
	}
	if err := series.write(filepath.Join(dir, "timeseries.csv")); err != nil {
		return nil, err
	}
	sil, probe, err := pvnPersistence(dir, c, methods, runs, thr, lmin)
	if err != nil {
		return nil, err
	}
	res := &Result{Name: "particle-vs-network", Dir: dir, Title: "Particle gradient descent vs one- and deep networks on S¹ (paper Figs. 4/5)",
		Figures: []string{"silhouette_vs_gap.png", "panels.png", "timeseries.png"}}
	kpoint := lossOfKPoints(d.N, d.K, c.Temperature) - lmin
	if err := pvnFigures(dir, d, methods, runs, c, kpoint); err != nil {
		return nil, err
	}
	cmp, cmpRows := gapComparison(methods, runs, lmin)
	res.Numbers = pvnNumbers(c, methods, sil, probe, thr, kpoint, cmpRows, runs, lmin)
	res.Verdict = pvnVerdict(c, methods, sil, cmp)
	res.Ours = fmt.Sprintf("Data (%d Gaussian clusters of %d points, std %g, centres on a circle of radius %g), augmentation %q "+
		"(%s), NT-Xent τ = %g on S¹ (k = 2, normalised output), width %d, depths 1 and %d, %s activation, %s output "+
		"scaling with NTK hidden multipliers, full-batch SGD with lr %g (networks) and %.4g (particles = lr·N unless set), %d steps, "+
		"%d seeds, the persistence rule (window %d) and thresholds (silhouette %.3f, probe %.2f), the gap levels of the "+
		"comparison and the probe's λ = %g.", c.Clusters, c.PerCluster, c.Radius, c.Scale, c.Augment, augmentNote(c.Augment),
		c.Temperature, c.Width, c.DeepDepth, c.Activation, c.Scaling, c.LR, plr, c.Steps, c.Seeds, c.Window, thr, probeThreshold, probeLambda)
	res.Seconds = time.Since(start).Seconds()
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

// pvnIntro states what is compared, and warns when the losses differ.
func pvnIntro(c ParticleVsNetworkConfig) string {
	s := "Three methods from comparable starts: the particles start at the latent points of the untrained one-hidden-layer " +
		"network of the same seed; the networks start from their own initialisation (the deep network's initial embedding " +
		"differs). Full batch. "
	if c.Augment == "none" {
		s += "No augmentation: the networks' two views are equal, as the particles' are, so all three minimise the same " +
			"function of the latent points (NT-Xent with equal views: the uniformity term plus the constant −1/τ). The " +
			"common clock is the loss gap, the loss less that of the regular N-gon (the uniform configuration the loss " +
			"drives to), which removes the methods' different speeds.\n\n"
	} else {
		s += fmt.Sprintf("**The losses differ**: the networks see two views augmented by %q, the particles two equal "+
			"views, so the two minimise different objectives and the loss gap of the networks is measured on their "+
			"augmented loss; a difference between them may come from the loss, not from the parameterisation.\n\n", c.Augment)
	}
	return s + "panels.png draws u = z/‖z‖ of seed " + fmt.Sprint(c.FirstSeed) + " with cluster c at radius 1 + 0.04c " +
		"(pushed outwards so that overlapping clusters stay visible).\n\n"
}

// pvnPersistence measures the persistence of every run under the silhouette (primary) and the probe
// (secondary) and writes persistence.csv, one row per run.
func pvnPersistence(dir string, c ParticleVsNetworkConfig, methods []method, runs map[string][]pvnRun, thr, lmin float64) (
	sil, probe map[string]*persistGroup, err error) {
	sil, probe = map[string]*persistGroup{}, map[string]*persistGroup{}
	tab := newTable("method", "seed", "silhouette_persistence", "silhouette_event", "silhouette_never_visible", "probe_persistence",
		"probe_event", "probe_never_visible", "diverged", "initial_silhouette", "final_silhouette", "initial_probe", "final_probe",
		"final_loss_gap", "initial_out_norm", "final_out_norm")
	for _, m := range methods {
		sil[m.name], probe[m.name] = &persistGroup{}, &persistGroup{}
		for _, r := range runs[m.name] {
			tj := r.tj
			last := c.Steps
			if r.diverged {
				last = tj.steps[len(tj.steps)-1]
			}
			ss, ps := make([]float64, len(tj.rows)), make([]float64, len(tj.rows))
			for i, g := range tj.rows {
				ss[i], ps[i] = g.Silhouette, g.Probe
			}
			os, ns := persistenceOf(tj.steps, ss, thr, c.Window, last)
			op, np := persistenceOf(tj.steps, ps, probeThreshold, c.Window, last)
			sil[m.name].add(os, ns, r.diverged)
			probe[m.name].add(op, np, r.diverged)
			g0, g1 := tj.rows[0], tj.rows[len(tj.rows)-1]
			tab.add(m.name, int(r.seed), os.Time, os.Event, ns, op.Time, op.Event, np, r.diverged, g0.Silhouette, g1.Silhouette,
				g0.Probe, g1.Probe, g1.Loss-lmin, g0.OutNorm, g1.OutNorm)
		}
	}
	return sil, probe, tab.write(filepath.Join(dir, "persistence.csv"))
}

// lossOfKPoints is the NT-Xent loss (exp kernel, temperature tau, equal views) of n points in k equal clusters
// each collapsed to one vertex of a regular k-gon on S¹: every view sees its partner and the 2n/k − 2 other views
// of its cluster at cosine 1, and 2n/k views at each other vertex,
//
//	L = log(2n/k − 1 + (2n/k) Σ_{j=1}^{k−1} e^{(cos(2πj/k) − 1)/τ})
//
// (−1/τ cancels the e^{1/τ} factored out of every term, as in lossOfRegularPolygon): "clusters kept" collapsed.
func lossOfKPoints(n, k int, tau float64) float64 {
	m := 2 * float64(n) / float64(k)
	s := m - 1
	for j := 1; j < k; j++ {
		s += m * math.Exp((math.Cos(2*math.Pi*float64(j)/float64(k))-1)/tau)
	}
	return math.Log(s)
}

// gapCmp is one network's silhouette minus the particles' at equal loss gap, paired by seed, over all levels.
type gapCmp struct {
	name             string
	pos, total       int
	mean, lo, hi     float64
	levelLo, levelHi float64
}

// silAtGap returns the silhouette of r when its loss gap first fell to g: linear in log gap between the two
// logged steps around the crossing (a fast run can cross several levels between two measurements); NaN if never.
func silAtGap(r pvnRun, g, lmin float64) float64 {
	for i, row := range r.tj.rows {
		gi := row.Loss - lmin
		if gi > g {
			continue
		}
		if i == 0 || gi <= 0 {
			return row.Silhouette
		}
		prev := r.tj.rows[i-1]
		w := math.Log((prev.Loss-lmin)/g) / math.Log((prev.Loss-lmin)/gi) // 0 at the previous step, 1 at this one
		return prev.Silhouette + w*(row.Silhouette-prev.Silhouette)
	}
	return math.NaN()
}

// gapComparison compares the methods at equal loss gap: on gapLevels levels spaced geometrically over the range
// of gaps every run passed through, the silhouette of each run when its gap first reached the level. It returns
// each network's paired difference from the particles and the table rows (mean over seeds [min, max]).
func gapComparison(methods []method, runs map[string][]pvnRun, lmin float64) ([]gapCmp, [][]string) {
	hi, lo := math.Inf(1), 0.0
	for _, m := range methods {
		for _, r := range runs[m.name] {
			top, bottom := math.Inf(-1), math.Inf(1)
			for _, g := range r.tj.rows {
				top, bottom = max(top, g.Loss-lmin), min(bottom, g.Loss-lmin)
			}
			hi, lo = min(hi, top), max(lo, bottom, 1e-9)
		}
	}
	if !(lo < hi) {
		return nil, nil
	}
	const gapLevels = 6
	levels := make([]float64, gapLevels)
	for i := range levels {
		levels[i] = hi * math.Pow(lo/hi, float64(i)/float64(gapLevels-1))
	}
	var rows [][]string
	for _, g := range levels {
		row := []string{fmt.Sprintf("%.3g", g)}
		for _, m := range methods {
			var xs []float64
			for _, r := range runs[m.name] {
				xs = append(xs, silAtGap(r, g, lmin))
			}
			row = append(row, rangeOf(xs, "%.3f"))
		}
		rows = append(rows, row)
	}
	var out []gapCmp
	for _, m := range methods[1:] {
		gc := gapCmp{name: m.name, lo: math.Inf(1), hi: math.Inf(-1), levelLo: lo, levelHi: hi}
		for _, r := range runs[m.name] {
			i := slices.IndexFunc(runs[methods[0].name], func(p pvnRun) bool { return p.seed == r.seed })
			if i < 0 {
				continue
			}
			for _, g := range levels {
				d := silAtGap(r, g, lmin) - silAtGap(runs[methods[0].name][i], g, lmin)
				if math.IsNaN(d) {
					continue
				}
				gc.total++
				if d > 0 {
					gc.pos++
				}
				gc.mean += d
				gc.lo, gc.hi = min(gc.lo, d), max(gc.hi, d)
			}
		}
		gc.mean /= float64(gc.total)
		out = append(out, gc)
	}
	return out, rows
}

// pvnNumbers is the summary's tables: persistence under both statistics, the end of the runs, and the
// silhouette at equal loss gap.
func pvnNumbers(c ParticleVsNetworkConfig, methods []method, sil, probe map[string]*persistGroup, thr, kpoint float64,
	gapRows [][]string, runs map[string][]pvnRun, lmin float64) string {
	var b strings.Builder
	b.WriteString(kmLegend("silhouette", thr, c.Window, c.LogEvery, c.Steps))
	var rs, rp, fin [][]string
	for _, m := range methods {
		rs, rp = append(rs, kmRow(m.name, *sil[m.name])), append(rp, kmRow(m.name, *probe[m.name]))
		var gap, s, p, on []float64
		for _, r := range runs[m.name] {
			g := r.tj.rows[len(r.tj.rows)-1]
			gap, s, p, on = append(gap, g.Loss-lmin), append(s, g.Silhouette), append(p, g.Probe), append(on, g.OutNorm)
		}
		fin = append(fin, []string{m.name, fmt.Sprint(len(gap)), rangeOf(gap, "%.3g"), rangeOf(s, "%.3f"), rangeOf(p, "%.3f"), rangeOf(on, "%.3g")})
	}
	b.WriteString("Silhouette persistence (primary):\n\n" + markdown(kmHeader, rs))
	fmt.Fprintf(&b, "\nProbe persistence (secondary; threshold %.2f, same rule; on S¹ contiguous arcs stay separable even at the "+
		"uniform minimiser, so the probe keeps 'clusters' the silhouette has lost):\n\n%s", probeThreshold, markdown(kmHeader, rp))
	fmt.Fprintf(&b, "\nAt the last step (mean over seeds [min, max]; loss gap = loss − loss of the regular N-gon, %.4f; the K-point "+
		"configuration, every cluster collapsed to one vertex of a regular K-gon, has gap %.4g; out norm = mean ‖g(x)‖ before "+
		"the normalisation, 1 for the particles):\n\n", lmin, kpoint)
	b.WriteString(markdown([]string{"method", "n", "loss gap", "silhouette", "probe", "out norm"}, fin))
	if gapRows != nil {
		fmt.Fprintf(&b, "\nSilhouette at equal loss gap (the first logged step at which each run's gap fell to the level; mean over "+
			"seeds [min, max]; levels spaced geometrically over the gaps every run passed through):\n\n")
		hdr := []string{"loss gap"}
		for _, m := range methods {
			hdr = append(hdr, fmt.Sprintf("%s (n=%d)", m.name, len(runs[m.name])))
		}
		b.WriteString(markdown(hdr, gapRows))
	} else {
		b.WriteString("\nThe runs share no range of loss gaps: no comparison at equal gap.\n")
	}
	return b.String()
}

// rangeOf formats xs as "mean [min, max]", or the single value when there is one.
func rangeOf(xs []float64, f string) string {
	if len(xs) == 1 {
		return fmt.Sprintf(f, xs[0])
	}
	m, _ := meanStd(xs)
	return fmt.Sprintf(f+" ["+f+", "+f+"]", m, slices.Min(xs), slices.Max(xs))
}

// pvnVerdict derives the verdict on the prediction (networks keep the clusters longer than particles) from two
// criteria: the KM medians of silhouette persistence, and the silhouette at equal loss gap.
func pvnVerdict(c ParticleVsNetworkConfig, methods []method, sil map[string]*persistGroup, cmp []gapCmp) string {
	var s []string
	if c.Augment != "none" {
		s = append(s, fmt.Sprintf("Caution: the networks were trained with augmentation %q and the particles without, so the two minimise different losses.", c.Augment))
	}
	p := methods[0].name
	for i, m := range methods[1:] {
		km := kmCompare(m.name, p, *sil[m.name], *sil[p])
		line := "KM: " + km + "."
		var gap string
		if i < len(cmp) && cmp[i].total > 0 {
			g := cmp[i]
			line += fmt.Sprintf(" At equal loss gap (%.3g to %.3g) its silhouette minus the particles', paired by seed, was positive in %d of %d "+
				"(seed, level) pairs: mean %+.3f, range [%+.3f, %+.3f].", g.levelHi, g.levelLo, g.pos, g.total, g.mean, g.lo, g.hi)
			switch {
			case g.pos == g.total:
				gap = "higher"
			case g.pos == 0:
				gap = "lower"
			}
		}
		longer, shorter := strings.Contains(km, "LONGER"), strings.Contains(km, "SHORTER")
		switch {
		case longer && gap == "higher":
			line += fmt.Sprintf(" → The prediction HELD for the %s network: longer persistence and more clustered at every matched gap.", m.name)
		case shorter || gap == "lower":
			line += fmt.Sprintf(" → The prediction did NOT hold for the %s network.", m.name)
		case gap == "higher":
			line += fmt.Sprintf(" → Supported at equal gap (more clustered at every matched gap) but the persistence medians do not resolve a difference for the %s network.", m.name)
		default:
			line += fmt.Sprintf(" → Unresolved for the %s network.", m.name)
		}
		s = append(s, line)
	}
	s = append(s, fmt.Sprintf("What this does not show: one data set, one width (%d), one learning rate and τ = %g; n = %d seeds per method, "+
		"so the intervals are wide and no test is made; the matched-gap comparison removes the methods' different speeds but says "+
		"nothing about why the networks differ (kernel vs feature learning); the thresholds and the window are ours.",
		c.Width, c.Temperature, c.Seeds))
	return strings.Join(s, " ")
}

// pvnFigures draws the panel figure and the time series of the first seed (one row per method, one panel per
// snapshot) and every run's silhouette, probe accuracy and output norm against the loss gap.
func pvnFigures(dir string, d datasets.Points, methods []method, runs map[string][]pvnRun, c ParticleVsNetworkConfig, kpoint float64) error {
	first := map[string]*trajectory{}
	for _, m := range methods {
		first[m.name] = runs[m.name][0].tj
	}
	if err := snapshotPanels(filepath.Join(dir, "panels.png"), d, methods, first, c.Snapshots); err != nil {
		return err
	}
	if err := seriesGrid(dir, "timeseries.png", "seed "+fmt.Sprint(c.FirstSeed), methods, first); err != nil {
		return err
	}
	return gapFigure(filepath.Join(dir, "silhouette_vs_gap.png"), methods, runs, lossOfRegularPolygon(d.N, c.Temperature), kpoint)
}

// snapshotPanels draws the latent points of each method (a row) at each snapshot step (a panel).
func snapshotPanels(path string, d datasets.Points, methods []method, tjs map[string]*trajectory, snapshots []int) error {
	var grid [][]*plot.Plot
	for mi, m := range methods {
		var row []*plot.Plot
		for si, s := range snapshots {
			z, ok := tjs[m.name].latents[s]
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
	return saveGrid(grid, path, 7, 7)
}

// gapFigure draws, for every run, the silhouette, the probe accuracy and the output norm against the loss gap
// (log scale; training runs right to left), one colour per method, with the K-point configuration's gap marked.
func gapFigure(path string, methods []method, runs map[string][]pvnRun, lmin, kpoint float64) error {
	stats := []struct {
		label string
		get   func(Geometry) float64
	}{{"silhouette", func(g Geometry) float64 { return g.Silhouette }}, {"linear-probe accuracy", func(g Geometry) float64 { return g.Probe }},
		{"output norm ‖g(x)‖ before normalisation", func(g Geometry) float64 { return g.OutNorm }}}
	var panels []*plot.Plot
	for si, st := range stats {
		var cs []curve
		lo, hi := math.Inf(1), math.Inf(-1)
		for mi, m := range methods {
			for ri, r := range runs[m.name] {
				cv := curve{Color: mi}
				if ri == 0 {
					cv.Name = fmt.Sprintf("%s (n=%d)", m.name, len(runs[m.name]))
				}
				for _, g := range r.tj.rows {
					if gap := g.Loss - lmin; gap > 0 {
						cv.X, cv.Y = append(cv.X, gap), append(cv.Y, st.get(g))
						lo, hi = min(lo, gap), max(hi, gap)
					}
				}
				cs = append(cs, cv)
			}
		}
		if si < 2 && kpoint > 0 {
			cs = append(cs, curve{Name: "K-point configuration", X: []float64{kpoint, kpoint}, Y: []float64{0, 1}, Color: len(methods), Dashed: true})
			lo, hi = min(lo, kpoint), max(hi, kpoint)
		}
		p, err := lineChart(st.label+" against the loss gap (every seed)", "loss − loss of the regular N-gon (log scale; time runs right to left)",
			st.label, cs, true)
		if err != nil {
			return err
		}
		if lo < hi {
			p.X.Min, p.X.Max = lo/1.5, hi*1.5
		}
		panels = append(panels, p)
	}
	return saveGrid([][]*plot.Plot{panels}, path, 14, 11)
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
