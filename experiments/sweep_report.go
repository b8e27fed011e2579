package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// What the persistence sweeps' reports share: the outcomes of a cell, computed from its series, the
// Kaplan–Meier rows of a group and the stratified Cox model of a covariate.

// sweepOut is what the report reads of one cell at one threshold.
type sweepOut struct {
	cell  sweepCell
	steps survival.Obs // persistence on the step clock (the window rule)
	effS  survival.Obs // the same on the clock of the cumulative effective step
	never bool         // the silhouette never reached the threshold
	// created: the silhouette started below the threshold; createdAt is the first logged step at or above it
	// (an event), censored at the run's end.
	created   bool
	createdAt survival.Obs
	eff0      float64 // the effective step at step 0
}

// outcomes measures a cell at threshold thr (NaN: the cell's own).
func outcomes(b sweepBase, cl sweepCell, thr float64) sweepOut {
	if math.IsNaN(thr) {
		thr = cl.Threshold
	}
	sil, _, eff := cl.series()
	last := cl.lastStep(b.Steps)
	o := sweepOut{cell: cl, eff0: eff[0]}
	o.steps, o.never = persistenceOf(cl.Steps, sil, thr, b.Window, last)
	s := cumulativeStep(cl.Steps, eff)
	if !o.never {
		i := len(s) - 1
		if o.steps.Event {
			i = indexOfStep(cl.Steps, int(o.steps.Time))
		}
		o.effS = survival.Obs{Time: s[i], Event: o.steps.Event}
	}
	if sil[0] < thr {
		o.created = true
		o.createdAt = survival.Obs{Time: float64(last)}
		for i, v := range sil {
			if v >= thr {
				o.createdAt = survival.Obs{Time: float64(cl.Steps[i]), Event: true}
				break
			}
		}
	}
	return o
}

func indexOfStep(steps []int, t int) int {
	for i, s := range steps {
		if s == t {
			return i
		}
	}
	return len(steps) - 1
}

// sweepGroup collects the outcomes of one setting.
type sweepGroup struct {
	name, label string
	outs        []sweepOut
}

// persist is the group's persistence on the step clock (or on the effective-step clock).
func (g sweepGroup) persist(eff bool) persistGroup {
	var p persistGroup
	for _, o := range g.outs {
		x := o.steps
		if eff {
			x = o.effS
		}
		p.add(x, o.never, o.cell.Diverged)
	}
	return p
}

// kmTable is the markdown table of groups on the step clock, with the effective-step clock beside it when eff.
func kmTable(v vals, groups []sweepGroup, eff bool) string {
	hdr := append([]string{}, kmHeader...)
	if eff {
		hdr = append(hdr, "median e at step 0", "KM median [95% CI] (cumulative effective step)")
	}
	var rows [][]string
	for _, g := range groups {
		row := kmRow(v, "km/"+g.name, g.label, g.persist(false))
		if eff {
			var e0 []float64
			for _, o := range g.outs {
				e0 = append(e0, o.eff0)
			}
			p := g.persist(true)
			med := "–"
			switch e := p.estimate(); {
			case e.N == 1:
				med = v.obs("km_eff/"+g.name+"/only", p.obs[0], false) + " (n = 1)"
			case e.N > 1:
				med = v.est("km_eff/"+g.name, e)
			}
			row = append(row, v.num("eff0/"+g.name, median(e0), "%.3g"), med)
		}
		rows = append(rows, row)
	}
	return markdown(hdr, rows)
}

// median is the median of xs (the mean of the middle two for an even count), NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	for i := range s { // insertion sort: a few dozen values
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// coxOf fits the stratified Cox model of the outcomes (never-visible runs left out) with one covariate, on the
// step clock or the effective-step clock, and words it under name: "HR h [lo, hi] per unit of the covariate (n
// runs, e events, strata s; stratified log-rank trend χ², p)".
func coxOf(v vals, name string, outs []sweepOut, covariate func(sweepOut) float64, stratum func(sweepOut) string, eff bool) (string, dwCox) {
	var ss []survival.Subject
	strata := map[string]bool{}
	for _, o := range outs {
		if o.never {
			continue
		}
		x := o.steps
		if eff {
			x = o.effS
		}
		ss = append(ss, survival.Subject{Obs: x, X: []float64{covariate(o)}, Stratum: stratum(o)})
		strata[stratum(o)] = true
	}
	x := dwCox{runs: len(ss), hr: math.NaN(), hrLo: math.NaN(), hrHi: math.NaN()}
	if len(ss) == 0 {
		return "no runs yet", x
	}
	x.fit, x.err = survival.Cox(ss)
	x.trend = survival.TrendTest(ss)
	x.events = x.trend.Events
	if x.err == nil && !x.fit.Infinite {
		b, se := x.fit.Beta[0], x.fit.SE[0]
		x.hr, x.hrLo, x.hrHi = math.Exp(b), math.Exp(b-1.959964*se), math.Exp(b+1.959964*se)
	}
	words := coxWords(v, name, x)
	return strings.Replace(words, "per doubling of depth", "per unit of the covariate", 1) +
		fmt.Sprintf(" over %s %s", v.count(name+"/strata", len(strata)), map[bool]string{true: "stratum", false: "strata"}[len(strata) == 1]), x
}

