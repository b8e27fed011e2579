package experiments

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// The traces of the persistence sweeps (sweep.go): each cell's outcomes are recomputed here from its stored
// series with the test's own rules (windowRule, the cumulative effective step summed again, clusters created),
// then grouped, estimated and modelled as the summary says.

// tOut is a cell's outcomes as the test recomputes them.
type tOut struct {
	cl          sweepCell
	steps, effS survival.Obs
	never       bool
	below, made bool
	eff0        float64
}

func traceOutcome(b sweepBase, cl sweepCell, thr float64) tOut {
	if math.IsNaN(thr) {
		thr = cl.Threshold
	}
	var sil []float64
	for _, x := range cl.Silhouette {
		sil = append(sil, float64(x))
	}
	last := b.Steps
	if cl.Diverged {
		last = cl.Steps[len(cl.Steps)-1]
	}
	o := tOut{cl: cl, eff0: float64(cl.EffStep[0])}
	o.steps, o.never = windowRule(cl.Steps, sil, thr, b.Window, last)
	if !o.never {
		// S at the event (or at the last logged step): each logged step's e held to the next logged step.
		var s float64
		for j := 1; j < len(cl.Steps) && (cl.Steps[j-1] < int(o.steps.Time) || !o.steps.Event); j++ {
			if e := float64(cl.EffStep[j-1]); !math.IsNaN(e) {
				s += e * float64(cl.Steps[j]-cl.Steps[j-1])
			}
		}
		o.effS = survival.Obs{Time: s, Event: o.steps.Event}
	}
	if sil[0] < thr {
		o.below = true
		o.made = slices.ContainsFunc(sil, func(x float64) bool { return x >= thr })
	}
	return o
}

// readSweep reads the stored cells of a sweep in the order of plan.
func readSweep(t *testing.T, dir string, plan []sweepSpec) []sweepCell {
	var out []sweepCell
	for _, s := range plan {
		raw, err := os.ReadFile(filepath.Join(dir, "cells", s.key()+".json"))
		if err != nil {
			continue
		}
		var cl sweepCell
		if err := json.Unmarshal(raw, &cl); err != nil {
			t.Fatal(err)
		}
		out = append(out, cl)
	}
	return out
}

// traceGroup expects kmTable's values of one group.
func traceGroup(tr *trace, name string, outs []tOut, eff bool) {
	var obs, effObs []survival.Obs
	var never, div int
	var e0 []float64
	for _, o := range outs {
		if o.cl.Diverged {
			div++
		}
		e0 = append(e0, o.eff0)
		if o.never {
			never++
			continue
		}
		obs, effObs = append(obs, o.steps), append(effObs, o.effS)
	}
	tr.group("km/"+name, obs, never, div)
	if eff {
		slices.Sort(e0)
		med := e0[len(e0)/2]
		if len(e0)%2 == 0 {
			med = (e0[len(e0)/2-1] + e0[len(e0)/2]) / 2
		}
		tr.num("eff0/"+name, med, 0)
		switch len(effObs) {
		case 0:
		case 1:
			tr.obs("km_eff/"+name+"/only", effObs[0], false)
		default:
			tr.est("km_eff/"+name, survival.Median(effObs, kmLevel))
		}
	}
}

// traceCox expects coxOf's values of a one-covariate model and returns the score (trend) test's p (NaN: no runs).
func traceCox(tr *trace, name string, outs []tOut, cov func(tOut) float64, stratum func(tOut) string, eff bool) float64 {
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
		ss = append(ss, survival.Subject{Obs: x, X: []float64{cov(o)}, Stratum: stratum(o)})
		strata[stratum(o)] = true
	}
	if len(ss) == 0 {
		return math.NaN()
	}
	tr.count(name+"/strata", len(strata))
	f, err := survival.Cox(ss)
	tt := survival.TrendTest(ss)
	tr.count(name+"/runs", len(ss))
	tr.count(name+"/events", tt.Events)
	if err != nil || f.Infinite {
		tr.num(name+"/score_p", tt.P, 1e-12)
		if err == nil {
			tr.num(name+"/trend_chi2", tt.Chi2, 1e-9)
			tr.count(name+"/beta_sign", int(math.Copysign(1, f.Beta[0])))
		}
		return tt.P
	}
	b, se := f.Beta[0], f.SE[0]
	tr.num(name+"/hr", math.Exp(b), 1e-9)
	tr.num(name+"/hr_lo", math.Exp(b-1.959964*se), 1e-9)
	tr.num(name+"/hr_hi", math.Exp(b+1.959964*se), 1e-9)
	tr.num(name+"/trend_chi2", tt.Chi2, 1e-9)
	tr.num(name+"/trend_p", tt.P, 1e-12)
	return tt.P
}

