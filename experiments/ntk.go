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
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

// RunNTK runs the experiment and writes its files.
func RunNTK(c NTKConfig, cm Common) (*Result, error) {
	start := time.Now()
	dir, spec, d, b, err := setupPoints("ntk", cm, c, c.Augment, c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed)
	if err != nil {
		return nil, err
	}
	if len(c.Widths) == 0 || len(c.Depths) == 0 || c.Seeds < 1 || c.Every < 1 || c.LRWidth < 1 {
		return nil, fmt.Errorf("experiments: ntk: --widths and --depths must be non-empty and --seeds, --every, --lr-width ≥ 1")
	}
	pts := newNTKPoints(d, c.Subset, spec.NoiseStd, c.FirstSeed)
	runs := map[ntkCell][]ntkSeed{}
	cells := c.cells()
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
	res := &Result{Name: "ntk", Dir: dir, Title: "Empirical neural tangent kernel: scale-free drift, 1/√m vs 1/m, locality against depth, prediction 6(c)",
		Figures: []string{"drift_vs_step.png", "drift_vs_width.png", "locality_vs_depth.png", "velocity_6c.png"}}
	if err := ntkFigures(dir, c, runs); err != nil {
		return nil, err
	}
	res.Numbers, res.Verdict = ntkNumbers(c, cells, runs, len(pts.labels))
	res.Ours = fmt.Sprintf("Data (%d Gaussian clusters × %d points, std %g, centres on a circle of radius %g), augmentation %q, "+
		"kernel points (%d per cluster, the first of each cluster), widths %v (one hidden layer), depths %v at width %d, %s "+
		"activation, NTK hidden multipliers, unnormalised output g (NT-Xent normalises it), τ = %g, full-batch SGD with η = %g "+
		"for the ntk scaling and η·m/%d for mean-field (the rule too), %d steps, kernel every %d steps, the 6(c) step %g on one fixed draw of "+
		"views of the kernel points, %d seeds (%d…%d).", c.Clusters, c.PerCluster, c.Radius, c.Scale, c.Augment, c.Subset,
		c.Widths, c.Depths, c.DepthWidth, c.Activation, c.Temperature, c.LR, c.LRWidth, c.Steps, c.Every, c.CheckLR,
		c.Seeds, c.FirstSeed, c.FirstSeed+uint64(c.Seeds)-1)
	res.Seconds = time.Since(start).Seconds()
	return res, writeSummary(res, cm, res.Numbers)
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

// writeNTKTables writes drift.csv (per logged step), locality.csv, velocity.csv and pairs.csv (6(c)).
func writeNTKTables(dir string, c NTKConfig, cells []ntkCell, runs map[ntkCell][]ntkSeed) error {
	drift := driftTable(c, cells, runs)
	loc := newTable("scaling", "depth", "width", "seed", "when", "within", "self", "ratio")
	vel := newTable("scaling", "depth", "width", "seed", "when", "cluster", "coord", "measured", "full", "block", "own", "particle")
	pairs := newTable("scaling", "depth", "width", "seed", "when", "pair", "measured", "full", "block", "own", "particle")
	for _, cl := range cells {
		for i, r := range runs[cl] {
			seed := int(c.FirstSeed) + i
			for w, when := range []string{"init", "final"} {
				loc.add(cl.scaling, cl.depth, cl.width, seed, when, r.loc[w].Within, r.loc[w].Self, r.loc[w].Ratio)
				v := r.vel[w]
				for q := range v.meas {
					vel.add(cl.scaling, cl.depth, cl.width, seed, when, q/2, q%2, v.meas[q], v.pred[0][q], v.pred[1][q], v.pred[2][q], v.pred[3][q])
				}
				for q := range v.sepMeas {
					pairs.add(cl.scaling, cl.depth, cl.width, seed, when, q, v.sepMeas[q], v.sepPred[0][q], v.sepPred[1][q], v.sepPred[2][q], v.sepPred[3][q])
				}
			}
		}
	}
	for name, t := range map[string]*table{"drift.csv": drift, "locality.csv": loc, "velocity.csv": vel, "pairs.csv": pairs} {
		if err := t.write(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// driftTable is drift.csv: per cell, seed and logged step the kernel's scale, the output norm and the scale-free
// drift and alignment.
func driftTable(c NTKConfig, cells []ntkCell, runs map[ntkCell][]ntkSeed) *table {
	drift := newTable("scaling", "depth", "width", "lr", "seed", "step", "theta_norm", "out_norm", "scale_free_drift", "alignment")
	for _, cl := range cells {
		for i, r := range runs[cl] {
			for j, t := range r.steps {
				drift.add(cl.scaling, cl.depth, cl.width, cl.lr, int(c.FirstSeed)+i, t, r.norm[j], r.outNorm[j], r.drift[j], r.align[j])
			}
		}
	}
	return drift
}

// lastOf returns f of each seed's last logged step.
func lastOf(rs []ntkSeed, f func(ntkSeed) []float64) []float64 {
	var xs []float64
	for _, r := range rs {
		v := f(r)
		xs = append(xs, v[len(v)-1])
	}
	return xs
}

// perSeed returns f of each seed.
func perSeed[T any](rs []ntkSeed, f func(ntkSeed) T) []T {
	var xs []T
	for _, r := range rs {
		xs = append(xs, f(r))
	}
	return xs
}

// meanPM formats the mean ± sample std of xs, or the single value with n = 1 (no std from one seed).
func meanPM(xs []float64) string {
	m, s := meanStd(xs)
	if len(xs) < 2 {
		return fmt.Sprintf("%.4g (n = 1)", m)
	}
	return fmt.Sprintf("%.4g ± %.2g", m, s)
}

// relDrift is ‖Θ_t − Θ_0‖_F/‖Θ_0‖_F from the norms and the alignment: √(ρ² + 1 − 2ρA), ρ = ‖Θ_t‖/‖Θ_0‖.
func relDrift(r ntkSeed) float64 {
	n := len(r.norm) - 1
	rho := r.norm[n] / r.norm[0]
	return math.Sqrt(max(0, rho*rho+1-2*rho*r.align[n]))
}

// pearson returns the correlation of x and y.
func pearson(x, y []float64) float64 {
	mx, _ := meanStd(x)
	my, _ := meanStd(y)
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

// signAgree counts the pairs whose predicted and measured separation rates have the same sign.
func signAgree(pred, meas []float64) int {
	n := 0
	for i := range pred {
		if (pred[i] < 0) == (meas[i] < 0) {
			n++
		}
	}
	return n
}

// relErr is ‖x − y‖/‖y‖.
func relErr(x, y []float64) float64 {
	d := make([]float64, len(x))
	for i := range x {
		d[i] = x[i] - y[i]
	}
	return frob(d) / frob(y)
}

// cell returns the cell of the sweeps with this scaling, depth and width.
func (c NTKConfig) cell(s string, depth, width int) ntkCell {
	for _, cl := range c.cells() {
		if cl.scaling == s && cl.depth == depth && cl.width == width {
			return cl
		}
	}
	panic(fmt.Sprintf("experiments: ntk has no cell %s L=%d m=%d", s, depth, width))
}

// ntkNumbers returns the summary's tables and the verdict.
func ntkNumbers(c NTKConfig, cells []ntkCell, runs map[ntkCell][]ntkSeed, p int) (body, verdict string) {
	lo, hi := c.Widths[0], c.Widths[len(c.Widths)-1]
	rows, slopes := driftRows(c, runs)
	body = fmt.Sprintf("Kernels on %d points (%d per cluster), k = 2; n = %d seeds per row (mean ± sample std). "+
		"Θ is the NTK of the unnormalised output g; D = ‖Θ_t/‖Θ_t‖ − Θ_0/‖Θ_0‖‖_F ∈ [0, 2] and A = ⟨Θ_t, Θ_0⟩/(‖Θ_t‖‖Θ_0‖) ignore "+
		"the kernel's scale (D² = 2 − 2A); the scale itself is ‖Θ_t‖/‖Θ_0‖, beside the mean ‖g‖ over the data. The last column is "+
		"the scale-sensitive drift ‖Θ_t − Θ_0‖/‖Θ_0‖ that the previous version reported.\n\n"+
		"### 1–2. Scale-free drift after %d steps against width, 1/√m (ntk) and 1/m (mean-field)\n\n", p, c.Subset, c.Seeds, c.Steps) +
		markdown(driftHeader, rows) +
		fmt.Sprintf("\nLog-log slope of D from m = %d to m = %d (means): ntk %.2f, mean-field %.2f; lazy-training theory "+
			"bounds the change of the kernel by O(1/√m) under the ntk scaling (slope ≤ −0.5; Lee et al. 2019). NT-Xent normalises z, so the loss depends on θ only through g/‖g‖, and g of the "+
			"1/m net is that of the 1/√m net divided by √m: with the same parameters the two scalings have the same loss and "+
			"gradients (TestScalingsSameLoss). The mean-field rows therefore differ from the ntk rows only by the learning-rate "+
			"rule (ours): lr = η·m/%d, mean-field's time rescaling by m: the 1/m net at lr η·m/m₀ is the 1/√m net at that lr.\n",
			lo, hi, slopes[arch.ScalingNTK], slopes[arch.ScalingMeanField], c.LRWidth)
	body += ntkLocalityNumbers(c, runs, p)
	v, verd6 := ntkVelocityNumbers(c, cells, runs)
	body += v
	dNTK, _ := meanStd(lastOf(runs[c.cell(arch.ScalingNTK, 1, hi)], func(r ntkSeed) []float64 { return r.drift }))
	dMF, _ := meanStd(lastOf(runs[c.cell(arch.ScalingMeanField, 1, hi)], func(r ntkSeed) []float64 { return r.drift }))
	trend := func(s string) string { return map[bool]string{true: "does not fall", false: "falls"}[slopes[s] >= 0] }
	verdict = fmt.Sprintf("(1–2) The scale-free drift of the NTK %s with width under 1/√m scaling at a fixed lr (slope %.2f; "+
		"theory: ≤ −0.5) and %s under 1/m with lr ∝ m (slope %.2f); at m = %d it is %.3g vs %.3g (n = %d seeds). ",
		trend(arch.ScalingNTK), slopes[arch.ScalingNTK], trend(arch.ScalingMeanField), slopes[arch.ScalingMeanField],
		hi, dNTK, dMF, c.Seeds) + ntkLocalityVerdict(c, runs) + " " + verd6
	body += "\n### What this does not show\n\n" +
		"- Widths stop at " + fmt.Sprint(hi) + " and depths at " + fmt.Sprint(c.Depths[len(c.Depths)-1]) + "; the slopes are two-point " +
		"estimates over one decade or less, not limits.\n" +
		"- The 1/m rows are not a mean-field limit under a loss that sees ‖g‖: with NT-Xent they are the ntk network at lr ∝ m " +
		"(the only difference the loss leaves). A loss on unnormalised latents (the Gaussian kernel) would be needed for that.\n" +
		"- The kernel is measured on " + fmt.Sprint(p) + " points of one data draw; the 6(c) step is on one fixed draw of views of them " +
		"and on their NT-Xent loss, not on the training batch; its lr is small so that the linearisation holds.\n" +
		"- Locality is measured, not its effect on cluster survival (depth-width measures survival).\n"
	return body, verdict
}

// driftHeader heads the rows of driftRows.
var driftHeader = []string{"scaling", "m", "lr", "D", "A", "‖Θ_t‖/‖Θ_0‖", "‖g‖ at init", "‖g‖ final", "‖Θ_t − Θ_0‖/‖Θ_0‖"}

// driftRows is the width sweep's table (one row per scaling and width, mean ± std over seeds of the last logged
// step) and each scaling's log-log slope of the mean scale-free drift D from the first to the last width.
func driftRows(c NTKConfig, runs map[ntkCell][]ntkSeed) ([][]string, map[string]float64) {
	lo, hi := c.Widths[0], c.Widths[len(c.Widths)-1]
	var rows [][]string
	slopes := map[string]float64{}
	for _, s := range []string{arch.ScalingNTK, arch.ScalingMeanField} {
		for _, m := range c.Widths {
			rs := runs[c.cell(s, 1, m)]
			rows = append(rows, []string{s, fmt.Sprint(m), fmt.Sprintf("%.4g", c.cell(s, 1, m).lr),
				meanPM(lastOf(rs, func(r ntkSeed) []float64 { return r.drift })), meanPM(lastOf(rs, func(r ntkSeed) []float64 { return r.align })),
				meanPM(perSeed(rs, func(r ntkSeed) float64 { return r.norm[len(r.norm)-1] / r.norm[0] })),
				meanPM(perSeed(rs, func(r ntkSeed) float64 { return r.outNorm[0] })), meanPM(lastOf(rs, func(r ntkSeed) []float64 { return r.outNorm })),
				meanPM(perSeed(rs, relDrift))})
		}
		a, _ := meanStd(lastOf(runs[c.cell(s, 1, lo)], func(r ntkSeed) []float64 { return r.drift }))
		b, _ := meanStd(lastOf(runs[c.cell(s, 1, hi)], func(r ntkSeed) []float64 { return r.drift }))
		slopes[s] = math.Log(b/a) / math.Log(float64(hi)/float64(lo))
	}
	return rows, slopes
}

// ntkLocalityNumbers is the table of kernel locality against depth.
func ntkLocalityNumbers(c NTKConfig, runs map[ntkCell][]ntkSeed, p int) string {
	var rows [][]string
	for _, l := range c.Depths {
		rs := runs[c.cell(arch.ScalingNTK, l, c.DepthWidth)]
		row := []string{fmt.Sprint(l)}
		for _, f := range []func(locality) float64{
			func(x locality) float64 { return x.Within }, func(x locality) float64 { return x.Self }, func(x locality) float64 { return x.Ratio }} {
			for w := range 2 {
				row = append(row, meanPM(perSeed(rs, func(r ntkSeed) float64 { return f(r.loc[w]) })))
			}
		}
		rows = append(rows, row)
	}
	return fmt.Sprintf("\n### 3. Kernel locality against depth (ntk scaling, m = %d, n = %d seeds)\n\n"+
		"Within = share of ‖Θ‖²_F in same-cluster blocks (a = b included), Self = share in the diagonal blocks Θ_aa, Ratio = mean "+
		"‖Θ_ab‖_F over same-cluster pairs a ≠ b / over different-cluster pairs. Particles (Θ = δ_ab I): Within = Self = 1; a "+
		"kernel constant over the points: Within = %.3g, Self = %.3g, Ratio = 1.\n\n", c.DepthWidth, c.Seeds, 1/float64(c.Clusters), 1/float64(p)) +
		markdown([]string{"L", "Within init", "Within final", "Self init", "Self final", "Ratio init", "Ratio final"}, rows)
}

func ntkLocalityVerdict(c NTKConfig, runs map[ntkCell][]ntkSeed) string {
	l0, l1 := c.Depths[0], c.Depths[len(c.Depths)-1]
	get := func(l, w int, f func(locality) float64) float64 {
		m, _ := meanStd(perSeed(runs[c.cell(arch.ScalingNTK, l, c.DepthWidth)], func(r ntkSeed) float64 { return f(r.loc[w]) }))
		return m
	}
	within := func(x locality) float64 { return x.Within }
	self := func(x locality) float64 { return x.Self }
	grows := get(l1, 1, within) > get(l0, 1, within) && get(l1, 1, self) > get(l0, 1, self)
	return fmt.Sprintf("(3) From L = %d to L = %d the kernel's within-cluster share goes %.3f → %.3f at init and %.3f → %.3f after "+
		"training, its self share %.3f → %.3f and %.3f → %.3f (n = %d): locality %s with depth, so \"deep nets behave like particle "+
		"descent\" is %s by the kernel.", l0, l1, get(l0, 0, within), get(l1, 0, within), get(l0, 1, within), get(l1, 1, within),
		get(l0, 0, self), get(l1, 0, self), get(l0, 1, self), get(l1, 1, self), c.Seeds,
		map[bool]string{true: "grows", false: "does not grow (on both measures)"}[grows], map[bool]string{true: "supported", false: "not supported"}[grows])
}

// ntkVelocityNumbers is the 6(c) table: the predictions of the cluster-mean velocities (clusterVelocities)
// against the measured ones, per cell and time, pooled over seeds.
func ntkVelocityNumbers(c NTKConfig, cells []ntkCell, runs map[ntkCell][]ntkSeed) (string, string) {
	var rows [][]string
	var agree [4]int
	var pairs int
	var corrs [4][]float64
	for _, cl := range cells {
		for w, when := range []string{"init", "final"} {
			var meas []float64
			var pred [4][]float64
			var errs [3][]float64
			var ag [4]int
			np := 0
			for _, r := range runs[cl] {
				v := r.vel[w]
				meas = append(meas, v.meas...)
				for i := range 4 {
					pred[i] = append(pred[i], v.pred[i]...)
					ag[i] += signAgree(v.sepPred[i], v.sepMeas)
					if i < 3 {
						errs[i] = append(errs[i], relErr(v.pred[i], v.meas))
					}
				}
				np += len(v.sepMeas)
			}
			row := []string{cl.scaling, fmt.Sprint(cl.depth), fmt.Sprint(cl.width), when}
			for i := 1; i < 4; i++ {
				r := pearson(pred[i], meas)
				corrs[i] = append(corrs[i], r)
				row = append(row, fmt.Sprintf("%.3f", r))
			}
			row = append(row, meanPM(errs[1]), meanPM(errs[2]), meanPM(errs[0]))
			for _, i := range []int{1, 2, 3, 0} {
				agree[i] += ag[i]
				row = append(row, fmt.Sprintf("%d/%d", ag[i], np))
			}
			pairs += np
			rows = append(rows, row)
		}
	}
	med := func(x []float64) float64 { x = slices.Clone(x); slices.Sort(x); return x[len(x)/2] }
	body := fmt.Sprintf("\n### 4. Prediction 6(c): cluster-mean velocities from the block matrix (n = %d seeds per row)\n\n"+
		"One SGD step of lr %g on the NT-Xent loss of fixed views of the kernel points, output T = g/‖g‖ (at init the 1/m and "+
		"1/√m nets have the same T, hence equal rows). Measured: the change of each cluster's mean latent / lr. Block (6(c)): "+
		"v_c = −Σ_d n_d B_cd Ḡ_d with B_cd the mean k×k block of Θ_T over c × d and Ḡ_d the mean loss gradient of cluster d. "+
		"Own: the same without the other clusters' pull (d = c only). Particle: −Ḡ_c (Θ = I). Full: the NTK linearisation with "+
		"all of Θ_T. r = correlation with the measured velocities over the C·k components of all seeds (particle and own "+
		"ignore the cross-cluster blocks: the margin of block over them is what the blocks add); errors ‖pred − meas‖/‖meas‖ "+
		"per seed; signs: cluster pairs whose distance is predicted to shrink (attract) or grow (repel) as measured.\n\n", c.Seeds, c.CheckLR) +
		markdown([]string{"scaling", "L", "m", "when", "r block", "r own", "r particle", "error block", "error own", "error full Θ",
			"signs block", "signs own", "signs particle", "signs full Θ"}, rows)
	verdict := fmt.Sprintf("(6c) Over %d pair-steps (all cells, init and final, %d seeds), the block matrix predicts which cluster "+
		"pairs attract or repel in %d (own blocks only: %d; particles: %d; full kernel: %d), and its cluster velocities correlate "+
		"with the measured ones at median r = %.3f over %d cell-times (own: %.3f, particles: %.3f).",
		pairs, c.Seeds, agree[1], agree[2], agree[3], agree[0], med(corrs[1]), len(corrs[1]), med(corrs[2]), med(corrs[3]))
	return body, verdict
}

// meanCurve returns the mean over seeds of f at each logged step (the seeds share their steps).
func meanCurve(rs []ntkSeed, f func(r ntkSeed, i int) float64) (x, y []float64) {
	for i, t := range rs[0].steps {
		var s float64
		for _, r := range rs {
			s += f(r, i)
		}
		x, y = append(x, float64(t)), append(y, s/float64(len(rs)))
	}
	return x, y
}

// ntkFigures draws one figure per question: drift over training, drift against width, locality against depth, 6(c).
func ntkFigures(dir string, c NTKConfig, runs map[ntkCell][]ntkSeed) error {
	var left, right []curve
	for i, m := range c.Widths {
		rs := runs[c.cell(arch.ScalingNTK, 1, m)]
		x, y := meanCurve(rs, func(r ntkSeed, j int) float64 { return r.drift[j] })
		left = append(left, curve{Name: fmt.Sprintf("m = %d", m), X: x, Y: y, Color: i, Dots: true})
		x, y = meanCurve(rs, func(r ntkSeed, j int) float64 { return r.norm[j] / r.norm[0] })
		right = append(right, curve{Name: fmt.Sprintf("|Θ_t|/|Θ_0|, m = %d", m), X: x, Y: y, Color: i})
		x, y = meanCurve(rs, func(r ntkSeed, j int) float64 { return math.Pow(r.outNorm[j]/r.outNorm[0], 2) })
		right = append(right, curve{Name: fmt.Sprintf("(|g_t|/|g_0|)², m = %d", m), X: x, Y: y, Color: i, Dashed: true})
	}
	title := fmt.Sprintf("ntk scaling, L = 1, mean of %d seeds", c.Seeds)
	pl, err := lineChart("scale-free drift D_t ("+title+")", "SGD step", "|Θ_t/|Θ_t| − Θ_0/|Θ_0||_F", left, false)
	if err != nil {
		return err
	}
	pr, err := lineChart("kernel scale and output norm ("+title+")", "SGD step", "ratio to step 0", right, false)
	if err != nil {
		return err
	}
	if err := saveGrid([][]*plot.Plot{{pl, pr}}, filepath.Join(dir, "drift_vs_step.png"), 16, 11); err != nil {
		return err
	}
	if err := driftWidthFigure(dir, c, runs, ""); err != nil {
		return err
	}
	p, err := lineChart(fmt.Sprintf("NTK locality against depth (m = %d, mean ± std, %d seeds; particles: 1)", c.DepthWidth, c.Seeds),
		"hidden layers L", "share of |Θ|²_F", localityCurves(c, runs), false)
	if err != nil {
		return err
	}
	if err := savePlot(p, filepath.Join(dir, "locality_vs_depth.png"), 16, 11); err != nil {
		return err
	}
	return velocityFigure(dir, c, runs)
}

// driftWidthFigure is drift_vs_width.png: the scale-free drift after training against width, both scalings, with
// the lazy-training slope for reference; note is added to its title.
func driftWidthFigure(dir string, c NTKConfig, runs map[ntkCell][]ntkSeed, note string) error {
	var cs []curve
	for i, s := range []string{arch.ScalingNTK, arch.ScalingMeanField} {
		cv := curve{Name: map[string]string{arch.ScalingNTK: "1/√m, lr η", arch.ScalingMeanField: fmt.Sprintf("1/m, lr η·m/%d", c.LRWidth)}[s], Color: i, Dashed: i > 0}
		for _, m := range c.Widths {
			mean, std := meanStd(lastOf(runs[c.cell(s, 1, m)], func(r ntkSeed) []float64 { return r.drift }))
			cv.X, cv.Y, cv.Err = append(cv.X, float64(m)), append(cv.Y, mean), append(cv.Err, std)
		}
		cs = append(cs, cv)
	}
	ref := curve{Name: "∝ 1/√m (lazy theory)", Color: 7, Dashed: true}
	for _, m := range c.Widths {
		ref.X, ref.Y = append(ref.X, float64(m)), append(ref.Y, cs[0].Y[0]*math.Sqrt(float64(c.Widths[0])/float64(m)))
	}
	p, err := lineChart(fmt.Sprintf("scale-free NTK drift after %d steps (mean ± std, %d seeds)%s", c.Steps, c.Seeds, note),
		"hidden width m (log scale)", "D (log scale)", append(cs, ref), len(c.Widths) > 1)
	if err != nil {
		return err
	}
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	return savePlot(p, filepath.Join(dir, "drift_vs_width.png"), 16, 11)
}

// localityCurves returns the within-cluster and self shares against depth, at init (dashed) and after training
// (solid); where the two differ by less than 0.01 at every depth only one curve is drawn, named so, since the
// other would hide under it.
func localityCurves(c NTKConfig, runs map[ntkCell][]ntkSeed) []curve {
	var cs []curve
	for i, f := range []func(locality) float64{func(x locality) float64 { return x.Within }, func(x locality) float64 { return x.Self }} {
		var pair [2]curve
		var gap float64
		for w, when := range []string{"init", "final"} {
			pair[w] = curve{Name: []string{"within-cluster share", "self share"}[i] + ", " + when, Color: i, Dashed: w == 0}
			for j, l := range c.Depths {
				mean, std := meanStd(perSeed(runs[c.cell(arch.ScalingNTK, l, c.DepthWidth)], func(r ntkSeed) float64 { return f(r.loc[w]) }))
				pair[w].X, pair[w].Y, pair[w].Err = append(pair[w].X, float64(l)), append(pair[w].Y, mean), append(pair[w].Err, std)
				if w == 1 {
					gap = max(gap, math.Abs(mean-pair[0].Y[j]))
				}
			}
		}
		if gap < 0.01 {
			pair[1].Name = fmt.Sprintf("%s, init = final within %.3f", []string{"within-cluster share", "self share"}[i], gap)
			cs = append(cs, pair[1])
			continue
		}
		cs = append(cs, pair[0], pair[1])
	}
	return cs
}

// velocityFigure scatters the predicted against the measured cluster-mean velocity components (6(c)), each
// seed-time scaled by ‖measured‖ so that cells of different speeds share the axes.
func velocityFigure(dir string, c NTKConfig, runs map[ntkCell][]ntkSeed) error {
	p := newPlot(fmt.Sprintf("6(c): cluster-mean velocities, all cells, %d seeds, init and final", c.Seeds),
		"measured v_c / |v_meas|", "predicted v_c / |v_meas|")
	var xy [2]plotter.XYs
	for _, cl := range c.cells() {
		for _, r := range runs[cl] {
			for _, v := range r.vel {
				n := frob(v.meas)
				for q := range v.meas {
					xy[0] = append(xy[0], plotter.XY{X: v.meas[q] / n, Y: v.pred[1][q] / n})
					xy[1] = append(xy[1], plotter.XY{X: v.meas[q] / n, Y: v.pred[0][q] / n})
				}
			}
		}
	}
	l, err := plotter.NewLine(plotter.XYs{{X: -1, Y: -1}, {X: 1, Y: 1}})
	if err != nil {
		return err
	}
	l.Color = colorOf(7)
	p.Add(l)
	p.Legend.Add("predicted = measured", l)
	for i, name := range []string{"block matrix (6(c))", "full kernel Θ"} {
		s, err := plotter.NewScatter(xy[i])
		if err != nil {
			return err
		}
		s.Color, s.Radius, s.Shape = colorOf(i), vg.Points(2.5-float64(i)), draw.CircleGlyph{}
		p.Add(s)
		p.Legend.Add(name, s)
	}
	return savePlot(p, filepath.Join(dir, "velocity_6c.png"), 14, 13)
}
