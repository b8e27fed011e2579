package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/internal/survival"
	"gonum.org/v1/plot"
)

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
			os, ns := persistenceOf(tj.steps, ss, thr, c.window(m), last)
			op, np := persistenceOf(tj.steps, ps, probeThreshold, c.window(m), last)
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
	seedPos, seedNeg int // seeds whose mean difference over the levels is positive / negative
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
func gapComparison(v vals, methods []method, runs map[string][]pvnRun, lmin float64) ([]gapCmp, [][]string) {
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
	levels[gapLevels-1] = lo // exactly: the run that bottoms out there must reach it
	var rows [][]string
	for li, g := range levels {
		row := []string{v.num(fmt.Sprintf("equal_gap/level%d", li), g, "%.3g")}
		for mi, m := range methods {
			var xs []float64
			for _, r := range runs[m.name] {
				xs = append(xs, silAtGap(r, g, lmin))
			}
			row = append(row, rangeVals(v, fmt.Sprintf("equal_gap/level%d/m%d", li, mi), xs, "%.3f"))
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
			var seedSum float64
			var seedN int
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
				seedSum, seedN = seedSum+d, seedN+1
			}
			switch {
			case seedN > 0 && seedSum > 0:
				gc.seedPos++
			case seedN > 0 && seedSum < 0:
				gc.seedNeg++
			}
		}
		gc.mean /= float64(gc.total)
		out = append(out, gc)
	}
	return out, rows
}

// pvnNumbers is the summary's tables: persistence under both statistics, the end of the runs, and the
// silhouette at equal loss gap.
func pvnNumbers(v vals, c ParticleVsNetworkConfig, methods []method, sil, probe map[string]*persistGroup, thr, kpoint float64,
	gapRows [][]string, runs map[string][]pvnRun, lmin float64) string {
	var b strings.Builder
	b.WriteString(kmLegend("silhouette", thr, c.Window, c.LogEvery, c.Steps))
	var rs, rp, fin [][]string
	for mi, m := range methods {
		k := fmt.Sprintf("m%d", mi)
		rs, rp = append(rs, kmRow(v, "sil/"+k, m.name, *sil[m.name])), append(rp, kmRow(v, "probe/"+k, m.name, *probe[m.name]))
		var gap, s, p, on []float64
		for _, r := range runs[m.name] {
			g := r.tj.rows[len(r.tj.rows)-1]
			gap, s, p, on = append(gap, g.Loss-lmin), append(s, g.Silhouette), append(p, g.Probe), append(on, g.OutNorm)
		}
		fin = append(fin, []string{m.name, v.count("last/"+k+"/n", len(gap)), rangeVals(v, "last/"+k+"/loss_gap", gap, "%.3g"),
			rangeVals(v, "last/"+k+"/silhouette", s, "%.3f"), rangeVals(v, "last/"+k+"/probe", p, "%.3f"), rangeVals(v, "last/"+k+"/out_norm", on, "%.3g")})
	}
	b.WriteString("Silhouette persistence (primary):\n\n" + markdown(kmHeader, rs))
	fmt.Fprintf(&b, "\nProbe persistence (secondary; threshold %.2f, same rule; on S¹ contiguous arcs stay separable even at the "+
		"uniform minimiser, so the probe keeps 'clusters' the silhouette has lost):\n\n%s", probeThreshold, markdown(kmHeader, rp))
	fmt.Fprintf(&b, "\nAt the last step (mean over seeds [min, max]; loss gap = loss − loss of the regular N-gon, %s; the K-point "+
		"configuration, every cluster collapsed to one vertex of a regular K-gon, has gap %s; out norm = mean ‖g(x)‖ before "+
		"the normalisation, 1 for the particles):\n\n", v.num("lmin", lmin, "%.4f"), v.num("kpoint_gap", kpoint, "%.4g"))
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
	created, _ := pvnCreatedPaired(v, c, methods, runs, thr)
	b.WriteString(created)
	return b.String()
}

