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

// The traces of the experiments whose raw files are cells: mnist-012 and authors-1d.

// TestCommittedTraceMNIST: from the raw cells, each run's silhouette and probe series give its peaks, its
// peak-relative persistence (written again here), the values at 0 and at the last step, the held-out probe
// (from the stored codes), the absolute-criterion persistence (the window rule), the Kaplan–Meier tables and the
// verdict's ranges and paired differences.
func TestCommittedTraceMNIST(t *testing.T) {
	const dir = "../results/mnist-012"
	runTrace(t, dir, func() *trace { return traceMNIST(t, dir) })
}

func traceMNIST(t *testing.T, dir string) *trace {
	var c MNISTConfig
	readSettings(t, dir, &c)
	tr := newTrace()
	type run struct {
		cl        mnCell
		key       string
		silP, prP int
		silO, prO survival.Obs
		sil, prb  []float64
		codes     map[int][]float64
	}
	var runs []run
	planned := 0
	methods := mnistMethods(c)
	for draw := 1; draw <= max(c.Draws, 1); draw++ {
		for s := range c.Seeds {
			for _, m := range methods {
				planned++
				raw, err := os.ReadFile(filepath.Join(dir, "cells", mnistKey(m.depth, draw, c.FirstSeed+uint64(s))+".json"))
				if err != nil {
					continue
				}
				var cl mnCell
				if err := json.Unmarshal(raw, &cl); err != nil {
					t.Fatal(err)
				}
				r := run{cl: cl, key: fmt.Sprintf("run/L%d-draw%d-seed%d", cl.Depth, max(cl.Draw, 1), cl.Seed)}
				for j := range cl.Steps {
					r.sil, r.prb = append(r.sil, float64(cl.Silhouette[j])), append(r.prb, float64(cl.Probe[j]))
				}
				last := c.Steps
				if cl.Diverged {
					last = cl.Steps[len(cl.Steps)-1]
				}
				r.silP, r.silO = peakRule(cl.Steps, r.sil, func(p float64) float64 { return p / 2 }, c.Window, last)
				r.prP, r.prO = peakRule(cl.Steps, r.prb, func(p float64) float64 { return (p + 1.0/3) / 2 }, c.Window, last)
				if r.codes, err = decodeCodes(cl.Codes, cl.Steps, cl.Points); err != nil {
					t.Fatal(err)
				}
				runs = append(runs, r)
			}
		}
	}
	tr.count("cells/done", len(runs))
	tr.count("cells/total", planned)
	tr.count("cells/remaining", planned-len(runs))
	if len(runs) == 0 {
		return tr
	}
	if len(runs) < planned {
		var sec float64
		for _, r := range runs {
			sec += r.cl.Seconds
		}
		tr.num("cells/mean_seconds", sec/float64(len(runs)), 1e-9)
		tr.num("cells/remaining_hours", sec/float64(len(runs))*float64(planned-len(runs))/3600, 1e-9)
	}
	thr := mnistThreshold(runs[0].cl.Labels)
	for _, r := range runs {
		k, cl, n := r.key, r.cl, len(r.cl.Steps)-1
		tr.num(k+"/silhouette0", r.sil[0], 0)
		tr.num(k+"/silhouette_peak", r.sil[r.silP], 0)
		tr.count(k+"/silhouette_peak_step", cl.Steps[r.silP])
		tr.num(k+"/silhouette_last", r.sil[n], 0)
		tr.obs(k+"/silhouette_half", r.silO, false)
		tr.num(k+"/probe_peak", r.prb[r.prP], 0)
		tr.count(k+"/probe_peak_step", cl.Steps[r.prP])
		tr.num(k+"/probe_last", r.prb[n], 0)
		tr.obs(k+"/probe_halfway", r.prO, false)
		tr.num(k+"/heldout_peak", heldOutProbe(r.codes[cl.Steps[r.prP]], cl.Labels, 3), 1e-12)
		tr.num(k+"/heldout_last", heldOutProbe(r.codes[cl.Steps[n]], cl.Labels, 3), 1e-12)
		tr.num(k+"/loss_last", float64(cl.Loss[n]), 0)
		_, sd := meanStd(r.codes[cl.Steps[n]])
		tr.num(k+"/code_std_last", sd, 1e-6*sd) // the stored std is of the float64 codes; the stored codes are float32
		if math.Abs(sd-float64(cl.CodeStd[n])) > 1e-6*sd {
			tr.failf("%s: the stored code std %g is not the std of the stored codes %g", k, float64(cl.CodeStd[n]), sd)
		}
	}
	groups := map[string][5]*persistGroup{}
	var div, col, vis map[string]int = map[string]int{}, map[string]int{}, map[string]int{}
	var last, held, peak = map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	for _, m := range methods {
		groups[m.name] = [5]*persistGroup{{}, {}, {}, {}, {}}
	}
	for _, r := range runs {
		cl, g := r.cl, groups[r.cl.Network]
		lastStep := c.Steps
		if cl.Diverged {
			lastStep = cl.Steps[len(cl.Steps)-1]
		}
		so, sn := windowRule(cl.Steps, r.sil, thr, c.Window, lastStep)
		po, pn := windowRule(cl.Steps, r.prb, probeThreshold, c.Window, lastStep)
		g[0].add(so, sn, cl.Diverged)
		g[1].add(po, pn, cl.Diverged)
		g[2].add(r.silO, false, cl.Diverged)
		g[3].add(r.prO, false, cl.Diverged)
		if cl.Diverged {
			div[cl.Network]++
		}
		if cl.Collapsed {
			col[cl.Network]++
		}
		if !sn {
			vis[cl.Network]++
		}
		n := len(cl.Steps) - 1
		last[cl.Network] = append(last[cl.Network], r.prb[n])
		held[cl.Network] = append(held[cl.Network], heldOutProbe(r.codes[cl.Steps[n]], cl.Labels, 3))
		peak[cl.Network] = append(peak[cl.Network], r.prb[r.prP])
	}
	for _, m := range methods {
		g := groups[m.name]
		if len(g[0].obs)+g[0].never == 0 {
			continue
		}
		k := fmt.Sprintf("L%d", m.depth)
		for i, name := range []string{"abs_sil/", "abs_probe/", "peak_sil/", "peak_probe/"} {
			tr.group(name+k, g[i].obs, g[i].never, g[i].diverged)
		}
		tr.count("verdict/"+k+"/n", len(last[m.name]))
		tr.count("verdict/"+k+"/diverged", div[m.name])
		tr.count("verdict/"+k+"/collapsed", col[m.name])
		tr.count("verdict/"+k+"/visible", vis[m.name])
		tr.rangeOf("verdict/"+k+"/probe_peak", peak[m.name], 0)
		tr.rangeOf("verdict/"+k+"/probe_last", last[m.name], 0)
		tr.rangeOf("verdict/"+k+"/heldout_last", held[m.name], 1e-12)
	}
	var d []float64
	for _, r := range runs {
		if r.cl.Depth == methods[1].depth {
			for _, q := range runs {
				if q.cl.Depth == methods[0].depth && q.cl.Seed == r.cl.Seed && max(q.cl.Draw, 1) == max(r.cl.Draw, 1) {
					d = append(d, r.prb[len(r.prb)-1]-q.prb[len(q.prb)-1])
				}
			}
		}
	}
	if len(d) > 0 {
		pos, neg := 0, 0
		for _, x := range d {
			if x > 0 {
				pos++
			} else if x < 0 {
				neg++
			}
		}
		tr.rangeOf("verdict/probe_last_diff", d, 1e-12)
		tr.count("verdict/probe_last_diff_pos", pos)
		tr.count("verdict/probe_last_diff_n", len(d))
		if len(d) >= 8 {
			tr.num("verdict/probe_last_diff_sign_p", signP(pos, neg), 1e-12)
		}
	}
	return tr
}