// writeSweepCSV writes cells.csv: one row per stored cell with its outcomes at its own threshold.
func writeSweepCSV(dir string, b sweepBase, done []sweepCell) error {
	t := newTable("key", "depth", "width", "scaling", "rule", "lr", "step_lr", "temperature", "kernel", "sizes", "seed", "data_seed",
		"threshold", "persistence_step", "event", "never_visible", "created_from_below", "created_step", "created_event",
		"eff_step_0", "cumulative_eff_at_persistence", "initial_silhouette", "last_silhouette", "last_step", "stopped_early", "diverged", "seconds")
	for _, cl := range done {
		o := outcomes(b, cl, math.NaN())
		sil, _, _ := cl.series()
		t.add(cl.key(), cl.Depth, cl.Width, cl.Scaling, cl.Rule, cl.LR, cl.StepLR, cl.Temperature, cl.Kernel, fmt.Sprint(cl.Sizes),
			int(cl.Seed), int(cl.DataSeed), cl.Threshold, o.steps.Time, o.steps.Event, o.never, o.created, o.createdAt.Time,
			o.createdAt.Event, o.eff0, o.effS.Time, sil[0], sil[len(sil)-1], cl.Steps[len(cl.Steps)-1], cl.Stopped, cl.Diverged, cl.Seconds)
	}
	return t.write(filepath.Join(dir, "cells.csv"))
}

// sweepHeader is the opening of a sweep's summary: how many cells are done, what they cost, and the persistence
// rule.
func sweepHeader(v vals, b sweepBase, cells []sweepCell, total int, what string) string {
	done := len(cells)
	s := fmt.Sprintf("Cells finished: %s of %s (%s remain; `simclr experiment %s` resumes them, `--for 15m` runs one sitting). "+
		"Every number below is of the finished cells only, with its n.", v.count("cells/done", done), v.count("cells/total", total),
		v.count("cells/remaining", total-done), what)
	if done > 0 && done < total {
		mean := sweepSeconds(cells) / float64(done)
		s += fmt.Sprintf(" The finished cells took %s s each on average (wall time at the lowest priority on a shared 2-core "+
			"host; the plan runs seed by seed, so they span every setting): the rest would take about %s hours at that rate.",
			v.num("cells/mean_seconds", mean, "%.0f"), v.num("cells/remaining_hours", mean*float64(total-done)/3600, "%.1f"))
	}
	s += "\n\n"
	return s + fmt.Sprintf("Persistence (ours, as depth-width): from the first logged step with the silhouette at or above the threshold "+
		"(halfway between collapsed clusters and the regular N-gon with contiguous clusters, for each data draw's labels), the "+
		"first logged step that starts %d consecutive measurements below it; censored at step %d (or where a run diverged); runs "+
		"never at the threshold are \"never visible\" and left out of n. Kaplan–Meier medians with Brookmeyer–Crowley 95%% "+
		"intervals. The effective step e and its cumulative sum S are defined in effstep_measure.go: e is the learning rate "+
		"of particle descent that would move the latent points as far along the loss's gradient on them as the step did.\n\n",
		b.Window, b.Steps)
}

// sweepStop words the stop rule of a sweep.
func sweepStop(b sweepBase) string {
	if !b.Stop {
		return "none: every run goes to step " + fmt.Sprint(b.Steps) + " (or where it diverged)."
	}
	return fmt.Sprintf("a run ends at the logged step at which its persistence event is decided (the last of %d consecutive "+
		"measurements below the threshold after one at or above it), not at step %d; thresholds below the one used cannot be evaluated on "+
		"these cells. Runs that never lose the clusters go to step %d.", b.Window, b.Steps, b.Steps)
}