// pvnVerdict decides the prediction (networks keep the clusters longer than particles) for each network by the
// log-rank test of silhouette persistence against the particles (primary), with two paired checks by seed: the
// sign test of persistence (pvnCreatedPaired's counts) and the sign test of the silhouette at equal loss gap.
func pvnVerdict(v vals, c ParticleVsNetworkConfig, methods []method, sil map[string]*persistGroup, cmp []gapCmp, paired []pairCount) string {
	var s []string
	if c.Augment != "none" {
		s = append(s, fmt.Sprintf("Caution: the networks were trained with augmentation %q and the particles without, so the two minimise different losses.", c.Augment))
	}
	p := methods[0].name
	for i, m := range methods[1:] {
		k := fmt.Sprintf("m%d", i+1)
		line := "KM: " + kmCompare(v, m.name, p, "sil/"+k, "sil/m0", *sil[m.name], *sil[p]) + "."
		lr := survival.LogRankTest(sil[m.name].obs, sil[p].obs)
		longer, shorter := false, false
		if len(sil[m.name].obs) > 0 && len(sil[p].obs) > 0 && lr.ObsA+lr.ObsB > 0 {
			line += fmt.Sprintf(" Log-rank against the particles (primary): χ² = %s, p = %s, hazard ratio (O/E) %s (events %s vs %s).",
				v.num("logrank/"+k+"/chi2", lr.Chi2, "%.3g"), v.num("logrank/"+k+"/p", lr.P, "%.2g"),
				v.num("logrank/"+k+"/hr", lr.HazardRatio, "%.3g"), v.count("logrank/"+k+"/events", int(lr.ObsA)),
				v.count("logrank/"+k+"/events_particles", int(lr.ObsB)))
			longer, shorter = lr.P < 0.05 && lr.HazardRatio < 1, lr.P < 0.05 && lr.HazardRatio > 1
		}
		if i < len(paired) {
			pc := paired[i]
			line += fmt.Sprintf(" Paired by seed: longer in %s, shorter in %s, undecided in %s (sign test p = %s).",
				v.count("paired/"+k+"/longer", pc.longer), v.count("paired/"+k+"/shorter", pc.shorter),
				v.count("paired/"+k+"/undecided", pc.undecided), v.num("paired/"+k+"/sign_p", signTestP(pc.longer, pc.shorter), "%.2g"))
		}
		if i < len(cmp) && cmp[i].total > 0 {
			g := cmp[i]
			line += fmt.Sprintf(" At equal loss gap (%s to %s) its silhouette minus the particles' was positive in %s of %s "+
				"(seed, level) pairs (mean %s, range [%s, %s]); averaged over the levels, higher in %s seeds and lower in %s (sign test p = %s).",
				v.num("equal_gap/"+k+"/level_hi", g.levelHi, "%.3g"), v.num("equal_gap/"+k+"/level_lo", g.levelLo, "%.3g"),
				v.count("equal_gap/"+k+"/positive", g.pos), v.count("equal_gap/"+k+"/pairs", g.total), v.num("equal_gap/"+k+"/mean", g.mean, "%+.3f"),
				v.num("equal_gap/"+k+"/min", g.lo, "%+.3f"), v.num("equal_gap/"+k+"/max", g.hi, "%+.3f"),
				v.count("equal_gap/"+k+"/seeds_pos", g.seedPos), v.count("equal_gap/"+k+"/seeds_neg", g.seedNeg),
				v.num("equal_gap/"+k+"/seeds_sign_p", signTestP(g.seedPos, g.seedNeg), "%.2g"))
		}
		switch {
		case longer:
			line += fmt.Sprintf(" → The prediction HELD for the %s network (log-rank p < 0.05, fewer losses than expected).", m.name)
		case shorter:
			line += fmt.Sprintf(" → The prediction did NOT hold for the %s network (log-rank p < 0.05, more losses than expected).", m.name)
		default:
			line += fmt.Sprintf(" → Unresolved for the %s network (log-rank p ≥ 0.05).", m.name)
		}
		s = append(s, line)
	}
	s = append(s, fmt.Sprintf("What this does not show: one data set, one width (%d), one learning rate and τ = %g, %d seeds per method "+
		"(runs whose clusters were never visible are left out of the log-rank test and counted in the clusters-created table); "+
		"the matched-gap comparison removes the methods' different speeds but says nothing about why the networks differ "+
		"(kernel vs feature learning); the thresholds and the window are ours; the two tests (one per network) are not corrected "+
		"for multiplicity.", c.Width, c.Temperature, c.Seeds))
	return strings.Join(s, " ")
}

// pvnFigures draws the time series of the first seed and every run's silhouette, probe accuracy and output norm
// against the loss gap (panels.png, which needs the latent points, is drawn by the run).
func pvnFigures(dir string, d datasets.Points, methods []method, runs map[string][]pvnRun, c ParticleVsNetworkConfig, kpoint float64) error {
	first := map[string]*trajectory{}
	for _, m := range methods {
		first[m.name] = runs[m.name][0].tj
	}
	if err := seriesGrid(dir, "timeseries.png", "seed "+fmt.Sprint(c.FirstSeed), methods, first, nil); err != nil {
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

// seriesGrid draws the six metrics against the step, one curve per method. With codeStd (1-D codes, by method)
// the spread and separation are distances in code units, and the codes' std replaces uniformity on the sphere.
func seriesGrid(dir, file, note string, methods []method, tjs map[string]*trajectory, codeStd map[string][]float64) error {
	labels := seriesLabels
	if codeStd != nil { // 1-D codes: distances, not angles, and the codes' std where uniformity on S^k has no meaning
		labels = []string{"within-cluster spread (code units)", "min distance between cluster means (code units)", "silhouette",
			"linear-probe accuracy", "code std (code units)", "training loss"}
	}
	var plots []*plot.Plot
	for vi, label := range labels {
		var cs []curve
		for mi, m := range methods {
			tj := tjs[m.name]
			xs, ys := make([]float64, len(tj.steps)), make([]float64, len(tj.steps))
			for i, t := range tj.steps {
				xs[i], ys[i] = float64(t), tj.rows[i].values()[vi]
				if codeStd != nil && vi == 4 {
					ys[i] = codeStd[m.name][i]
				}
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
