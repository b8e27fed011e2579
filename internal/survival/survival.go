// Package survival treats times to an event as survival data with right censoring: the Kaplan–Meier
// product-limit estimator with Greenwood variances (KaplanMeier), the median survival time with a
// Brookmeyer–Crowley confidence interval (Median), and the helpers that turn a logged training statistic into
// one such observation, the time a transient ends (Persistence, PersistenceWindow), the two-sample log-rank
// test (LogRankTest), the stratified log-rank test for a trend in a covariate (TrendTest) and the stratified Cox
// proportional-hazards model with Efron's ties (Cox). It imports no GoMLX.
//
// Notation: t_1 < t_2 < … are the distinct event times; n_j is the number at risk just before t_j (times ≥ t_j),
// d_j the number of events at t_j. An observation censored at t_j is still at risk at t_j ("events before
// censorings at the same time", the usual convention).
//
//	Ŝ(t)        = Π_{t_j ≤ t} (1 − d_j/n_j)                          (Kaplan & Meier 1958)
//	Var Ŝ(t)    = Ŝ(t)² Σ_{t_j ≤ t} d_j/(n_j(n_j − d_j))             (Greenwood 1926)
//
// Ŝ is right-continuous: Ŝ(t) = 1 before t_1 and stays at its last value after the last event time.
package survival

import (
	"fmt"
	"math"
	"slices"
)

// Obs is one survival observation: the event happened at Time (Event = true), or the subject was last seen
// without it at Time (Event = false: right-censored at Time).
type Obs struct {
	Time  float64
	Event bool
}

// Curve is a Kaplan–Meier curve, one entry per distinct event time (censoring-only times add no entry).
// S[j] is Ŝ just after Times[j], AtRisk[j] = n_j, Events[j] = d_j, Var[j] the Greenwood variance of S[j].
type Curve struct {
	Times  []float64
	S      []float64
	AtRisk []int
	Events []int
	Var    []float64
}

