package experiments

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/spf13/pflag"
)

// NTKConfig sets the empirical-NTK experiment (paper.md §4.4, target 6). Every value is ours.
type NTKConfig struct {
	Clusters, PerCluster int
	Radius, Scale        float64
	Augment              string
	Subset               int   // points per cluster at which the kernel is evaluated
	Widths               []int // width sweep: one hidden layer, both scalings
	Depths               []int // depth sweep: NTK scaling at width DepthWidth
	DepthWidth           int   `json:"depth-width"`
	Activation           string
	Temperature, LR      float64 // LR η of the NTK scaling; mean-field trains with η·m/LRWidth
	LRWidth              int     `json:"lr-width"` // m₀ of mean-field's learning rate η·m/m₀
	Steps, Every         int
	CheckLR              float64 `json:"check-lr"` // step of the one-step 6(c) comparison
	Seeds                int
	FirstSeed            uint64
	ReportOnly           bool `json:"-"` // run nothing: the summary and figures of the stored CSV files
}

// DefaultNTK returns the full (or quick) settings.
func DefaultNTK(quick bool) NTKConfig {
	c := NTKConfig{Clusters: 4, PerCluster: 64, Radius: 0.15, Scale: 2, Augment: "noise:0.1", Subset: 8,
		Widths: []int{64, 256, 1024}, Depths: []int{1, 2, 4, 8}, DepthWidth: 256, Activation: arch.LeakyReLU,
		Temperature: 0.5, LR: 0.05, LRWidth: 1, Steps: 1000, Every: 100, CheckLR: 1e-3, Seeds: 3, FirstSeed: 1}
	if quick {
		c.PerCluster, c.Widths, c.Depths, c.DepthWidth, c.Steps, c.Every, c.Seeds = 32, []int{32, 128}, []int{1, 3}, 64, 60, 20, 2
	}
	return c
}

func bindNTK(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
	c := DefaultNTK(quick)
	bindPointFlags(fs, &c.Clusters, &c.PerCluster, &c.Radius, &c.Scale, &c.Augment)
	fs.IntVar(&c.Subset, "subset", c.Subset, "points per cluster at which the kernel is evaluated")
	fs.IntSliceVar(&c.Widths, "widths", c.Widths, "hidden widths m of the width sweep (one hidden layer, ntk and mean-field)")
	fs.IntSliceVar(&c.Depths, "depths", c.Depths, "hidden layers L of the depth sweep (ntk scaling)")
	fs.IntVar(&c.DepthWidth, "depth-width", c.DepthWidth, "hidden width of the depth sweep")
	fs.StringVar(&c.Activation, "activation", c.Activation, "activation σ")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "temperature τ")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate η of the ntk scaling")
	fs.IntVar(&c.LRWidth, "lr-width", c.LRWidth, "m₀ of the mean-field learning rate η·m/m₀")
	fs.IntVar(&c.Steps, "steps", c.Steps, "full-batch training steps")
	fs.IntVar(&c.Every, "every", c.Every, "measure the kernel every this many steps")
	fs.Float64Var(&c.CheckLR, "check-lr", c.CheckLR, "learning rate of the one-step cluster-velocity comparison")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "seeds")
	fs.Uint64Var(&c.FirstSeed, "first-seed", c.FirstSeed, "first seed")
	fs.BoolVar(&c.ReportOnly, "report-only", false, "run nothing: write the summary and figures from the stored CSV files")
	return func(cm Common) (*Result, error) { return RunNTK(c, cm) }
}

// ntkCell is one network of the sweeps, trained with learning rate lr.
type ntkCell struct {
	scaling      string
	depth, width int
	lr           float64
}

