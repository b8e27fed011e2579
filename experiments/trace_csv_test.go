package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The traces of the experiments whose raw files are CSV: particle-vs-network, ntk, mean-field and loss-landscape.
// The first three compute their summaries from the CSV files they wrote (as --report-only does), so their values
// must match the CSV recomputation to rounding; loss-landscape computes its summary before the CSV's rounding to
// 6 significant digits, so its values are checked to that rounding, and the two it states finer than that are
// exempt.

// csvOf reads a raw CSV of dir as rows by column name.
func csvOf(t *testing.T, dir, file string) []map[string]string {
	t.Helper()
	rows, err := csvRows(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// ntkDrift is one cell and seed of drift.csv: its first and last logged rows.
type ntkDrift struct{ first, last map[string]string }

// readDrift groups drift.csv by scaling|depth|width, then seed (in order).
func readDrift(t *testing.T, dir string) map[string][]ntkDrift {
	out := map[string][]ntkDrift{}
	seedOf := map[string]string{}
	for _, r := range csvOf(t, dir, "drift.csv") {
		k := r["scaling"] + "|" + r["depth"] + "|" + r["width"]
		rs := out[k]
		if len(rs) == 0 || seedOf[k] != r["seed"] {
			rs = append(rs, ntkDrift{first: r})
			seedOf[k] = r["seed"]
		}
		rs[len(rs)-1].last = r
		out[k] = rs
	}
	return out
}

// traceDrift expects driftRows's values and the slopes from drift.csv.
func traceDrift(tr *trace, drift map[string][]ntkDrift, widths []int) map[string]float64 {
	col := func(rs []ntkDrift, row func(ntkDrift) map[string]string, name string) []float64 {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, csvFloat(row(r)[name]))
		}
		return xs
	}
	first := func(r ntkDrift) map[string]string { return r.first }
	last := func(r ntkDrift) map[string]string { return r.last }
	means := map[string]float64{}
	for _, s := range []string{"ntk", "mean-field"} {
		for _, m := range widths {
			rs := drift[fmt.Sprintf("%s|1|%d", s, m)]
			k := fmt.Sprintf("%s-m%d", s, m)
			d, a := col(rs, last, "scale_free_drift"), col(rs, last, "alignment")
			var rho, rel []float64
			for i, r := range rs {
				p := csvFloat(r.last["theta_norm"]) / csvFloat(r.first["theta_norm"])
				rho = append(rho, p)
				rel = append(rel, math.Sqrt(max(0, p*p+1-2*p*a[i])))
			}
			tr.meanSD("drift/"+k, d, 0)
			tr.meanSD("align/"+k, a, 0)
			tr.meanSD("norm_ratio/"+k, rho, 1e-12)
			tr.meanSD("out_norm0/"+k, col(rs, first, "out_norm"), 0)
			tr.meanSD("out_norm/"+k, col(rs, last, "out_norm"), 0)
			tr.meanSD("rel_drift/"+k, rel, 1e-12)
			means[k], _ = meanStd(d)
		}
		lo, hi := widths[0], widths[len(widths)-1]
		tr.num("slope/"+s, math.Log(means[fmt.Sprintf("%s-m%d", s, hi)]/means[fmt.Sprintf("%s-m%d", s, lo)])/math.Log(float64(hi)/float64(lo)), 1e-12)
		// Least squares of log D on log m over every run, with its 95% t interval.
		var x, y []float64
		for _, m := range widths {
			for _, d := range col(drift[fmt.Sprintf("%s|1|%d", s, m)], last, "scale_free_drift") {
				x, y = append(x, math.Log(float64(m))), append(y, math.Log(d))
			}
		}
		b, bl, bh := olsSlope(x, y)
		tr.num("slope_ols/"+s, b, 1e-12)
		tr.num("slope_ols/"+s+"/lo", bl, 1e-12)
		tr.num("slope_ols/"+s+"/hi", bh, 1e-12)
		tr.count("slope_ols/"+s+"/runs", len(x))
	}
	return means
}

