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

// TestCommittedTraceDepthWidth: from the raw cells, the test recomputes each run's persistence (the window rule
// on its silhouette series), the gap at its event (its logged loss less the regular N-gon's), the Kaplan–Meier
// table on both clocks, the log-rank tests, the Cox models and trend tests, the equivalence tests, the event
// gaps' quantiles and the arc family's gap at the threshold, and checks every value of summary.json.
func TestCommittedTraceDepthWidth(t *testing.T) {
	const dir = "../results/depth-width"
	runTrace(t, dir, func() *trace { return traceDepthWidth(t, dir) })
}

func traceDepthWidth(t *testing.T, dir string) *trace {
	var c DepthWidthConfig
	readSettings(t, dir, &c)
	tr := newTrace()
	var done []dwCell
	for _, cl := range c.plan() {
		raw, err := os.ReadFile(filepath.Join(dir, "cells", cl.key()+".json"))
		if err != nil {
			continue
		}
		var d dwCell
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", cl.key(), err)
		}
		done = append(done, d)
	}
	total := len(c.plan())
	tr.count("cells/done", len(done))
	tr.count("cells/total", total)
	tr.count("cells/remaining", total-len(done))
	if len(done) == 0 {
		return tr
	}
	thr := done[0].Threshold
	// The threshold is halfway between 1 and the silhouette of the regular N-gon with contiguous clusters: the
	// last member of the arc family.
	w, sil, gap := arcFamily(c.Clusters, c.PerCluster, c.Temperature, arcPoints)
	if want := (1 + sil[len(sil)-1]) / 2; math.Abs(thr-want) > 1e-9 {
		tr.failf("the cells' threshold %.12g is not (1 + the regular N-gon's silhouette)/2 = %.12g", thr, want)
	}
	tr.num("threshold", thr, 0)
	lmin := lossOfRegularPolygon(c.Clusters*c.PerCluster, c.Temperature)
	type group struct {
		obs, gapObs     []survival.Obs
		never, diverged int
	}
	groups := map[dwGroup]*group{}
	var evGaps []float64
	for _, cl := range done {
		g := dwGroup{cl.Depth, cl.Width, cl.Scaling}
		if groups[g] == nil {
			groups[g] = &group{}
		}
		gr := groups[g]
		if cl.Diverged {
			gr.diverged++
		}
		last := c.Steps
		if cl.Diverged {
			last = cl.Steps[len(cl.Steps)-1]
		}
		o, never := windowRule(cl.Steps, cl.Silhouette, thr, c.Window, last)
		if o != cl.Persistence || never != cl.NeverVisible {
			tr.failf("%s: the cell stores persistence %+v (never %v), its silhouettes give %+v (never %v)", cl.key(), cl.Persistence, cl.NeverVisible, o, never)
		}
		if never {
			gr.never++
			continue
		}
		i := len(cl.Steps) - 1
		if o.Event {
			i = slices.Index(cl.Steps, int(o.Time))
		}
		gp := max(cl.Loss[i]-lmin, 1e-9)
		gr.obs = append(gr.obs, o)
		gr.gapObs = append(gr.gapObs, survival.Obs{Time: math.Log(gapRef / gp), Event: o.Event})
		if cl.Depth != 0 && o.Event {
			evGaps = append(evGaps, gp)
		}
	}
	for g, gr := range groups {
		k := g.key()
		tr.count("km/"+k+"/n", len(gr.obs))
		e := survival.Median(gr.obs, kmLevel)
		tr.count("km/"+k+"/events", e.Events)
		tr.count("km/"+k+"/diverged", gr.diverged)
		tr.count("km/"+k+"/never_visible", gr.never)
		if len(gr.obs) > 0 {
			tr.est("km/"+k, e)
			traceGapEst(tr, "gap/"+k, survival.Median(gr.gapObs, kmLevel))
		}
	}
	// Log-rank tests against the shallowest depth, and their count.
	var sooner, later, tests int
	for _, sc := range c.Scalings {
		for _, m := range c.Widths {
			base := groups[dwGroup{c.Depths[0], m, sc}]
			for _, l := range c.Depths[1:] {
				gr := groups[dwGroup{l, m, sc}]
				if base == nil || gr == nil || len(gr.obs) == 0 || len(base.obs) == 0 {
					continue
				}
				tests++
				r := survival.LogRankTest(gr.obs, base.obs)
				k := fmt.Sprintf("logrank/%s-m%d-L%d", sc, m, l)
				tr.count(k+"/n", len(gr.obs))
				tr.count(k+"/n_base", len(base.obs))
				tr.num(k+"/obs", r.ObsA, 0)
				tr.num(k+"/exp", r.ExpA, 1e-9)
				tr.num(k+"/obs_base", r.ObsB, 0)
				tr.num(k+"/exp_base", r.ExpB, 1e-9)
				tr.num(k+"/chi2", r.Chi2, 1e-9)
				tr.num(k+"/p", r.P, 1e-12)
				switch {
				case math.IsNaN(r.HazardRatio):
					tr.text(k+"/hr", "– (no overlap in time: nothing to compare)")
				case math.IsInf(r.HazardRatio, 1):
					tr.text(k+"/hr", "∞ (no event at the shallower depth)")
				default:
					tr.num(k+"/hr", r.HazardRatio, 1e-9)
				}
				e := equivalenceTest(gr.gapObs, base.gapObs, uint64(1000*l+m))
				traceEquivalence(tr, fmt.Sprintf("equiv/%s-m%d-L%d", sc, m, l), e, len(gr.gapObs), len(base.gapObs))
			}
		}
	}
	alpha := 0.05 / float64(tests)
	counts := map[string]map[string]int{}
	for _, sc := range c.Scalings {
		counts[sc] = map[string]int{}
		for _, m := range c.Widths {
			base := groups[dwGroup{c.Depths[0], m, sc}]
			for _, l := range c.Depths[1:] {
				gr := groups[dwGroup{l, m, sc}]
				if base == nil || gr == nil || len(gr.obs) == 0 || len(base.obs) == 0 {
					continue
				}
				r := survival.LogRankTest(gr.obs, base.obs)
				if r.P < alpha && r.HazardRatio > 1 {
					sooner++
				} else if r.P < alpha {
					later++
				}
				counts[sc][equivalenceTest(gr.gapObs, base.gapObs, uint64(1000*l+m)).Verdict()]++
			}
		}
		cn := counts[sc]
		tr.count("equiv/"+sc+"/equivalent", cn["equivalent"])
		tr.count("equiv/"+sc+"/different", cn["different"])
		tr.count("equiv/"+sc+"/inconclusive", cn["inconclusive"])
		tr.count("equiv/"+sc+"/not_testable", cn["not testable"])
		tr.count("equiv/"+sc+"/tested", cn["equivalent"]+cn["different"]+cn["inconclusive"])
	}
	tr.count("logrank/tests", tests)
	tr.count("logrank/sooner", sooner)
	tr.count("logrank/later", later)
	// Cox models and trend tests, one per parameterisation and clock.
	for _, clock := range []string{"steps", "gap"} {
		for _, sc := range c.Scalings {
			var ss []survival.Subject
			for _, m := range c.Widths {
				for _, l := range c.Depths {
					gr := groups[dwGroup{l, m, sc}]
					if gr == nil {
						continue
					}
					obs := gr.obs
					if clock == "gap" {
						obs = gr.gapObs
					}
					for _, o := range obs {
						ss = append(ss, survival.Subject{Obs: o, X: []float64{math.Log2(float64(l))}, Stratum: fmt.Sprint(m)})
					}
				}
			}
			k := "cox_" + clock + "/" + sc
			f, err := survival.Cox(ss)
			tt := survival.TrendTest(ss)
			tr.count(k+"/runs", len(ss))
			tr.count(k+"/events", tt.Events)
			if err != nil || f.Infinite {
				tr.num(k+"/score_p", tt.P, 1e-12)
				if err == nil {
					tr.num(k+"/trend_chi2", tt.Chi2, 1e-9)
					tr.count(k+"/beta_sign", int(math.Copysign(1, f.Beta[0])))
				}
				continue
			}
			b, se := f.Beta[0], f.SE[0]
			tr.num(k+"/hr", math.Exp(b), 1e-9)
			tr.num(k+"/hr_lo", math.Exp(b-1.959964*se), 1e-9)
			tr.num(k+"/hr_hi", math.Exp(b+1.959964*se), 1e-9)
			tr.num(k+"/trend_chi2", tt.Chi2, 1e-9)
			tr.num(k+"/trend_p", tt.P, 1e-12)
		}
	}
	// The event gaps and the arc family.
	slices.Sort(evGaps)
	q := func(p float64) float64 {
		return evGaps[min(max(int(math.Ceil(p*float64(len(evGaps))))-1, 0), len(evGaps)-1)]
	}
	tr.count("events/n", len(evGaps))
	tr.num("events/gap_p5", q(0.05), 0)
	tr.num("events/gap_median", q(0.5), 0)
	tr.num("events/gap_p95", q(0.95), 0)
	tr.num("events/gap_p95_over_p5", q(0.95)/q(0.05), 1e-12)
	gStar, wStar := gapAtSilhouette(w, sil, gap, thr)
	near := 0
	for _, g := range evGaps {
		if g >= gStar/1.5 && g <= gStar*1.5 {
			near++
		}
	}
	tr.num("arc/gap_at_threshold", gStar, 1e-12)
	tr.num("arc/arc_deg", 2*wStar*180/math.Pi, 1e-9)
	tr.num("arc/between_deg", 360/float64(c.Clusters)-2*wStar*180/math.Pi, 1e-9)
	tr.count("arc/events_near", near)
	tr.num("arc/events_near_pct", 100*float64(near)/float64(len(evGaps)), 1e-9)
	return tr
}