// peakRule is the peak-relative persistence written again from its definition: the first largest value is the
// peak; the first logged step after it that starts window consecutive points at or below level(peak) ends it
// (time counted from the peak), else it is censored at last − the peak's step.
func peakRule(steps []int, stat []float64, level func(float64) float64, window, last int) (int, survival.Obs) {
	p := 0
	for i := range stat {
		if stat[i] > stat[p] {
			p = i
		}
	}
	lv := level(stat[p])
	for i := p + 1; i+window <= len(stat); i++ {
		below := true
		for j := i; j < i+window; j++ {
			below = below && stat[j] <= lv
		}
		if below {
			return p, survival.Obs{Time: float64(steps[i] - steps[p]), Event: true}
		}
	}
	return p, survival.Obs{Time: float64(last - steps[p])}
}

// TestCommittedTraceAuthors1D: from the raw cells, the test recomputes each seed's formed/not formed at every
// logged step (silhouette₃ ≥ 0.5 and overlap₃ ≤ 0.05), its onset and first loss, the table's values, the count
// of seeds formed and held, the median onset and the means and SDs across seeds.
func TestCommittedTraceAuthors1D(t *testing.T) {
	const dir = "../results/authors-1d"
	runTrace(t, dir, func() *trace { return traceAuthors1D(t, dir) })
}

