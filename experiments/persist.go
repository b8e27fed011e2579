package experiments

import (
	"fmt"
	"math"
	"slices"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// persistenceOf is the persistence of a transient in a logged statistic (the silhouette, the probe accuracy) as
// a survival observation, the rule of depth-width: counted from the first logged point at or above thr (a
// network's initial embedding can squeeze the clusters together before training pulls them apart), it ends at
// the first logged step that starts window consecutive points below thr (survival.PersistenceWindow), and is
// censored at lastStep (the run's end, or where it diverged) otherwise. never is true when stat never reached
// thr: there were no clusters to keep, so there is no persistence time (o is then the zero Obs and must be
// counted apart, not put in a Kaplan–Meier estimate).
func persistenceOf(steps []int, stat []float64, thr float64, window, lastStep int) (o survival.Obs, never bool) {
	i0 := slices.IndexFunc(stat, func(s float64) bool { return s >= thr })
	if i0 < 0 {
		return survival.Obs{}, true
	}
	return survival.PersistenceWindow(steps[i0:], stat[i0:], thr, window, lastStep), false
}

// persistGroup collects the persistence of one setting's runs (its seeds).
type persistGroup struct {
	obs      []survival.Obs // the runs with visible clusters
	never    int            // runs whose statistic never reached the threshold (not in obs)
	diverged int            // runs that stopped being finite (in obs, censored where they stopped, or in never)
}

// add records one run.
func (g *persistGroup) add(o survival.Obs, never, diverged bool) {
	if never {
		g.never++
	} else {
		g.obs = append(g.obs, o)
	}
	if diverged {
		g.diverged++
	}
}

// estimate is the Kaplan–Meier median of the group with its Brookmeyer–Crowley interval at kmLevel.
func (g persistGroup) estimate() survival.Estimate { return survival.Median(g.obs, kmLevel) }

// kmHeader is the header of the rows kmRow formats.
var kmHeader = []string{"setting", "runs", "never visible (not in n)", "n", "events", "censored", "diverged", "KM median [95% CI] (steps)"}

// kmRow formats one group as a markdown table row, its numbers recorded in v under name: how many runs, how many
// never had visible clusters, then n (the runs in the estimate), events, censored runs, divergences and the KM
// median with its interval (est); a group with n = 1 shows its one time without an interval, and one with n = 0
// has no median ("–").
func kmRow(v vals, name, label string, g persistGroup) []string {
	e := g.estimate()
	med := "–"
	switch {
	case e.N == 1: // one run: its time, no interval
		med = v.obs(name+"/only", g.obs[0], false) + " (n = 1: no interval)"
	case e.N > 1:
		med = v.est(name, e)
	}
	return []string{label, v.count(name+"/runs", e.N+g.never), v.count(name+"/never_visible", g.never), v.count(name+"/n", e.N),
		v.count(name+"/events", e.Events), v.count(name+"/censored", e.N-e.Events), v.count(name+"/diverged", g.diverged), med}
}

// est records the Kaplan–Meier estimate e under name (name/median, name/lo, name/hi, name/max_time; a median or
// upper bound the data do not reach is printed ">T", T the largest time, its value +Inf) and returns its
// reference "median [lo, hi]". n and events are recorded by the caller's table.
func (v vals) est(name string, e survival.Estimate) string {
	v.num(name+"/max_time", e.MaxTime, "%.4g")
	bound := func(key string, x float64, censored bool) string {
		if censored || math.IsInf(x, 1) {
			return v.text(name+"/"+key, math.Inf(1), fmt.Sprintf(">%.4g", e.MaxTime))
		}
		return v.num(name+"/"+key, x, "%.4g")
	}
	return fmt.Sprintf("%s [%s, %s]", bound("median", e.Median, e.MedianCensored), bound("lo", e.Lo, false), bound("hi", e.Hi, e.HiCensored))
}

// obs records one run's persistence under name (its time; name/event 0 or 1) and returns its reference: the step,
// ">T" when censored, "never visible" when never.
func (v vals) obs(name string, o survival.Obs, never bool) string {
	if never {
		return v.text(name, math.NaN(), "never visible")
	}
	ev := 0
	if o.Event {
		ev = 1
	}
	v.count(name+"/event", ev)
	if !o.Event {
		return v.text(name, o.Time, fmt.Sprintf(">%.0f", o.Time))
	}
	return v.num(name, o.Time, "%.0f")
}

// kmLegend explains the persistence time of kmRow's tables for a statistic measured every logEvery steps.
func kmLegend(stat string, thr float64, window, logEvery, steps int) string {
	return fmt.Sprintf("Persistence time (ours): counted from the first logged step with %s ≥ %.3f (clusters visible), the "+
		"first logged step that starts %d consecutive measurements (every %d steps) below it; a later rise does not undo it. A run "+
		"that never falls so is censored at T = %d (or where it diverged); a run that never reached the threshold has no "+
		"persistence time and is counted apart (\"never visible\", not in n). Medians are Kaplan–Meier with Brookmeyer–Crowley "+
		"95%% intervals (log(−log) Greenwood bands); \">T\" marks a median or bound past the end of the runs. n counts seeds.\n\n",
		stat, thr, window, logEvery, steps)
}

// kmCompare words the comparison of two groups' KM medians, whose estimates the caller's tables recorded under
// nameA and nameB: different only where the 95% intervals do not overlap.
func kmCompare(v vals, a, b, nameA, nameB string, ga, gb persistGroup) string {
	ea, eb := ga.estimate(), gb.estimate()
	if ea.N < 2 || eb.N < 2 {
		return fmt.Sprintf("%s vs %s: not comparable (n = %s and %s runs with visible clusters; an interval needs n ≥ 2)", a, b,
			v.count(nameA+"/n", ea.N), v.count(nameB+"/n", eb.N))
	}
	sa, sb := v.est(nameA, ea), v.est(nameB, eb)
	na, nb := v.count(nameA+"/n", ea.N), v.count(nameB+"/n", eb.N)
	switch {
	case ea.Lo > eb.Hi && !eb.HiCensored:
		return fmt.Sprintf("%s kept the clusters LONGER than %s (%s vs %s steps, n = %s and %s; non-overlapping 95%% intervals)", a, b, sa, sb, na, nb)
	case eb.Lo > ea.Hi && !ea.HiCensored:
		return fmt.Sprintf("%s kept the clusters SHORTER than %s (%s vs %s steps, n = %s and %s; non-overlapping 95%% intervals)", a, b, sa, sb, na, nb)
	}
	return fmt.Sprintf("%s vs %s: no difference resolved (%s vs %s steps, n = %s and %s; overlapping 95%% intervals)", a, b, sa, sb, na, nb)
}