// TestCommittedTraceNTK: drift.csv gives the width table (means and SDs of the last logged step, the scale and
// ‖Θ_t − Θ_0‖/‖Θ_0‖ from the norms and the alignment), the slopes and the verdict's drifts; locality.csv the
// locality table and verdict; velocity.csv and pairs.csv the 6(c) correlations, errors and sign counts.
func TestCommittedTraceNTK(t *testing.T) {
	const dir = "../results/ntk"
	runTrace(t, dir, func() *trace {
		var c NTKConfig
		readSettings(t, dir, &c)
		tr := newTrace()
		means := traceDrift(tr, readDrift(t, dir), c.Widths)
		hi := c.Widths[len(c.Widths)-1]
		tr.num(fmt.Sprintf("drift/ntk-m%d/mean3", hi), means[fmt.Sprintf("ntk-m%d", hi)], 0)
		tr.num(fmt.Sprintf("drift/mean-field-m%d/mean3", hi), means[fmt.Sprintf("mean-field-m%d", hi)], 0)
		loc := map[string][]float64{}
		for _, r := range csvOf(t, dir, "locality.csv") {
			if r["scaling"] != "ntk" || atoi(r["width"]) != c.DepthWidth {
				continue
			}
			for _, what := range []string{"within", "self", "ratio"} {
				k := fmt.Sprintf("locality/L%s/%s/%s", r["depth"], what, r["when"])
				loc[k] = append(loc[k], csvFloat(r[what]))
			}
		}
		for k, xs := range loc {
			tr.meanSD(k, xs, 0)
			if !strings.Contains(k, "/ratio/") {
				m, _ := meanStd(xs)
				tr.num(k+"/mean3", m, 0)
			}
		}
		// Only the first and last depths' within and self shares are in the verdict.
		for k := range loc {
			l := atoi(strings.TrimPrefix(strings.Split(k, "/")[1], "L"))
			if l != c.Depths[0] && l != c.Depths[len(c.Depths)-1] {
				delete(tr.exp, k+"/mean3")
			}
		}
		traceVelocity(t, tr, dir, c)
		return tr
	})
}

// traceVelocity expects the 6(c) table and verdict from velocity.csv and pairs.csv.
func traceVelocity(t *testing.T, tr *trace, dir string, c NTKConfig) {
	type key struct{ cell, when string }
	type part struct {
		meas []float64
		pred [4][]float64
	}
	vel, pairs := map[key]map[string]*part{}, map[key]map[string]*part{}
	var order []key
	for _, f := range []struct {
		file string
		into map[key]map[string]*part
	}{{"velocity.csv", vel}, {"pairs.csv", pairs}} {
		for _, r := range csvOf(t, dir, f.file) {
			k := key{fmt.Sprintf("%s-L%s-m%s", r["scaling"], r["depth"], r["width"]), r["when"]}
			if f.into[k] == nil {
				f.into[k] = map[string]*part{}
				if f.file == "velocity.csv" {
					order = append(order, k)
				}
			}
			p := f.into[k][r["seed"]]
			if p == nil {
				p = &part{}
				f.into[k][r["seed"]] = p
			}
			p.meas = append(p.meas, csvFloat(r["measured"]))
			for i, name := range predNames {
				p.pred[i] = append(p.pred[i], csvFloat(r[name]))
			}
		}
	}
	seeds := func(m map[string]*part) []string {
		var s []string
		for k := range m {
			s = append(s, k)
		}
		slices.SortFunc(s, func(a, b string) int { return atoi(a) - atoi(b) })
		return s
	}
	var total int
	var agree [4]int
	var corr [4][]float64
	for _, k := range order {
		name := "velocity/" + k.cell + "/" + k.when
		var meas []float64
		var pred [4][]float64
		var errs [4][]float64
		for _, s := range seeds(vel[k]) {
			p := vel[k][s]
			meas = append(meas, p.meas...)
			for i := range 4 {
				pred[i] = append(pred[i], p.pred[i]...)
				errs[i] = append(errs[i], relErr(p.pred[i], p.meas))
			}
		}
		for i := 1; i < 4; i++ {
			r := pearson(pred[i], meas)
			corr[i] = append(corr[i], r)
			tr.num(name+"/r_"+predNames[i], r, 1e-12)
		}
		tr.meanSD(name+"/error_block", errs[1], 1e-12)
		tr.meanSD(name+"/error_own", errs[2], 1e-12)
		tr.meanSD(name+"/error_full", errs[0], 1e-12)
		var ag [4]int
		np := 0
		for _, s := range seeds(pairs[k]) {
			p := pairs[k][s]
			for i := range 4 {
				for q := range p.meas {
					if (p.pred[i][q] < 0) == (p.meas[q] < 0) {
						ag[i]++
					}
				}
			}
			np += len(p.meas)
		}
		for i := range 4 {
			tr.count(name+"/signs_"+predNames[i], ag[i])
			agree[i] += ag[i]
		}
		tr.count(name+"/pairs", np)
		total += np
	}
	med := func(x []float64) float64 { x = slices.Clone(x); slices.Sort(x); return x[len(x)/2] }
	tr.count("velocity/pairs", total)
	tr.count("velocity/cell_times", len(order))
	for i, name := range predNames {
		tr.count("velocity/signs_"+name, agree[i])
		if i > 0 {
			tr.num("velocity/median_r_"+name, med(corr[i]), 1e-12)
		}
	}
}

