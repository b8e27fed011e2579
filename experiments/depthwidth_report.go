package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gosimclr/gosimclr/internal/survival"
	"gonum.org/v1/plot"
)

// dwGroup is one setting of the sweep (all its seeds): depth 0 is the particles.
type dwGroup struct {
	depth, width int
	scaling      string
}

func (g dwGroup) String() string {
	if g.depth == 0 {
		return "particles"
	}
	return fmt.Sprintf("L=%d m=%d %s", g.depth, g.width, g.scaling)
}

// dwStat is the Kaplan–Meier summary of one group.
type dwStat struct {
	est      survival.Estimate
	diverged int
	never    int            // runs whose clusters were never visible: not in est
	obs      []survival.Obs // the persistence observations est is of
	gapObs   []survival.Obs // the same on the loss-gap clock (gapClock)
	gapEst   survival.Estimate
}

// gapRef bounds every loss gap of the sweep from above (NT-Xent's gap is below 2/τ + log 2N): the loss-gap clock
// x = log10(gapRef/gap) is then ≥ 0 and grows as training approaches the regular N-gon.
const gapRef = 1e3

// gapClock is a cell's persistence on the common clock of the loss gap to the regular N-gon: the gap at the
// persistence event (or, censored, at the last logged step), as x = log10(gapRef/gap). Gaps below 1e-9
// (float32 rounding at the minimum) count as 1e-9.
func gapClock(cl dwCell, lmin float64) survival.Obs {
	i := len(cl.Steps) - 1
	if cl.Persistence.Event {
		i = slices.Index(cl.Steps, int(cl.Persistence.Time))
	}
	return survival.Obs{Time: math.Log10(gapRef / max(cl.Loss[i]-lmin, 1e-9)), Event: cl.Persistence.Event}
}

// gapString formats an estimate on the loss-gap clock as gaps: "median [lo, hi]", the interval's ends swapped
// (a later x is a smaller gap); a censored end is "<" the smallest gap reached.
func gapString(e survival.Estimate) string {
	if e.N == 0 {
		return "–"
	}
	g := func(x float64, censored bool) string {
		if censored || math.IsInf(x, 1) {
			return fmt.Sprintf("<%.2g", gapRef*math.Pow(10, -e.MaxTime))
		}
		return fmt.Sprintf("%.2g", gapRef*math.Pow(10, -x))
	}
	return fmt.Sprintf("%s [%s, %s]", g(e.Median, e.MedianCensored), g(e.Hi, e.HiCensored), g(e.Lo, false))
}

// kmLevel is the confidence level of every interval of the sweep.
const kmLevel = 0.95