// cells lists the width sweep (depth 1, both scalings) and then the depth sweep (ntk), without repeats.
// Mean-field's rule, ours: lr = η·m/m₀ (m₀ = LRWidth), the time rescaling by m of mean-field theory: with a loss
// that does not normalise z it moves g at a rate independent of m. The two scalings take the same path at m = m₀.
func (c NTKConfig) cells() []ntkCell {
	var cs []ntkCell
	for _, s := range []string{arch.ScalingNTK, arch.ScalingMeanField} {
		for _, m := range c.Widths {
			lr := c.LR
			if s == arch.ScalingMeanField {
				lr = c.LR * float64(m) / float64(c.LRWidth)
			}
			cs = append(cs, ntkCell{s, 1, m, lr})
		}
	}
	for _, l := range c.Depths {
		if cl := (ntkCell{arch.ScalingNTK, l, c.DepthWidth, c.LR}); !slices.Contains(cs, cl) {
			cs = append(cs, cl)
		}
	}
	return cs
}

// ntkSeed is what one seed of one cell measures: per logged step the scale-free drift D, the alignment A, ‖Θ_t‖_F
// of the raw output g and the mean ‖g‖ over the data; at init (0) and at the end (1) the locality of Θ_g and the
// cluster velocities of T = g/‖g‖.
type ntkSeed struct {
	steps                       []int
	drift, align, norm, outNorm []float64
	loc                         [2]locality
	vel                         [2]ntkVel
}

// RunNTK runs the experiment and writes its files; with c.ReportOnly it runs nothing and writes the summary and
// figures from the stored CSV files.
func RunNTK(c NTKConfig, cm Common) (*Result, error) {
	start := time.Now()
	if len(c.Widths) == 0 || len(c.Depths) == 0 || c.Seeds < 1 || c.Every < 1 || c.LRWidth < 1 {
		return nil, fmt.Errorf("experiments: ntk: --widths and --depths must be non-empty and --seeds, --every, --lr-width ≥ 1")
	}
	cells := c.cells()
	if c.ReportOnly {
		dir := filepath.Join(cm.OutDir, "ntk")
		if err := sameSettings(filepath.Join(dir, "config.json"), c, func(s *NTKConfig) { s.ReportOnly = c.ReportOnly }); err != nil {
			return nil, err
		}
		runs, err := readNTKRuns(dir, c, cells, true)
		if err != nil {
			return nil, err
		}
		return ntkReport(c, cm, dir, cells, runs, storedSeconds(dir))
	}
	dir, spec, d, b, err := setupPoints("ntk", cm, c, c.Augment, c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed)
	if err != nil {
		return nil, err
	}
	pts := newNTKPoints(d, c.Subset, spec.NoiseStd, c.FirstSeed)
	runs := map[ntkCell][]ntkSeed{}
	for _, cl := range cells {
		if runs[cl], err = runNTKCell(b, c, d, spec, pts, cl, losses.Config{Kernel: losses.KernelExp, Temperature: c.Temperature}, true); err != nil {
			return nil, fmt.Errorf("experiments: ntk %s L=%d m=%d: %w", cl.scaling, cl.depth, cl.width, err)
		}
		last := runs[cl]
		cm.logf("ntk: %s L=%d m=%d lr=%g: drift %.4f (%.0f s)\n", cl.scaling, cl.depth, cl.width, cl.lr,
			last[0].drift[len(last[0].drift)-1], time.Since(start).Seconds())
	}
	if err := writeNTKTables(dir, c, cells, runs); err != nil {
		return nil, err
	}
	// The summary is computed from the files just written, as --report-only computes it.
	if runs, err = readNTKRuns(dir, c, cells, true); err != nil {
		return nil, err
	}
	return ntkReport(c, cm, dir, cells, runs, time.Since(start).Seconds())
}

