package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/gosimclr/gosimclr/arch"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The ntk experiment's tables, numbers, verdict and figures (and the parts mean-field shares).

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

// meanPM records the mean (name/mean) and sample std (name/sd) of xs and returns "mean ± std", or the single
// value with n = 1 (no std from one seed).
func meanPM(v vals, name string, xs []float64) string {
	m, s := meanStd(xs)
	if len(xs) < 2 {
		return v.num(name+"/mean", m, "%.4g") + " (n = 1)"
	}
	return v.num(name+"/mean", m, "%.4g") + " ± " + v.num(name+"/sd", s, "%.2g")
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
func ntkNumbers(v vals, c NTKConfig, cells []ntkCell, runs map[ntkCell][]ntkSeed, p int) (body, verdict string) {
	lo, hi := c.Widths[0], c.Widths[len(c.Widths)-1]
	rows, slopes := driftRows(v, c, runs)
	body = fmt.Sprintf("Kernels on %d points (%d per cluster), k = 2; n = %d seeds per row (mean ± sample std). "+
		"Θ is the NTK of the unnormalised output g; D = ‖Θ_t/‖Θ_t‖ − Θ_0/‖Θ_0‖‖_F ∈ [0, 2] and A = ⟨Θ_t, Θ_0⟩/(‖Θ_t‖‖Θ_0‖) ignore "+
		"the kernel's scale (D² = 2 − 2A); the scale itself is ‖Θ_t‖/‖Θ_0‖, beside the mean ‖g‖ over the data. The last column is "+
		"the scale-sensitive drift ‖Θ_t − Θ_0‖/‖Θ_0‖ that the previous version reported.\n\n"+
		"### 1–2. Scale-free drift after %d steps against width, 1/√m (ntk) and 1/m (mean-field)\n\n", p, c.Subset, c.Seeds, c.Steps) +
		markdown(driftHeader, rows) +
		fmt.Sprintf("\nLog-log slope of D from m = %d to m = %d (means): ntk %s, mean-field %s; lazy-training theory "+
			"bounds the change of the kernel by O(1/√m) under the ntk scaling (slope ≤ −0.5; Lee et al. 2019). NT-Xent normalises z, so the loss depends on θ only through g/‖g‖, and g of the "+
			"1/m net is that of the 1/√m net divided by √m: with the same parameters the two scalings have the same loss and "+
			"gradients (TestScalingsSameLoss). The mean-field rows therefore differ from the ntk rows only by the learning-rate "+
			"rule (ours): lr = η·m/%d, mean-field's time rescaling by m: the 1/m net at lr η·m/m₀ is the 1/√m net at that lr.\n",
			lo, hi, v.num("slope/ntk", slopes[arch.ScalingNTK], "%.2f"), v.num("slope/mean-field", slopes[arch.ScalingMeanField], "%.2f"), c.LRWidth)
	body += ntkLocalityNumbers(v, c, runs, p)
	vel, verd6 := ntkVelocityNumbers(v, c, cells, runs)
	body += vel
	dNTK, _ := meanStd(lastOf(runs[c.cell(arch.ScalingNTK, 1, hi)], func(r ntkSeed) []float64 { return r.drift }))
	dMF, _ := meanStd(lastOf(runs[c.cell(arch.ScalingMeanField, 1, hi)], func(r ntkSeed) []float64 { return r.drift }))
	verdict = fmt.Sprintf("(1–2) The scale-free drift of the NTK %s with width under 1/√m scaling at a fixed lr (least-squares "+
		"slope of log D on log m %s; theory: ≤ −0.5) and %s under 1/m with lr ∝ m (%s); at m = %d it is %s vs %s (n = %d seeds). ",
		slopeTrend(slopes, arch.ScalingNTK), slopeText(v, arch.ScalingNTK), slopeTrend(slopes, arch.ScalingMeanField),
		slopeText(v, arch.ScalingMeanField), hi, v.num(fmt.Sprintf("drift/ntk-m%d/mean3", hi), dNTK, "%.3g"),
		v.num(fmt.Sprintf("drift/mean-field-m%d/mean3", hi), dMF, "%.3g"), c.Seeds) + ntkLocalityVerdict(v, c, runs) + " " + verd6 +
		" What this does not show: limits beyond the widths and depths measured, one data draw, one learning rate per scaling."
	body += "\n### What this does not show\n\n" +
		"- Widths stop at " + fmt.Sprint(hi) + " and depths at " + fmt.Sprint(c.Depths[len(c.Depths)-1]) + "; the slopes (two-point, and by least squares with a 95% t interval over every run) " +
		"span one decade or less of width: they are not limits.\n" +
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
func driftRows(v vals, c NTKConfig, runs map[ntkCell][]ntkSeed) ([][]string, map[string]float64) {
	lo, hi := c.Widths[0], c.Widths[len(c.Widths)-1]
	var rows [][]string
	slopes := map[string]float64{}
	for _, s := range []string{arch.ScalingNTK, arch.ScalingMeanField} { // least squares over every run: log D on log m
		var x, y []float64
		for _, m := range c.Widths {
			for _, d := range lastOf(runs[c.cell(s, 1, m)], func(r ntkSeed) []float64 { return r.drift }) {
				x, y = append(x, math.Log(float64(m))), append(y, math.Log(d))
			}
		}
		b, bl, bh := olsSlope(x, y)
		v.num("slope_ols/"+s, b, "%.2f")
		v.num("slope_ols/"+s+"/lo", bl, "%.2f")
		v.num("slope_ols/"+s+"/hi", bh, "%.2f")
		v.count("slope_ols/"+s+"/runs", len(x))
		slopes["ols_lo/"+s], slopes["ols_hi/"+s] = bl, bh // slopeTrend words the interval
	}
	for _, s := range []string{arch.ScalingNTK, arch.ScalingMeanField} {
		for _, m := range c.Widths {
			rs := runs[c.cell(s, 1, m)]
			k := fmt.Sprintf("%s-m%d", s, m)
			rows = append(rows, []string{s, fmt.Sprint(m), fmt.Sprintf("%.4g", c.cell(s, 1, m).lr),
				meanPM(v, "drift/"+k, lastOf(rs, func(r ntkSeed) []float64 { return r.drift })),
				meanPM(v, "align/"+k, lastOf(rs, func(r ntkSeed) []float64 { return r.align })),
				meanPM(v, "norm_ratio/"+k, perSeed(rs, func(r ntkSeed) float64 { return r.norm[len(r.norm)-1] / r.norm[0] })),
				meanPM(v, "out_norm0/"+k, perSeed(rs, func(r ntkSeed) float64 { return r.outNorm[0] })),
				meanPM(v, "out_norm/"+k, lastOf(rs, func(r ntkSeed) []float64 { return r.outNorm })),
				meanPM(v, "rel_drift/"+k, perSeed(rs, relDrift))})
		}
		a, _ := meanStd(lastOf(runs[c.cell(s, 1, lo)], func(r ntkSeed) []float64 { return r.drift }))
		b, _ := meanStd(lastOf(runs[c.cell(s, 1, hi)], func(r ntkSeed) []float64 { return r.drift }))
		slopes[s] = math.Log(b/a) / math.Log(float64(hi)/float64(lo))
	}
	return rows, slopes
}

// ntkLocalityNumbers is the table of kernel locality against depth.
func ntkLocalityNumbers(v vals, c NTKConfig, runs map[ntkCell][]ntkSeed, p int) string {
	var rows [][]string
	for _, l := range c.Depths {
		rs := runs[c.cell(arch.ScalingNTK, l, c.DepthWidth)]
		row := []string{fmt.Sprint(l)}
		for fi, f := range []func(locality) float64{
			func(x locality) float64 { return x.Within }, func(x locality) float64 { return x.Self }, func(x locality) float64 { return x.Ratio }} {
			for w := range 2 {
				name := fmt.Sprintf("locality/L%d/%s/%s", l, []string{"within", "self", "ratio"}[fi], []string{"init", "final"}[w])
				row = append(row, meanPM(v, name, perSeed(rs, func(r ntkSeed) float64 { return f(r.loc[w]) })))
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

func ntkLocalityVerdict(v vals, c NTKConfig, runs map[ntkCell][]ntkSeed) string {
	l0, l1 := c.Depths[0], c.Depths[len(c.Depths)-1]
	get := func(l, w int, f func(locality) float64) float64 {
		m, _ := meanStd(perSeed(runs[c.cell(arch.ScalingNTK, l, c.DepthWidth)], func(r ntkSeed) float64 { return f(r.loc[w]) }))
		return m
	}
	within := func(x locality) float64 { return x.Within }
	self := func(x locality) float64 { return x.Self }
	grows := get(l1, 1, within) > get(l0, 1, within) && get(l1, 1, self) > get(l0, 1, self)
	ref := func(l, w int, f func(locality) float64, what string) string {
		return v.num(fmt.Sprintf("locality/L%d/%s/%s/mean3", l, what, []string{"init", "final"}[w]), get(l, w, f), "%.3f")
	}
	return fmt.Sprintf("(3) From L = %d to L = %d the kernel's within-cluster share goes %s → %s at init and %s → %s after "+
		"training, its self share %s → %s and %s → %s (n = %d): locality %s with depth, so \"deep nets behave like particle "+
		"descent\" is %s by the kernel.", l0, l1, ref(l0, 0, within, "within"), ref(l1, 0, within, "within"), ref(l0, 1, within, "within"),
		ref(l1, 1, within, "within"), ref(l0, 0, self, "self"), ref(l1, 0, self, "self"), ref(l0, 1, self, "self"), ref(l1, 1, self, "self"), c.Seeds,
		map[bool]string{true: "grows", false: "does not grow (on both measures)"}[grows], map[bool]string{true: "supported", false: "not supported"}[grows])
}

// ntkVelocityNumbers is the 6(c) table: the predictions of the cluster-mean velocities (clusterVelocities)
// against the measured ones, per cell and time, pooled over seeds.
func ntkVelocityNumbers(v vals, c NTKConfig, cells []ntkCell, runs map[ntkCell][]ntkSeed) (string, string) {
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
				vl := r.vel[w]
				meas = append(meas, vl.meas...)
				for i := range 4 {
					pred[i] = append(pred[i], vl.pred[i]...)
					ag[i] += signAgree(vl.sepPred[i], vl.sepMeas)
					if i < 3 {
						errs[i] = append(errs[i], relErr(vl.pred[i], vl.meas))
					}
				}
				np += len(vl.sepMeas)
			}
			k := fmt.Sprintf("velocity/%s-L%d-m%d/%s", cl.scaling, cl.depth, cl.width, when)
			row := []string{cl.scaling, fmt.Sprint(cl.depth), fmt.Sprint(cl.width), when}
			for i := 1; i < 4; i++ {
				r := pearson(pred[i], meas)
				corrs[i] = append(corrs[i], r)
				row = append(row, v.num(k+"/r_"+predNames[i], r, "%.3f"))
			}
			row = append(row, meanPM(v, k+"/error_block", errs[1]), meanPM(v, k+"/error_own", errs[2]), meanPM(v, k+"/error_full", errs[0]))
			for _, i := range []int{1, 2, 3, 0} {
				agree[i] += ag[i]
				row = append(row, v.count(k+"/signs_"+predNames[i], ag[i])+"/"+v.count(k+"/pairs", np))
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
	verdict := fmt.Sprintf("(6c) Over %s pair-steps (all cells, init and final, %d seeds), the block matrix predicts which cluster "+
		"pairs attract or repel in %s (own blocks only: %s; particles: %s; full kernel: %s), and its cluster velocities correlate "+
		"with the measured ones at median r = %s over %s cell-times (own: %s, particles: %s).",
		v.count("velocity/pairs", pairs), c.Seeds, v.count("velocity/signs_block", agree[1]), v.count("velocity/signs_own", agree[2]),
		v.count("velocity/signs_particle", agree[3]), v.count("velocity/signs_full", agree[0]), v.num("velocity/median_r_block", med(corrs[1]), "%.3f"),
		v.count("velocity/cell_times", len(corrs[1])), v.num("velocity/median_r_own", med(corrs[2]), "%.3f"), v.num("velocity/median_r_particle", med(corrs[3]), "%.3f"))
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

// slopeText is a scaling's least-squares slope of log D on log m with its 95% interval and n, as driftRows recorded it.
func slopeText(v vals, s string) string {
	for _, n := range []string{"", "/lo", "/hi", "/runs"} {
		if _, ok := v["slope_ols/"+s+n]; !ok {
			panic("experiments: slopeText before driftRows recorded slope_ols/" + s + n)
		}
	}
	return fmt.Sprintf("%s [%s, %s], n = %s runs", valueRef("slope_ols/"+s), valueRef("slope_ols/"+s+"/lo"), valueRef("slope_ols/"+s+"/hi"),
		valueRef("slope_ols/"+s+"/runs"))
}

// slopeTrend words the least-squares slope: falls or rises where its 95% interval excludes 0.
func slopeTrend(slopes map[string]float64, s string) string {
	switch {
	case slopes["ols_hi/"+s] < 0:
		return "falls"
	case slopes["ols_lo/"+s] > 0:
		return "rises"
	}
	return "shows no resolved trend"
}
