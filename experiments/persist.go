package experiments

import (
	"fmt"
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

// kmRow formats one group as a markdown table row: how many runs, how many never had visible clusters, then n
// (the runs in the estimate), events, censored runs, divergences and the KM median with its interval; a median
// or bound past the end of the runs reads ">T"; a group with n = 1 shows its one time without an interval, and
// one with n = 0 has no median ("–").
func kmRow(name string, g persistGroup) []string {
	e := g.estimate()
	med := "–"
	switch {
	case e.N == 1: // one run: its time, no interval
		med = obsString(g.obs[0], false) + " (n = 1: no interval)"
	case e.N > 1:
		med = e.String()
	}
	return []string{name, fmt.Sprint(e.N + g.never), fmt.Sprint(g.never), fmt.Sprint(e.N), fmt.Sprint(e.Events),
		fmt.Sprint(e.N - e.Events), fmt.Sprint(g.diverged), med}
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

// kmCompare words the comparison of two groups' KM medians: different only where the 95% intervals do not overlap.
func kmCompare(a, b string, ga, gb persistGroup) string {
	ea, eb := ga.estimate(), gb.estimate()
	switch {
	case ea.N < 2 || eb.N < 2:
		return fmt.Sprintf("%s vs %s: not comparable (n = %d and %d runs with visible clusters; an interval needs n ≥ 2)", a, b, ea.N, eb.N)
	case ea.Lo > eb.Hi && !eb.HiCensored:
		return fmt.Sprintf("%s kept the clusters LONGER than %s (%s vs %s steps, n = %d and %d; non-overlapping 95%% intervals)", a, b, ea, eb, ea.N, eb.N)
	case eb.Lo > ea.Hi && !ea.HiCensored:
		return fmt.Sprintf("%s kept the clusters SHORTER than %s (%s vs %s steps, n = %d and %d; non-overlapping 95%% intervals)", a, b, ea, eb, ea.N, eb.N)
	}
	return fmt.Sprintf("%s vs %s: no difference resolved (%s vs %s steps, n = %d and %d; overlapping 95%% intervals)", a, b, ea, eb, ea.N, eb.N)
}

// obsString formats a persistence observation: its step, ">T" when censored, "never visible" when never.
func obsString(o survival.Obs, never bool) string {
	switch {
	case never:
		return "never visible"
	case !o.Event:
		return fmt.Sprintf(">%.0f", o.Time)
	}
	return fmt.Sprintf("%.0f", o.Time)
}