// ntkReport draws the figures and writes the summary of the runs.
func ntkReport(c NTKConfig, cm Common, dir string, cells []ntkCell, runs map[ntkCell][]ntkSeed, seconds float64) (*Result, error) {
	res := &Result{Name: "ntk", Dir: dir, Title: "Empirical neural tangent kernel: scale-free drift, 1/√m vs 1/m, locality against depth, prediction 6(c)",
		Figures: []string{"drift_vs_step.png", "drift_vs_width.png", "locality_vs_depth.png", "velocity_6c.png"}, Values: vals{}}
	if err := ntkFigures(dir, c, runs); err != nil {
		return nil, err
	}
	res.Numbers, res.Verdict = ntkNumbers(res.Values, c, cells, runs, c.Clusters*c.Subset)
	res.Ours = fmt.Sprintf("Data (%d Gaussian clusters × %d points, std %g, centres on a circle of radius %g), augmentation %q, "+
		"kernel points (%d per cluster, the first of each cluster), widths %v (one hidden layer), depths %v at width %d, %s "+
		"activation, NTK hidden multipliers, unnormalised output g (NT-Xent normalises it), τ = %g, full-batch SGD with η = %g "+
		"for the ntk scaling and η·m/%d for mean-field (the rule too), %d steps, kernel every %d steps, the 6(c) step %g on one fixed draw of "+
		"views of the kernel points, %d seeds (%d…%d).", c.Clusters, c.PerCluster, c.Radius, c.Scale, c.Augment, c.Subset,
		c.Widths, c.Depths, c.DepthWidth, c.Activation, c.Temperature, c.LR, c.LRWidth, c.Steps, c.Every, c.CheckLR,
		c.Seeds, c.FirstSeed, c.FirstSeed+uint64(c.Seeds)-1)
	res.Seconds = seconds
	return res, writeSummary(res, cm, res.Numbers)
}

// storedSeconds is the wall time of the run whose files are in dir: its summary.json's, else the header of an
// older summary.md.
func storedSeconds(dir string) float64 {
	if s, err := readSummary(dir); err == nil {
		return s.Seconds
	}
	return storedWallTime(filepath.Join(dir, "summary.md"))
}

// ntkPoints are the kernel points: the first Subset points of each cluster (x [p, 2], labels) and one fixed draw of
// two views of them (views [2p, 2], vlabels), on which the 6(c) step is taken.
type ntkPoints struct {
	x, views        []float64
	labels, vlabels []int
}

func newNTKPoints(d datasets.Points, per int, noise float64, seed uint64) ntkPoints {
	x, y := subset(d, per)
	pts := ntkPoints{x: x, labels: y, vlabels: append(slices.Clone(y), y...)}
	rng := newRNG(seed)
	for range 2 { // x plus Gaussian noise of the augmentation's std
		for _, v := range x {
			pts.views = append(pts.views, v+noise*rng.NormFloat64())
		}
	}
	return pts
}