func traceCells(tr *trace, cells []sweepCell, total int) {
	done := len(cells)
	tr.count("cells/done", done)
	tr.count("cells/total", total)
	tr.count("cells/remaining", total-done)
	if done > 0 && done < total {
		var s float64
		for _, c := range cells {
			s += c.Seconds
		}
		tr.num("cells/mean_seconds", s/float64(done), 1e-9)
		tr.num("cells/remaining_hours", s/float64(done)*float64(total-done)/3600, 1e-9)
	}
}

// TestCommittedTraceEffectiveStep: every group's Kaplan–Meier values on both clocks and its median e at step 0,
// and the two stratified Cox models, from the raw cells.
func TestCommittedTraceEffectiveStep(t *testing.T) {
	const dir = "../results/effective-step"
	runTrace(t, dir, func() *trace {
		var c EffectiveStepConfig
		readSettings(t, dir, &c)
		plan := c.plan()
		done := readSweep(t, dir, plan)
		tr := newTrace()
		traceCells(tr, done, len(plan))
		var all []tOut
		for _, r := range c.rules() {
			for _, sc := range c.Scalings {
				for _, l := range c.Depths {
					var outs []tOut
					for _, cl := range done {
						if cl.Depth == l && cl.Scaling == sc && cl.Rule == r.Rule && cl.LR == r.LR {
							outs = append(outs, traceOutcome(c.sweepBase, cl, math.NaN()))
						}
					}
					if len(outs) > 0 {
						traceGroup(tr, fmt.Sprintf("%s-%s-L%d", ruleName(r), sc, l), outs, true)
						all = append(all, outs...)
					}
				}
			}
		}
		if len(all) == 0 {
			return tr
		}
		cov := func(o tOut) float64 { return math.Log2(float64(o.cl.Depth)) }
		stratum := func(o tOut) string { return o.cl.Scaling + "|" + ruleName(o.cl.sweepSpec) }
		traceCox(tr, "cox_eff", all, cov, stratum, true)
		traceCox(tr, "cox_steps", all, cov, stratum, false)
		var norm []tOut
		for _, o := range all {
			if o.cl.Rule == "normalised" {
				norm = append(norm, o)
			}
		}
		byScaling := func(o tOut) string { return o.cl.Scaling }
		// Strata whose KM medians on S fall strictly with depth.
		falling, strata := 0, 0
		for _, r := range c.rules() {
			for _, sc := range c.Scalings {
				var ms []float64
				for _, l := range c.Depths {
					var obs []survival.Obs
					for _, o := range all {
						if o.cl.Depth == l && o.cl.Scaling == sc && o.cl.Rule == r.Rule && o.cl.LR == r.LR && !o.never {
							obs = append(obs, o.effS)
						}
					}
					if len(obs) > 0 {
						ms = append(ms, survival.Median(obs, kmLevel).Median)
					}
				}
				if len(ms) != len(c.Depths) {
					continue
				}
				strata++
				down := true
				for i := 1; i < len(ms); i++ {
					down = down && ms[i] < ms[i-1]
				}
				if down {
					falling++
				}
			}
		}
		tr.count("monotone/falling", falling)
		tr.count("monotone/strata", strata)
		traceCox(tr, "cox_norm_steps", norm, cov, byScaling, false)
		traceCox(tr, "cox_norm_eff", norm, cov, byScaling, true)
		byRule := func(o tOut) string { return ruleName(o.cl.sweepSpec) }
		for _, sc := range c.Scalings {
			var mine []tOut
			for _, o := range all {
				if o.cl.Scaling == sc {
					mine = append(mine, o)
				}
			}
			traceCox(tr, "cox_eff/"+sc, mine, cov, byRule, true)
			traceCox(tr, "cox_steps/"+sc, mine, cov, byRule, false)
		}
		if len(c.Scalings) == 2 { // depth × parameterisation on S: the second coefficient, exp(β₂) and its Wald interval
			var ss []survival.Subject
			for _, o := range all {
				if o.never {
					continue
				}
				l, ind := math.Log2(float64(o.cl.Depth)), 0.0
				if o.cl.Scaling == c.Scalings[1] {
					ind = 1
				}
				ss = append(ss, survival.Subject{Obs: o.effS, X: []float64{l, l * ind}, Stratum: stratum(o)})
			}
			tr.count("interaction_eff/runs", len(ss))
			if f, err := survival.Cox(ss); err == nil && !f.Infinite {
				tr.num("interaction_eff/ratio", math.Exp(f.Beta[1]), 1e-9)
				tr.num("interaction_eff/ratio_lo", math.Exp(f.Beta[1]-1.959964*f.SE[1]), 1e-9)
				tr.num("interaction_eff/ratio_hi", math.Exp(f.Beta[1]+1.959964*f.SE[1]), 1e-9)
				tr.num("interaction_eff/p", f.P[1], 1e-12)
			}
		}
		return tr
	})
}