// KaplanMeier returns the product-limit estimate of the survival function of obs (see the package comment).
// When every subject still at risk has the event (d_j = n_j), Ŝ drops to 0, Greenwood's term d_j/(n_j − d_j)
// is infinite, and Var is set to 0: Ŝ = 0 is then certain under the estimator. obs is not modified. It panics
// on a NaN or negative time.
func KaplanMeier(obs []Obs) Curve {
	sorted := slices.Clone(obs)
	for _, o := range sorted {
		if math.IsNaN(o.Time) || o.Time < 0 {
			panic(fmt.Sprintf("survival: KaplanMeier wants times ≥ 0, got %v", o.Time))
		}
	}
	slices.SortFunc(sorted, func(a, b Obs) int { return cmpFloat(a.Time, b.Time) })
	var c Curve
	s, sum := 1.0, 0.0
	for i := 0; i < len(sorted); {
		t, atRisk, d, k := sorted[i].Time, len(sorted)-i, 0, i
		for ; k < len(sorted) && sorted[k].Time == t; k++ {
			if sorted[k].Event {
				d++
			}
		}
		i = k
		if d == 0 {
			continue // censorings only: Ŝ does not move
		}
		s *= 1 - float64(d)/float64(atRisk)
		v := 0.0
		if d < atRisk {
			sum += float64(d) / (float64(atRisk) * float64(atRisk-d))
			v = s * s * sum
		} else {
			s = 0
		}
		c.Times, c.S, c.Var = append(c.Times, t), append(c.S, s), append(c.Var, v)
		c.AtRisk, c.Events = append(c.AtRisk, atRisk), append(c.Events, d)
	}
	return c
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// At returns Ŝ(t): 1 before the first event time, then the value at the last event time ≤ t.
func (c Curve) At(t float64) float64 {
	j, found := slices.BinarySearch(c.Times, t)
	if found {
		return c.S[j]
	}
	if j == 0 {
		return 1
	}
	return c.S[j-1]
}

// LogLogBand returns the pointwise confidence band of Ŝ at each event time, at the given level (0.95 for
// 95%), built on the log(−log) scale (Kalbfleisch & Prentice 1980; R survfit's conf.type = "log-log"):
//
//	θ = log(−log Ŝ),   se(θ) = √(Σ_{t_j ≤ t} d_j/(n_j(n_j − d_j))) / |log Ŝ|   (Greenwood, delta method)
//	lo = Ŝ^exp(+z·se(θ)),   hi = Ŝ^exp(−z·se(θ)),   z = Φ⁻¹((1 + level)/2)
//
// The band always lies in [0, 1]; where Ŝ = 0 it is [0, 0]. It panics unless 0 < level < 1.
func (c Curve) LogLogBand(level float64) (lo, hi []float64) {
	z := quantileZ("LogLogBand", level)
	lo, hi = make([]float64, len(c.S)), make([]float64, len(c.S))
	for j, s := range c.S {
		if s == 0 {
			continue
		}
		logS := math.Log(s)
		se := math.Sqrt(c.Var[j]) / (s * math.Abs(logS)) // √(Var/Ŝ²) is √Σ d/(n(n−d))
		lo[j] = math.Exp(logS * math.Exp(z*se))
		hi[j] = math.Exp(logS * math.Exp(-z*se))
	}
	return lo, hi
}

// quantileZ returns Φ⁻¹((1 + level)/2), the two-sided normal quantile (1.959964 for level 0.95).
func quantileZ(fn string, level float64) float64 {
	if !(level > 0 && level < 1) {
		panic(fmt.Sprintf("survival: %s wants 0 < level < 1, got %v", fn, level))
	}
	return math.Sqrt2 * math.Erfinv(level)
}

// Estimate is a median survival time with its confidence interval [Lo, Hi]. A median or upper limit that the
// data cannot reach is +Inf with MedianCensored or HiCensored set: it is only known to exceed MaxTime, the
// largest observed time, and is best reported as "> MaxTime".
type Estimate struct {
	N, Events      int
	Median, Lo, Hi float64
	MedianCensored bool
	HiCensored     bool
	MaxTime        float64
}

// String formats e as "median [lo, hi]", writing a censored value as ">MaxTime", e.g. "23 [13, >35]".
func (e Estimate) String() string {
	f := func(v float64, censored bool) string {
		if censored || math.IsInf(v, 1) {
			return fmt.Sprintf(">%.4g", e.MaxTime)
		}
		return fmt.Sprintf("%.4g", v)
	}
	return fmt.Sprintf("%s [%s, %s]", f(e.Median, e.MedianCensored), f(e.Lo, false), f(e.Hi, e.HiCensored))
}

// halfTol absorbs rounding in the product Ŝ, so that e.g. (3/4)(2/3) counts as reaching 0.5.
const halfTol = 1e-9

// Median returns the Kaplan–Meier median of obs and its Brookmeyer–Crowley confidence interval at the given
// level (Brookmeyer & Crowley 1982), with the log(−log) pointwise band of LogLogBand:
//
//	median = min{t_j : Ŝ(t_j) ≤ 1/2}
//	Lo     = min{t_j : lo(t_j) ≤ 1/2},   Hi = min{t_j : hi(t_j) ≤ 1/2}
//
// that is, the interval is the set of times where the pointwise band of Ŝ contains 1/2. These are the
// rules of R's quantile.survfit with conf.type = "log-log", except that R returns the midpoint of the flat
// stretch when Ŝ equals 1/2 exactly (an even number of events and no censoring); Median returns its left end,
// the smallest t with Ŝ(t) ≤ 1/2. A minimum over an empty set is +Inf: MedianCensored (Ŝ never reaches 1/2,
// "median > largest time") or HiCensored (the upper band never does). Lo is +Inf only with a censored median.
// With no observations, Median, Lo and Hi are NaN. It panics unless 0 < level < 1, or as KaplanMeier does.
func Median(obs []Obs, level float64) Estimate {
	quantileZ("Median", level)
	e := Estimate{N: len(obs), Median: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), MaxTime: math.NaN()}
	if len(obs) == 0 {
		return e
	}
	c := KaplanMeier(obs)
	e.MaxTime = math.Inf(-1)
	for _, o := range obs {
		e.MaxTime = max(e.MaxTime, o.Time)
	}
	for _, d := range c.Events {
		e.Events += d
	}
	lo, hi := c.LogLogBand(level)
	e.Median, e.MedianCensored = firstAtOrBelowHalf(c.Times, c.S)
	e.Lo, _ = firstAtOrBelowHalf(c.Times, lo)
	e.Hi, e.HiCensored = firstAtOrBelowHalf(c.Times, hi)
	return e
}