// depthWidthReport writes cells.csv, km.csv and the figures from the stored cells, and words the result.
func depthWidthReport(c DepthWidthConfig, dir string, done []dwCell, total, remaining int, lmin float64) (*Result, error) {
	stats := map[dwGroup]*dwStat{}
	obs, gapObs := map[dwGroup][]survival.Obs{}, map[dwGroup][]survival.Obs{}
	tab := newTable("key", "depth", "width", "scaling", "seed", "persistence_step", "event", "diverged", "initial_silhouette",
		"final_silhouette", "final_loss_gap", "initial_out_norm", "final_out_norm", "last_step", "never_visible", "seconds")
	for _, cl := range done {
		g := dwGroup{cl.Depth, cl.Width, cl.Scaling}
		if stats[g] == nil {
			stats[g] = &dwStat{}
		}
		if cl.Diverged {
			stats[g].diverged++
		}
		if cl.NeverVisible {
			stats[g].never++
		} else {
			obs[g] = append(obs[g], cl.Persistence)
			gapObs[g] = append(gapObs[g], gapClock(cl, lmin))
		}
		n := len(cl.Steps) - 1
		tab.add(cl.key(), cl.Depth, cl.Width, cl.Scaling, int(cl.Seed), cl.Persistence.Time, cl.Persistence.Event, cl.Diverged,
			cl.Silhouette[0], cl.Silhouette[n], cl.Loss[n]-lmin, cl.OutNorm[0], cl.OutNorm[n], cl.Steps[n], cl.NeverVisible, cl.Seconds)
	}
	if err := tab.write(filepath.Join(dir, "cells.csv")); err != nil {
		return nil, err
	}
	km := newTable("group", "depth", "width", "scaling", "n", "events", "censored", "diverged", "never_visible", "median",
		"median_censored", "lo", "hi", "hi_censored")
	var rows [][]string
	groups := dwGroups(c)
	for _, g := range groups {
		if stats[g] == nil {
			continue
		}
		e := survival.Median(obs[g], kmLevel)
		stats[g].est, stats[g].obs = e, obs[g]
		stats[g].gapObs, stats[g].gapEst = gapObs[g], survival.Median(gapObs[g], kmLevel)
		st := stats[g]
		km.add(g.String(), g.depth, g.width, g.scaling, e.N, e.Events, e.N-e.Events, st.diverged, st.never, e.Median,
			e.MedianCensored, e.Lo, e.Hi, e.HiCensored)
		rows = append(rows, []string{g.String(), fmt.Sprint(e.N), fmt.Sprint(e.Events), fmt.Sprint(st.diverged), fmt.Sprint(st.never), e.String(),
			gapString(st.gapEst)})
	}
	if err := km.write(filepath.Join(dir, "km.csv")); err != nil {
		return nil, err
	}
	res := &Result{Name: "depth-width", Dir: dir, Title: "Cluster persistence against depth, width and parameterisation (survival analysis)",
		Figures: []string{"persistence_km.png", "silhouette_vs_gap.png"}}
	if err := dwMedianFigure(c, filepath.Join(dir, res.Figures[0]), stats); err != nil {
		return nil, err
	}
	if err := dwClockFigure(c, filepath.Join(dir, res.Figures[1]), done, lmin); err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Cells finished: %d of %d (%d remain; `simclr experiment depth-width` resumes them). %s\n\n", len(done), total, remaining,
		cellBuilds(dwCommits(done)))
	fmt.Fprintf(&b, "Persistence time (ours): the first logged step that starts %d consecutive measurements (every %d steps) of the "+
		"silhouette below %.3f (halfway between collapsed clusters, 1, and the regular N-gon with contiguous clusters); "+
		"counted from the first measurement at or above it; a run that never falls so is censored at T = %d (or where it "+
		"diverged), and a run whose silhouette never reached the threshold has no persistence time (counted apart, \"never "+
		"visible\"). Medians are Kaplan–Meier with "+
		"Brookmeyer–Crowley %.0f%% intervals (log(−log) Greenwood bands); \">T\" marks a median or bound past the end of the runs. "+
		"n counts seeds.\n\n", c.Window, c.LogEvery, c.Threshold(done), c.Steps, 100*kmLevel)
	b.WriteString(markdown([]string{"setting", "n", "events", "diverged", "never visible (not in n)", "KM median [95% CI] (steps)",
		"on the loss-gap clock: gap at the loss of clusters, KM median [95% CI]"}, rows))
	b.WriteString("\nThe last column measures persistence on the common clock instead of steps: the loss gap to the regular N-gon " +
		"at which the clusters were lost (smaller = later in the optimisation; \"<g\": not lost by the time the gap reached g). " +
		"It separates \"loses the clusters in fewer steps\" (a speed difference) from \"loses them earlier in the descent\".\n")
	tests := dwLogRanks(c, stats)
	if err := dwLogRankTable(tests).write(filepath.Join(dir, "logrank.csv")); err != nil {
		return nil, err
	}
	b.WriteString(dwLogRankText(c, tests))
	b.WriteString(dwDoesNotShow(c, total-remaining, total))
	res.Numbers = b.String()
	res.Verdict = dwVerdict(c, stats) + dwLogRankVerdict(c, tests)
	res.Ours = fmt.Sprintf("Every setting: %d Gaussian clusters × %d points (std %g, centres on a circle of radius %g, drawn from seed %d), "+
		"augmentation %q for networks and particles alike (the same loss), NT-Xent τ = %g, %s activation, normalised output "+
		"on S¹, full-batch SGD lr %g (particles lr·N), %d steps, the grid, the threshold and the window.",
		c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed, c.Augment, c.Temperature, c.Activation, c.LR, c.Steps)
	return res, nil
}

// dwCommits lists the build of each stored cell.
func dwCommits(done []dwCell) []string {
	c := make([]string, len(done))
	for i, cl := range done {
		c[i] = cl.Commit
	}
	return c
}

// Threshold is the silhouette threshold the stored cells used (NaN before any).
func (c DepthWidthConfig) Threshold(done []dwCell) float64 {
	if len(done) == 0 {
		return math.NaN()
	}
	return done[0].Threshold
}