// traceFactor is the trace of a factor sweep.
func traceFactor(t *testing.T, factor string) {
	dir := "../results/" + factor
	runTrace(t, dir, func() *trace {
		c := FactorConfig{factor: factor}
		readSettings(t, dir, &c)
		plan := c.plan()
		done := readSweep(t, dir, plan)
		tr := newTrace()
		traceCells(tr, done, len(plan))
		levels := c.levels()
		byLevel := map[int]map[int][]tOut{}
		for li, lv := range levels {
			byLevel[li] = map[int][]tOut{}
			for _, d := range c.Methods {
				var outs []tOut
				below, made := 0, 0
				for _, cl := range done {
					if cl.Depth == d && levelHolds(lv, cl.sweepSpec) {
						o := traceOutcome(c.sweepBase, cl, math.NaN())
						outs = append(outs, o)
						if o.below {
							below++
							if o.made {
								made++
							}
						}
					}
				}
				if len(outs) == 0 {
					continue
				}
				name := fmt.Sprintf("%s-%s", lv.name, methodName(d))
				traceGroup(tr, name, outs, true)
				tr.count("created/"+name+"/runs", len(outs))
				tr.count("created/"+name+"/below", below)
				tr.count("created/"+name+"/made", made)
				byLevel[li][d] = outs
			}
		}
		if len(done) == 0 {
			return tr
		}
		none := func(tOut) string { return "" }
		var ps []float64 // every test's score p, for the Bonferroni count
		for _, d := range c.Methods {
			m := methodName(d)
			if factor == "temperature" {
				var all []tOut
				for li := range levels {
					all = append(all, byLevel[li][d]...)
				}
				ps = append(ps, traceCox(tr, "cox/"+m, all, func(o tOut) float64 { return math.Log2(o.cl.Temperature) }, none, false))
				traceCox(tr, "cox_eff/"+m, all, func(o tOut) float64 { return math.Log2(o.cl.Temperature) }, none, true)
				continue
			}
			for li := 1; li < len(levels); li++ {
				pair := append(append([]tOut{}, byLevel[0][d]...), byLevel[li][d]...)
				ps = append(ps, traceCox(tr, fmt.Sprintf("cox/%s-%s", m, levels[li].name), pair, func(o tOut) float64 {
					if levelHolds(levels[li], o.cl.sweepSpec) {
						return 1
					}
					return 0
				}, none, false))
			}
		}
		if len(ps) > 1 {
			pass := 0
			for _, p := range ps {
				if p < 0.05/float64(len(ps)) {
					pass++
				}
			}
			tr.count("tests/count", len(ps))
			tr.count("tests/bonferroni", pass)
		}
		return tr
	})
}

