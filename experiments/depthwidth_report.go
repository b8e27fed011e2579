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

// key names the group in summary.json's values.
func (g dwGroup) key() string {
	if g.depth == 0 {
		return "particles"
	}
	return fmt.Sprintf("L%d-m%d-%s", g.depth, g.width, g.scaling)
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

// kmLevel is the confidence level of every interval of the sweep.
const kmLevel = 0.95

// dwStopRule discloses that depth-width ends a run once its persistence event is decided.
func dwStopRule(c DepthWidthConfig) string {
	return fmt.Sprintf("a run ends at the logged step at which its persistence event is decided (the last of %d consecutive measurements "+
		"below the threshold after one at or above it), not at step %d. The at_stop_* columns of cells.csv are at that step; a threshold "+
		"below the one used cannot be evaluated on these cells, and whether a run goes on to the trivial minimiser is not observed. "+
		"Runs that never lose the clusters go to step %d.", c.Window, c.Steps, c.Steps)
}

// depthWidthReport writes cells.csv, km.csv, logrank.csv and the figures from the stored cells, and words the
// result; its numbers go to the result's values.
func depthWidthReport(c DepthWidthConfig, dir string, done []dwCell, total, remaining int, lmin float64) (*Result, error) {
	v := vals{}
	stats := map[dwGroup]*dwStat{}
	tab := newTable("key", "depth", "width", "scaling", "seed", "persistence_step", "event", "diverged", "initial_silhouette",
		"at_stop_silhouette", "at_stop_loss_gap", "initial_out_norm", "at_stop_out_norm", "last_step", "stopped_early", "never_visible", "seconds")
	for _, cl := range done {
		g := dwGroup{cl.Depth, cl.Width, cl.Scaling}
		if stats[g] == nil {
			stats[g] = &dwStat{}
		}
		st := stats[g]
		if cl.Diverged {
			st.diverged++
		}
		if cl.NeverVisible {
			st.never++
		} else {
			st.obs = append(st.obs, cl.Persistence)
			st.gapObs = append(st.gapObs, gapClock(cl, lmin))
		}
		n := len(cl.Steps) - 1
		tab.add(cl.key(), cl.Depth, cl.Width, cl.Scaling, int(cl.Seed), cl.Persistence.Time, cl.Persistence.Event, cl.Diverged,
			cl.Silhouette[0], cl.Silhouette[n], cl.Loss[n]-lmin, cl.OutNorm[0], cl.OutNorm[n], cl.Steps[n], cl.Steps[n] < c.Steps,
			cl.NeverVisible, cl.Seconds)
	}
	if err := tab.write(filepath.Join(dir, "cells.csv")); err != nil {
		return nil, err
	}
	km := newTable("group", "depth", "width", "scaling", "n", "events", "censored", "diverged", "never_visible", "median",
		"median_censored", "lo", "hi", "hi_censored")
	var rows [][]string
	for _, g := range dwGroups(c) {
		st := stats[g]
		if st == nil {
			continue
		}
		st.est, st.gapEst = survival.Median(st.obs, kmLevel), survival.Median(st.gapObs, kmLevel)
		e := st.est
		km.add(g.String(), g.depth, g.width, g.scaling, e.N, e.Events, e.N-e.Events, st.diverged, st.never, e.Median,
			e.MedianCensored, e.Lo, e.Hi, e.HiCensored)
		name := "km/" + g.key()
		rows = append(rows, []string{g.String(), v.count(name+"/n", e.N), v.count(name+"/events", e.Events), v.count(name+"/diverged", st.diverged),
			v.count(name+"/never_visible", st.never), estOrDash(v, name, e), gapEstString(v, "gap/"+g.key(), st.gapEst)})
	}
	if err := km.write(filepath.Join(dir, "km.csv")); err != nil {
		return nil, err
	}
	res := &Result{Name: "depth-width", Dir: dir, Title: "Cluster persistence against depth, width and parameterisation (survival analysis)",
		Figures: []string{"persistence_km.png", "silhouette_vs_gap.png", "gap_clock_events.png"}, Values: v, Stop: dwStopRule(c),
		Builds: countBuilds(dwBuilds(done))}
	if err := dwMedianFigure(c, filepath.Join(dir, res.Figures[0]), stats); err != nil {
		return nil, err
	}
	if err := dwClockFigure(c, filepath.Join(dir, res.Figures[1]), done, lmin); err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Cells finished: %s of %s (%s remain; `simclr experiment depth-width` resumes them).\n\n", v.count("cells/done", len(done)),
		v.count("cells/total", total), v.count("cells/remaining", remaining))
	fmt.Fprintf(&b, "Persistence time (ours): the first logged step that starts %d consecutive measurements (every %d steps) of the "+
		"silhouette below %s (halfway between collapsed clusters, 1, and the regular N-gon with contiguous clusters); "+
		"counted from the first measurement at or above it; a run that never falls so is censored at T = %d (or where it "+
		"diverged), and a run whose silhouette never reached the threshold has no persistence time (counted apart, \"never "+
		"visible\"). Medians are Kaplan–Meier with Brookmeyer–Crowley %.0f%% intervals (log(−log) Greenwood bands); \">T\" "+
		"marks a median or bound past the end of the runs. n counts seeds.\n\n", c.Window, c.LogEvery,
		v.num("threshold", c.Threshold(done), "%.3f"), c.Steps, 100*kmLevel)
	b.WriteString(markdown([]string{"setting", "n", "events", "diverged", "never visible (not in n)", "KM median [95% CI] (steps)",
		"loss gap at the loss of clusters, KM median [95% CI]"}, rows))
	b.WriteString("\nThe last column is the loss gap to the regular N-gon at the logged step where the clusters were lost (\"<g\": " +
		"not lost by the time the gap reached g); the section on the loss-gap clock below says what it can and cannot show.\n")
	tests := dwLogRanks(c, stats)
	if err := dwLogRankTable(tests).write(filepath.Join(dir, "logrank.csv")); err != nil {
		return nil, err
	}
	b.WriteString(dwLogRankText(v, c, tests))
	cox := dwCoxByScaling(c, stats, false)
	b.WriteString(dwCoxText(v, c, cox, "steps", "sooner (in fewer steps)"))
	gc, err := dwGapClock(v, c, dir, done, stats, lmin)
	if err != nil {
		return nil, err
	}
	b.WriteString(gc.text)
	b.WriteString(dwDoesNotShow(c, total-remaining, total))
	res.Numbers = b.String()
	res.Verdict = dwVerdict(v, c, tests, cox, gc)
	res.Ours = fmt.Sprintf("Every setting: %d Gaussian clusters × %d points (std %g, centres on a circle of radius %g, drawn from seed %d), "+
		"augmentation %q for networks and particles alike (the same loss), NT-Xent τ = %g, %s activation, normalised output "+
		"on S¹, full-batch SGD lr %g (particles lr·N), %d steps, the grid, the threshold, the window, the stop rule, the "+
		"equivalence margin (a factor 1.5) and the bootstrap (%d resamples).",
		c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed, c.Augment, c.Temperature, c.Activation, c.LR, c.Steps, equivBoot)
	return res, nil
}