// dwGroups lists the settings in table order: particles, then by scaling, width and depth.
func dwGroups(c DepthWidthConfig) []dwGroup {
	out := []dwGroup{{}}
	for _, sc := range c.Scalings {
		for _, m := range c.Widths {
			for _, l := range c.Depths {
				out = append(out, dwGroup{l, m, sc})
			}
		}
	}
	return out
}

// dwMedianFigure draws, per parameterisation, the KM median persistence against depth for each width, with
// its interval; censored medians are triangles at T, and the particles' median a dashed line.
func dwMedianFigure(c DepthWidthConfig, path string, stats map[dwGroup]*dwStat) error {
	clip := func(v float64) float64 { return math.Min(v, 1.05*float64(c.Steps)) }
	var panels []*plot.Plot
	for _, sc := range c.Scalings {
		var cs []curve
		for wi, m := range c.Widths {
			cv := curve{Name: fmt.Sprintf("m = %d", m), Color: wi, Dots: true}
			for _, l := range c.Depths {
				st := stats[dwGroup{l, m, sc}]
				if st == nil {
					continue
				}
				e := st.est
				cv.X = append(cv.X, float64(l))
				cv.Y = append(cv.Y, clip(e.Median))
				cv.Lo, cv.Hi = append(cv.Lo, clip(e.Lo)), append(cv.Hi, clip(e.Hi))
				cv.Censored = append(cv.Censored, e.MedianCensored)
			}
			cs = append(cs, cv)
		}
		if p := stats[dwGroup{}]; p != nil && len(c.Depths) > 0 {
			y := clip(p.est.Median)
			cs = append(cs, curve{Name: fmt.Sprintf("particles (n=%d)", p.est.N), X: []float64{float64(c.Depths[0]), float64(c.Depths[len(c.Depths)-1])},
				Y: []float64{y, y}, Color: len(c.Widths), Dashed: true})
		}
		p, err := lineChart(fmt.Sprintf("%s: KM median persistence, 95%% CI (▲ censored)", sc), "hidden layers L (log scale)",
			"persistence (steps)", cs, true)
		if err != nil {
			return err
		}
		p.Y.Min, p.Y.Max = 0, 1.1*float64(c.Steps)
		p.X.Min, p.X.Max = 0.8*float64(slices.Min(c.Depths)), 1.25*float64(slices.Max(c.Depths)) // also when no cell is done
		panels = append(panels, p)
	}
	return saveGrid([][]*plot.Plot{panels}, path, 16, 11)
}