func traceAuthors1D(t *testing.T, dir string) *trace {
	var c Authors1DConfig
	readSettings(t, dir, &c)
	tr := newTrace()
	var cls []a1dCell
	for s := range c.Seeds {
		raw, err := os.ReadFile(filepath.Join(dir, "cells", a1dKey(c.FirstSeed+uint64(s))+".json"))
		if err != nil {
			continue
		}
		var cl a1dCell
		if err := json.Unmarshal(raw, &cl); err != nil {
			t.Fatal(err)
		}
		cls = append(cls, cl)
	}
	if len(cls) < c.Seeds {
		tr.count("cells/done", len(cls))
		tr.count("cells/total", c.Seeds)
		tr.count("cells/remaining", c.Seeds-len(cls))
	}
	if len(cls) == 0 {
		return tr
	}
	formedAt := func(cl a1dCell, j int) bool {
		return float64(cl.Silhouette3[j]) >= 0.5 && float64(cl.Overlap3[j]) <= 0.05
	}
	var onsets []float64
	var x0, xEnd, xOv, xD []float64
	formed, held := 0, 0
	for _, cl := range cls {
		k, n := fmt.Sprintf("seed%d", cl.Seed), len(cl.Steps)-1
		onset, lost := -1, -1
		for j := range cl.Steps {
			if onset < 0 && formedAt(cl, j) {
				onset = cl.Steps[j]
			} else if onset >= 0 && lost < 0 && !formedAt(cl, j) {
				lost = cl.Steps[j]
			}
		}
		if onset >= 0 {
			formed++
			tr.count(k+"/onset", onset)
			onsets = append(onsets, float64(onset))
		} else {
			onsets = append(onsets, math.Inf(1))
		}
		if lost >= 0 {
			tr.count(k+"/lost", lost)
		}
		if formedAt(cl, n) {
			held++
		}
		tr.count(k+"/points", cl.Points)
		for name, x := range map[string]jsonNum{"silhouette3_0": cl.Silhouette3[0], "silhouette3_end": cl.Silhouette3[n],
			"overlap3_end": cl.Overlap3[n], "gap3_end": cl.Gap3[n], "probe3_end": cl.Probe3[n], "silhouette4_end": cl.Silhouette4[n],
			"probe4_end": cl.Probe4[n], "d03_end": cl.D03, "u_silhouette3": cl.Ref[0], "u_overlap3": cl.Ref[1]} {
			tr.num(k+"/"+name, float64(x), 0)
		}
		x0, xEnd, xOv, xD = append(x0, float64(cl.Silhouette3[0])), append(xEnd, float64(cl.Silhouette3[n])),
			append(xOv, float64(cl.Overlap3[n])), append(xD, float64(cl.D03))
	}
	tr.count("seeds", len(cls))
	tr.count("points", cls[0].Points)
	tr.count("formed", formed)
	tr.count("held", held)
	slices.Sort(onsets)
	if m := onsets[(len(onsets)-1)/2]; !math.IsInf(m, 1) {
		tr.num("onset_median", m, 0)
	}
	for name, xs := range map[string][]float64{"silhouette3_0": x0, "silhouette3_end": xEnd, "overlap3_end": xOv, "d03_end": xD} {
		tr.meanSD(name, xs, 0)
		if n := len(xs); n > 1 { // the 95% t interval of the mean
			m, s := meanStd(xs)
			h := studentQuantile(0.975, float64(n-1)) * s / math.Sqrt(float64(n))
			tr.num(name+"/lo", m-h, 1e-12)
			tr.num(name+"/hi", m+h, 1e-12)
		}
	}
	return tr
}