// traceGapEst expects gapEstString's values of an estimate on the gap clock.
func traceGapEst(tr *trace, name string, e survival.Estimate) {
	g := func(key string, u float64, censored bool) {
		if censored || math.IsInf(u, 1) {
			tr.text(name+"/"+key, fmt.Sprintf("<%.2g", gapRef*math.Exp(-e.MaxTime)))
			return
		}
		tr.num(name+"/"+key, gapRef*math.Exp(-u), 1e-12)
	}
	g("median", e.Median, e.MedianCensored)
	g("lo", e.Hi, e.HiCensored)
	g("hi", e.Lo, false)
}

// traceEquivalence expects the values of one equivalence test.
func traceEquivalence(tr *trace, name string, e equivalence, n, nBase int) {
	tr.count(name+"/n", n)
	tr.count(name+"/n_base", nBase)
	if !e.Testable {
		return
	}
	tr.num(name+"/delta", e.Delta, 1e-12)
	tr.num(name+"/ratio", math.Exp(e.Delta), 1e-12)
	for _, b := range []struct {
		key string
		x   float64
	}{{"lo", e.Lo}, {"hi", e.Hi}} {
		switch {
		case math.IsInf(b.x, 1):
			tr.text(name+"/"+b.key, "+∞")
		case math.IsInf(b.x, -1):
			tr.text(name+"/"+b.key, "−∞")
		default:
			tr.num(name+"/"+b.key, b.x, 1e-12)
		}
	}
}