// dwClockFigure draws the silhouette of the first seed's runs against the common clock, the loss gap to the
// regular N-gon (log scale), for the particles and each depth at the middle width.
func dwClockFigure(c DepthWidthConfig, path string, done []dwCell, lmin float64) error {
	m := c.Widths[len(c.Widths)/2]
	var panels []*plot.Plot
	for _, sc := range c.Scalings {
		var cs []curve
		for _, cl := range done {
			if cl.Seed != c.FirstSeed || (cl.Depth != 0 && (cl.Width != m || cl.Scaling != sc)) {
				continue
			}
			cv := curve{Name: dwGroup{cl.Depth, cl.Width, cl.Scaling}.String(), Color: cl.Depth}
			for i := range cl.Steps {
				if gap := cl.Loss[i] - lmin; gap > 0 {
					cv.X, cv.Y = append(cv.X, gap), append(cv.Y, cl.Silhouette[i])
				}
			}
			cs = append(cs, cv)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, cv := range cs {
			for _, x := range cv.X {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
		if lo > hi { // nothing to draw yet: an empty panel with a valid log axis
			lo, hi = 1e-6, 1
		}
		p, err := lineChart(fmt.Sprintf("%s, m = %d, seed %d: silhouette against the loss gap", sc, m, c.FirstSeed),
			"loss − loss of the regular N-gon (log scale; time runs right to left)", "silhouette", cs, true)
		if err != nil {
			return err
		}
		p.X.Min, p.X.Max = lo/1.5, hi*1.5
		panels = append(panels, p)
	}
	return saveGrid([][]*plot.Plot{panels}, path, 16, 11)
}

// dwVerdict compares the deepest with the shallowest network at every width and parameterisation: longer or
// shorter only where the two intervals do not overlap.
func dwVerdict(c DepthWidthConfig, stats map[dwGroup]*dwStat) string {
	if len(c.Depths) < 2 {
		return "One depth only: no depth comparison."
	}
	lo, hi := c.Depths[0], c.Depths[len(c.Depths)-1]
	var longer, shorter, unresolved []string
	for _, sc := range c.Scalings {
		for _, m := range c.Widths {
			a, b := stats[dwGroup{lo, m, sc}], stats[dwGroup{hi, m, sc}]
			if a == nil || b == nil {
				continue
			}
			name := fmt.Sprintf("m=%d %s (L=%d: %s, n=%d; L=%d: %s, n=%d)", m, sc, lo, a.est, a.est.N, hi, b.est, b.est.N)
			switch {
			case b.est.Lo > a.est.Hi:
				longer = append(longer, name)
			case b.est.Hi < a.est.Lo:
				shorter = append(shorter, name)
			default:
				unresolved = append(unresolved, name)
			}
		}
	}
	if len(longer)+len(shorter)+len(unresolved) == 0 {
		return fmt.Sprintf("Not yet measurable: no width has finished cells at both L=%d and L=%d.", lo, hi)
	}
	var s []string
	if len(longer) > 0 {
		s = append(s, fmt.Sprintf("L=%d kept the clusters LONGER than L=%d (non-overlapping 95%% intervals) at %s.", hi, lo, strings.Join(longer, "; ")))
	}
	if len(shorter) > 0 {
		s = append(s, fmt.Sprintf("L=%d kept the clusters SHORTER than L=%d (non-overlapping 95%% intervals) at %s.", hi, lo, strings.Join(shorter, "; ")))
	}
	if len(unresolved) > 0 {
		s = append(s, fmt.Sprintf("No difference resolved (overlapping intervals) at %s.", strings.Join(unresolved, "; ")))
	}
	return strings.Join(s, " ")
}

// dwTest is one log-rank comparison of a deeper network with the shallowest at the same width and
// parameterisation.
type dwTest struct {
	g, base  dwGroup
	n, nBase int
	r, gap   survival.LogRank // on the step clock and on the loss-gap clock
}

// dwLogRanks compares every finished depth L > Depths[0] with Depths[0], per width and parameterisation.
func dwLogRanks(c DepthWidthConfig, stats map[dwGroup]*dwStat) []dwTest {
	var out []dwTest
	if len(c.Depths) < 2 {
		return nil
	}
	for _, sc := range c.Scalings {
		for _, m := range c.Widths {
			base := dwGroup{c.Depths[0], m, sc}
			if stats[base] == nil {
				continue
			}
			for _, l := range c.Depths[1:] {
				g := dwGroup{l, m, sc}
				if st := stats[g]; st != nil && len(st.obs) > 0 && len(stats[base].obs) > 0 {
					out = append(out, dwTest{g, base, len(st.obs), len(stats[base].obs), survival.LogRankTest(st.obs, stats[base].obs),
						survival.LogRankTest(st.gapObs, stats[base].gapObs)})
				}
			}
		}
	}
	return out
}

func dwLogRankTable(tests []dwTest) *table {
	t := newTable("scaling", "width", "depth", "vs_depth", "n", "n_vs", "events", "events_vs", "expected", "chi2", "p", "hazard_ratio", "chi2_gap", "p_gap", "hazard_ratio_gap")
	for _, x := range tests {
		t.add(x.g.scaling, x.g.width, x.g.depth, x.base.depth, x.n, x.nBase, x.r.ObsA, x.r.ObsB, x.r.ExpA, x.r.Chi2, x.r.P, x.r.HazardRatio, x.gap.Chi2, x.gap.P, x.gap.HazardRatio)
	}
	return t
}

// dwLogRankText is the table of log-rank tests with its reading.
func dwLogRankText(c DepthWidthConfig, tests []dwTest) string {
	if len(tests) == 0 {
		return ""
	}
	var rows [][]string
	for _, x := range tests {
		rows = append(rows, []string{x.g.scaling, fmt.Sprint(x.g.width), fmt.Sprintf("L=%d vs L=%d", x.g.depth, x.base.depth), fmt.Sprintf("%d / %d", x.n, x.nBase),
			fmt.Sprintf("%.0f / %.0f", x.r.ObsA, x.r.ExpA), fmt.Sprintf("%.0f / %.0f", x.r.ObsB, x.r.ExpB),
			hazardRatio(x.r.HazardRatio), fmt.Sprintf("%.2f", x.r.Chi2), fmt.Sprintf("%.2g", x.r.P),
			hazardRatio(x.gap.HazardRatio), fmt.Sprintf("%.2g", x.gap.P)})
	}
	return fmt.Sprintf("\nDepth against L = %d at the same width and parameterisation: the two-sample log-rank test of the "+
		"persistence times (censoring included; never-visible runs excluded). Events are observed / expected under equal "+
		"hazards; the hazard ratio is the O/E ratio, above 1 when the deeper network loses its clusters sooner. The last two columns "+
		"repeat the test on the loss-gap clock (above 1: at a larger gap, earlier in the descent). %d tests per clock: "+
		"with a Bonferroni correction a difference counts at p < %.2g.\n\n", c.Depths[0], len(tests), 0.05/float64(len(tests))) +
		markdown([]string{"scaling", "m", "comparison", "n deeper / shallower", "events deeper (O / E)", "events shallower (O / E)", "hazard ratio", "χ²", "p", "hazard ratio, gap clock", "p, gap clock"}, rows)
}

// dwLogRankVerdict counts the log-rank comparisons that pass the Bonferroni threshold, by direction.
func dwLogRankVerdict(c DepthWidthConfig, tests []dwTest) string {
	if len(tests) == 0 {
		return ""
	}
	alpha := 0.05 / float64(len(tests))
	var sooner, later []string
	for _, x := range tests {
		if x.r.P >= alpha {
			continue
		}
		name := fmt.Sprintf("L=%d m=%d %s (HR %s, p %.2g)", x.g.depth, x.g.width, x.g.scaling, hazardRatio(x.r.HazardRatio), x.r.P)
		if x.r.HazardRatio > 1 {
			sooner = append(sooner, name)
		} else {
			later = append(later, name)
		}
	}
	s := fmt.Sprintf(" Log-rank against L = %d (%d tests, Bonferroni p < %.2g): the deeper network lost its clusters sooner in %d",
		c.Depths[0], len(tests), alpha, len(sooner))
	if len(sooner) > 0 {
		s += " (" + strings.Join(sooner, "; ") + ")"
	}
	s += fmt.Sprintf(", later in %d", len(later))
	if len(later) > 0 {
		s += " (" + strings.Join(later, "; ") + ")"
	}
	s += fmt.Sprintf("; the other %d differences are not resolved at n = %d seeds per setting.", len(tests)-len(sooner)-len(later), c.Seeds)
	var gs, gl int
	for _, x := range tests {
		if x.gap.P < alpha && x.gap.HazardRatio > 1 {
			gs++
		} else if x.gap.P < alpha {
			gl++
		}
	}
	return s + fmt.Sprintf(" On the loss-gap clock the deeper network lost them at a larger gap (earlier in the descent) in %d, "+
		"at a smaller gap in %d, unresolved in %d.", gs, gl, len(tests)-gs-gl)
}

// dwDoesNotShow says what the sweep cannot tell.
func dwDoesNotShow(c DepthWidthConfig, done, total int) string {
	s := "\n### What this does not show\n\n"
	if done < total {
		s += fmt.Sprintf("- The sweep is not finished (%d of %d cells): the missing settings are the most expensive ones (deep and wide), "+
			"so nothing is said about them.\n", done, total)
	}
	return s + fmt.Sprintf("- One data set (%d clusters × %d points in R², one draw), one τ = %g, one learning rate %g, one activation: the "+
		"dependence on any of them is not measured.\n", c.Clusters, c.PerCluster, c.Temperature, c.LR) +
		"- Persistence is measured by a silhouette threshold and a window that are ours; a different threshold moves every median.\n" +
		"- Depth and the learning rate interact: at a fixed lr a deeper network takes larger effective steps in function space, " +
		"so \"shorter with depth\" may be a learning-rate effect rather than one of depth itself; the sweep does not separate them.\n" +
		"- Full-batch SGD without augmentation: the setting of the theory, not SimCLR practice (minibatches, augmentations, Adam).\n"
}

// hazardRatio formats an O/E ratio; ∞ when the shallower network had no event (every run censored), "–" when
// neither sample had an expected event (0/0).
func hazardRatio(x float64) string {
	if math.IsNaN(x) {
		return "– (no overlap in time: nothing to compare)"
	}
	if math.IsInf(x, 1) {
		return "∞ (no event at the shallower depth)"
	}
	return fmt.Sprintf("%.3g", x)
}