// runNTKCell trains cl from each seed on loss and measures its kernels; with full, also the locality of the first
// and last kernel and the 6(c) velocities (on NT-Xent, whatever loss trains).
func runNTKCell(b compute.Backend, c NTKConfig, d datasets.Points, spec augment.VectorSpec, pts ntkPoints, cl ntkCell,
	loss losses.Config, full bool) ([]ntkSeed, error) {
	a := arch.MLP{In: 2, Width: cl.width, Depth: cl.depth, Out: 2, Activation: c.Activation, Scaling: cl.scaling, Trainable: arch.TrainBoth}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	at := a
	at.Normalize = true // T = g/‖g‖: its kernel moves the points the loss sees (6(c))
	ntXent := losses.Config{Kernel: losses.KernelExp, Temperature: c.Temperature}
	gg, gt := newMLPGraphs(b, a, loss), newMLPGraphs(b, at, ntXent)
	var out []ntkSeed
	for seed := c.FirstSeed; seed < c.FirstSeed+uint64(c.Seeds); seed++ {
		var r ntkSeed
		var theta0, last []float64
		var params [2][][]float64
		var kerr error // observe cannot return an error: the first one is kept here
		rc := runCfg{steps: c.Steps, logEvery: c.Every, loss: loss, seed: seed, labels: d.Labels, classes: d.K, k: 2, sphere: true}
		rc.observe = func(t int, pv [][]float64) {
			th, err := kernel(gg, pv, pts.x, len(pts.labels))
			if err != nil {
				kerr = cmp.Or(kerr, err)
				return
			}
			if theta0 == nil {
				theta0, params[0] = th, pv
			}
			dr, al := scaleFreeDrift(th, theta0)
			r.steps, r.drift, r.align, r.norm = append(r.steps, t), append(r.drift, dr), append(r.align, al), append(r.norm, frob(th))
			last, params[1] = th, pv
		}
		tr := mlpTrainee("ntk", a, d.X, d.N, spec, optim.Optimizer{Name: optim.SGD, LR: cl.lr})
		traj, err := run(b, tr, rc)
		if err = cmp.Or(err, kerr); err != nil {
			return nil, err
		}
		if len(traj.rows) != len(r.steps) {
			return nil, fmt.Errorf("%d kernels for %d logged steps", len(r.steps), len(traj.rows))
		}
		for _, g := range traj.rows {
			r.outNorm = append(r.outNorm, g.OutNorm)
		}
		if !full {
			out = append(out, r)
			continue
		}
		r.loc = [2]locality{kernelLocality(theta0, pts.labels, 2), kernelLocality(last, pts.labels, 2)}
		for i, pv := range params {
			if r.vel[i], err = measureVelocities(gt, pv, pts, c.CheckLR, d.K); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// ntkVel compares the cluster-mean velocities of one SGD step (per unit learning rate): measured and predicted
// (clusterVelocities, in predNames order), [C·k] each; and for every pair c < d the rate of change of the distance
// ‖m_c − m_d‖ of the cluster means (< 0: the clusters attract, > 0: they repel).
type ntkVel struct {
	meas, sepMeas []float64
	pred, sepPred [4][]float64
}

// measureVelocities takes one SGD step of size lr on the NT-Xent loss of the views (oneStep) with g's output.
func measureVelocities(g *mlpGraphs, params [][]float64, pts ntkPoints, lr float64, classes int) (ntkVel, error) {
	const k = 2
	z, z1, dz, theta, err := oneStep(g, params, pts.views, len(pts.vlabels), lr)
	if err != nil {
		return ntkVel{}, err
	}
	var v ntkVel
	v.pred = clusterVelocities(theta, dz, pts.vlabels, classes, k)
	m0, m1 := labelMeans(z, pts.vlabels, classes, k), labelMeans(z1, pts.vlabels, classes, k)
	for i := range m0 {
		v.meas = append(v.meas, (m1[i]-m0[i])/lr)
	}
	for c := range classes {
		for e := c + 1; e < classes; e++ {
			diff := []float64{m0[c*k] - m0[e*k], m0[c*k+1] - m0[e*k+1]}
			dist := math.Hypot(diff[0], diff[1])
			sep := func(u []float64) float64 { return (diff[0]*(u[c*k]-u[e*k]) + diff[1]*(u[c*k+1]-u[e*k+1])) / dist }
			v.sepMeas = append(v.sepMeas, (math.Hypot(m1[c*k]-m1[e*k], m1[c*k+1]-m1[e*k+1])-dist)/lr)
			for i, u := range v.pred {
				v.sepPred[i] = append(v.sepPred[i], sep(u))
			}
		}
	}
	return v, nil
}

// labelMeans returns the mean [C·k] of the rows of z [n, k] in each cluster.
func labelMeans(z []float64, labels []int, classes, k int) []float64 {
	m, cnt := make([]float64, classes*k), make([]float64, classes)
	for a, c := range labels {
		cnt[c]++
		for i := range k {
			m[c*k+i] += z[a*k+i]
		}
	}
	for i := range m {
		m[i] /= cnt[i/k]
	}
	return m
}

// subset returns the first per points of each cluster of d (rows and labels).
func subset(d datasets.Points, per int) ([]float64, []int) {
	cnt := make([]int, d.K)
	var x []float64
	var y []int
	for i := range d.N {
		if c := d.Labels[i]; cnt[c] < per {
			cnt[c]++
			x = append(x, d.Row(i)...)
			y = append(y, c)
		}
	}
	return x, y
}

// newRNG returns a host generator for the experiments' own draws.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xe4b)) }