func TestCommittedTraceTemperature(t *testing.T) { traceFactor(t, "temperature") }
func TestCommittedTraceKernel(t *testing.T)      { traceFactor(t, "kernel") }
func TestCommittedTraceUnequal(t *testing.T)     { traceFactor(t, "unequal") }

// TestCommittedTraceFullLength: the end of every run and, at every threshold, each group's Kaplan–Meier values
// and each parameterisation's Cox model, from the raw cells.
func TestCommittedTraceFullLength(t *testing.T) {
	const dir = "../results/full-length"
	runTrace(t, dir, func() *trace {
		var c FullLengthConfig
		readSettings(t, dir, &c)
		plan := c.plan()
		done := readSweep(t, dir, plan)
		tr := newTrace()
		traceCells(tr, done, len(plan))
		if len(done) == 0 {
			return tr
		}
		d, err := sweepData(c.sweepBase, plan[0])
		if err != nil {
			t.Fatal(err)
		}
		lmin := lossOfRegularPolygon(d.N, c.Temperature)
		tr.num("trivial_silhouette", TrivialSilhouette(d.Labels, d.K, 2), 1e-12)
		for _, sc := range c.Scalings {
			for _, l := range c.Depths {
				var sil, gap []float64
				for _, cl := range done {
					if cl.Depth == l && cl.Scaling == sc {
						n := len(cl.Steps) - 1
						sil, gap = append(sil, float64(cl.Silhouette[n])), append(gap, float64(cl.Loss[n])-lmin)
					}
				}
				if len(sil) > 0 {
					k := fmt.Sprintf("end/%s-L%d", sc, l)
					tr.count(k+"/n", len(sil))
					at := 0
					for _, g := range gap {
						if g < 1e-3 {
							at++
						}
					}
					tr.count(k+"/at_ngon", at)
					tr.rangeOf(k+"/silhouette", sil, 0)
					tr.rangeOf(k+"/loss_gap", gap, 1e-12)
				}
			}
		}
		dirs, fits := map[string]int{}, 0
		for _, thr := range c.Thresholds {
			for _, sc := range c.Scalings {
				var mine []tOut
				for _, l := range c.Depths {
					var outs []tOut
					for _, cl := range done {
						if cl.Depth == l && cl.Scaling == sc {
							outs = append(outs, traceOutcome(c.sweepBase, cl, thr))
						}
					}
					if len(outs) > 0 {
						traceGroup(tr, fmt.Sprintf("thr%g-%s-L%d", thr, sc, l), outs, false)
						mine = append(mine, outs...)
					}
				}
				depth := func(o tOut) float64 { return math.Log2(float64(o.cl.Depth)) }
				traceCox(tr, fmt.Sprintf("cox/thr%g-%s", thr, sc), mine, depth, func(tOut) string { return "" }, false)
				dirs[traceDirection(mine, depth)]++
				fits++
			}
		}
		tr.count("direction/fits", fits)
		for _, d := range []string{"sooner", "later", "unresolved", "none"} {
			tr.count("direction/"+d, dirs[d])
		}
		return tr
	})
}

// traceDirection is the direction of a one-covariate Cox fit on steps: "sooner"/"later" where its 95% Wald interval
// excludes 1, or where the likelihood is monotone and the trend test has p < 0.05; "unresolved" where the interval
// holds 1, "none" where there is no fit or a monotone likelihood whose trend is not resolved.
func traceDirection(outs []tOut, cov func(tOut) float64) string {
	var ss []survival.Subject
	for _, o := range outs {
		if !o.never {
			ss = append(ss, survival.Subject{Obs: o.steps, X: []float64{cov(o)}})
		}
	}
	if len(ss) == 0 {
		return "none"
	}
	f, err := survival.Cox(ss)
	switch {
	case err != nil:
		return "none"
	case f.Infinite:
		if survival.TrendTest(ss).P >= 0.05 {
			return "none" // no finite estimate and no resolved trend: coxDirection counts it so
		}
		if f.Beta[0] > 0 {
			return "sooner"
		}
		return "later"
	case f.Beta[0]-1.959964*f.SE[0] > 0:
		return "sooner"
	case f.Beta[0]+1.959964*f.SE[0] < 0:
		return "later"
	}
	return "unresolved"
}