// estOrDash records a group's KM estimate (est), or "–" for a group without runs in the estimate.
func estOrDash(v vals, name string, e survival.Estimate) string {
	if e.N == 0 {
		return "–"
	}
	return v.est(name, e)
}

// gapEstString records an estimate on the loss-gap clock (u = log(gapRef/gap)) as gaps: "median [lo, hi]", the
// interval's ends swapped (a later u is a smaller gap); a censored end is "<" the smallest gap reached.
func gapEstString(v vals, name string, e survival.Estimate) string {
	if e.N == 0 {
		return "–"
	}
	g := func(key string, u float64, censored bool) string {
		if censored || math.IsInf(u, 1) {
			return v.text(name+"/"+key, 0, fmt.Sprintf("<%.2g", gapOfClock(e.MaxTime)))
		}
		return v.num(name+"/"+key, gapOfClock(u), "%.2g")
	}
	return fmt.Sprintf("%s [%s, %s]", g("median", e.Median, e.MedianCensored), g("lo", e.Hi, e.HiCensored), g("hi", e.Lo, false))
}

// dwBuilds lists the build of each stored cell.
func dwBuilds(done []dwCell) []cellBuild {
	b := make([]cellBuild, len(done))
	for i, cl := range done {
		b[i] = cl.cellBuild
	}
	return b
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
		p, err := lineChart(fmt.Sprintf("%s, m = %d, seed %d: silhouette against the loss gap", sc, m, c.FirstSeed),
			"loss − loss of the regular N-gon (log scale; time runs right to left)", "silhouette", cs, true)
		if err != nil {
			return err
		}
		p.X.Min, p.X.Max = xRange(cs)
		panels = append(panels, p)
	}
	return saveGrid([][]*plot.Plot{panels}, path, 16, 11)
}

// xRange is the range of the curves' x for a log axis, widened by 1.5 each side ([1e-6, 1] without points).
func xRange(cs []curve) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, cv := range cs {
		for _, x := range cv.X {
			if x > 0 {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
	}
	if lo > hi {
		return 1e-6, 1
	}
	return lo / 1.5, hi * 1.5
}

// dwDoesNotShow says what the sweep cannot tell.
func dwDoesNotShow(c DepthWidthConfig, done, total int) string {
	s := "\n### What this does not show\n\n"
	if done < total {
		s += fmt.Sprintf("- The sweep is not finished (%d of %d cells): the missing settings are the most expensive ones (deep and wide), "+
			"so nothing is said about them.\n", done, total)
	}
	return s + fmt.Sprintf("- One data set (%d clusters × %d points in R², one draw shared by every seed), one τ = %g, one learning rate %g, "+
		"one activation: the dependence on any of them is not measured here (effective-step, temperature and kernel do).\n",
		c.Clusters, c.PerCluster, c.Temperature, c.LR) +
		"- Persistence is measured by a silhouette threshold and a window that are ours; the stop rule ends each run at its event, so " +
		"no other threshold can be checked on these cells (full-length does).\n" +
		"- Depth and the effective step size are confounded: at a fixed lr the deeper networks, and the NTK-parameterised ones, " +
		"move their latent points faster (L = 1 standard networks grow ‖g‖, which shrinks their step on the sphere), so \"fewer " +
		"steps with depth\" may be a step-size effect; the effective-step experiment separates them.\n" +
		"- Full-batch SGD without augmentation: the setting of the theory, not SimCLR practice (minibatches, augmentations, Adam).\n"
}