// TestCommittedTraceMeanField: drift.csv gives the width table, the slopes and the verdict's drifts and ratio.
func TestCommittedTraceMeanField(t *testing.T) {
	const dir = "../results/mean-field"
	runTrace(t, dir, func() *trace {
		var c MeanFieldConfig
		readSettings(t, dir, &c)
		tr := newTrace()
		means := traceDrift(tr, readDrift(t, dir), c.Widths)
		hi := c.Widths[len(c.Widths)-1]
		a, b := means[fmt.Sprintf("ntk-m%d", hi)], means[fmt.Sprintf("mean-field-m%d", hi)]
		tr.num(fmt.Sprintf("drift/ntk-m%d/mean3", hi), a, 0)
		tr.num(fmt.Sprintf("drift/mean-field-m%d/mean3", hi), b, 0)
		tr.num("drift/ratio_largest", b/a, 1e-12)
		return tr
	})
}

// TestCommittedTraceLossLandscape: landscape.csv gives every row of the table, the minima per data set, k and τ,
// the worst differences from the closed forms and the range of the collapse cost, to the CSV's rounding.
func TestCommittedTraceLossLandscape(t *testing.T) {
	const dir = "../results/loss-landscape"
	runTrace(t, dir, func() *trace {
		tr := newTrace()
		tr.exempt["minima_gap"] = "the two data sets' minima differ by ~1e-10, finer than the 6 digits of landscape.csv resolve"
		tr.exempt["worst_check"] = "batch − correction − direct is ~1e-11, finer than the 6 digits of landscape.csv resolve"
		tol := func(x float64) float64 { return 5e-6 * math.Abs(x) }
		mins := map[string]float64{}
		var worstU, worstK float64
		lo, hi := math.Inf(1), math.Inf(-1)
		var eLo, eHi float64
		for _, r := range csvOf(t, dir, "landscape.csv") {
			data := strings.SplitN(r["data"], ":", 2)[0]
			k, tau := atoi(r["k"]), csvFloat(r["temperature"])
			name := fmt.Sprintf("row/%s-k%d-tau%g-%s", data, k, tau, r["config"])
			batch, pop, cf, diff := csvFloat(r["batch_loss"]), csvFloat(r["population"]), csvFloat(r["closed_form"]), csvFloat(r["abs_diff"])
			tr.num(name+"/batch", batch, tol(batch))
			tr.num(name+"/population", pop, tol(pop))
			if !math.IsNaN(cf) {
				tr.num(name+"/closed_form", cf, tol(cf))
				tr.num(name+"/abs_diff", diff, tol(diff))
			}
			mk := fmt.Sprintf("min/k%d-tau%g/%s", k, tau, data)
			if m, ok := mins[mk]; !ok || pop < m {
				mins[mk] = pop
			}
			switch r["config"] {
			case "uniform-interleaved", "uniform-contiguous":
				worstU = max(worstU, diff)
			case "collapsed":
				worstK = max(worstK, diff)
				g := pop - UniformLoss(k, tau)
				if g < lo {
					lo, eLo = g, tol(pop)
				}
				if g > hi {
					hi, eHi = g, tol(pop)
				}
			}
			tr.num(fmt.Sprintf("min/k%d-tau%g/uniform", k, tau), UniformLoss(k, tau), 1e-12)
		}
		for k, m := range mins {
			tr.num(k, m, tol(m))
		}
		tr.num("worst_uniform", worstU, tol(worstU))
		tr.num("worst_kpoint", worstK, tol(worstK))
		tr.num("collapse_cost/min", lo, eLo)
		tr.num("collapse_cost/max", hi, eHi)
		return tr
	})
}