// firstAtOrBelowHalf returns min{times[j] : s[j] ≤ 1/2}, or +Inf and true when there is none.
func firstAtOrBelowHalf(times, s []float64) (float64, bool) {
	for j, v := range s {
		if v <= 0.5+halfTol {
			return times[j], false
		}
	}
	return math.Inf(1), true
}

// Persistence returns how long a transient lasts in a logged statistic, as a survival observation: the
// transient ends at the first logged step from which stat stays below threshold for the rest of the run,
//
//	i* = 1 + max{i : stat[i] ≥ threshold}   (i* = 0 when stat is below threshold from the start),
//
// an event at steps[i*]. A dip below threshold that climbs back to ≥ threshold later does not end it. If
// stat is still ≥ threshold at the final logged point, the run ended first: the observation is censored at
// lastStep, the run's final step (usually steps[len(steps)−1]). A NaN counts as below threshold (the
// comparison is false). It panics unless len(steps) = len(stat) ≥ 1, steps strictly increase and
// lastStep ≥ the last logged step.
func Persistence(steps []int, stat []float64, threshold float64, lastStep int) Obs {
	checkSeries("Persistence", steps, stat, lastStep)
	i := len(stat) - 1
	for ; i >= 0 && !(stat[i] >= threshold); i-- {
	}
	if i == len(stat)-1 {
		return Obs{Time: float64(lastStep)}
	}
	return Obs{Time: float64(steps[i+1]), Event: true}
}

// PersistenceWindow is Persistence for runs whose statistic is only trusted once it has stayed down for a
// while: the transient ends at the first logged step that starts a run of at least window consecutive logged
// points below threshold (an event there), whatever the statistic does afterwards. With no such run, including
// one cut short by the end of the log, the observation is censored at lastStep. window = 1 makes the first
// logged point below threshold the end. It panics unless window ≥ 1, or as Persistence does.
func PersistenceWindow(steps []int, stat []float64, threshold float64, window, lastStep int) Obs {
	checkSeries("PersistenceWindow", steps, stat, lastStep)
	if window < 1 {
		panic(fmt.Sprintf("survival: PersistenceWindow wants window ≥ 1, got %d", window))
	}
	run := 0 // consecutive points below threshold ending at i
	for i, v := range stat {
		if v >= threshold {
			run = 0
			continue
		}
		if run++; run == window {
			return Obs{Time: float64(steps[i-window+1]), Event: true}
		}
	}
	return Obs{Time: float64(lastStep)}
}

// checkSeries panics unless steps and stat form a non-empty log with strictly increasing steps that ends by
// lastStep.
func checkSeries(fn string, steps []int, stat []float64, lastStep int) {
	if len(steps) == 0 || len(steps) != len(stat) {
		panic(fmt.Sprintf("survival: %s wants len(steps) = len(stat) ≥ 1, got %d and %d", fn, len(steps), len(stat)))
	}
	for i := 1; i < len(steps); i++ {
		if steps[i] <= steps[i-1] {
			panic(fmt.Sprintf("survival: %s wants strictly increasing steps, got %d then %d", fn, steps[i-1], steps[i]))
		}
	}
	if last := steps[len(steps)-1]; lastStep < last {
		panic(fmt.Sprintf("survival: %s wants lastStep ≥ the last logged step %d, got %d", fn, last, lastStep))
	}
}
