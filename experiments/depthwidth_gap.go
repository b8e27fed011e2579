package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
)

// dwGap is the loss-gap section of depth-width: the symmetric-arc family that ties the gap at the event to the
// silhouette threshold, the pre-declared equivalence tests, the Cox models on the gap clock, and its verdict.
type dwGap struct {
	text, verdict string
}

// arcPoints is how many half-widths of the arc family are evaluated.
const arcPoints = 241

// dwGapClock writes the section and gap_clock_events.png.
func dwGapClock(v vals, c DepthWidthConfig, dir string, done []dwCell, stats map[dwGroup]*dwStat, lmin float64) (dwGap, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### The loss-gap clock: declared margin first\n\nDeclared before these cells were analysed this way (issue 24): "+
		"whether depth changes the point of the descent at which the clusters go is an equivalence question, not a test of "+
		"difference. The quantity is Δ = log(median gap at the event, deeper) − log(median gap at the event, L = %d), from "+
		"Kaplan–Meier medians of the gap clock u = log(%g/gap) (a run censored at step T is censored at its last gap). Equivalent "+
		"means a factor 1.5: the %.0f%% bootstrap interval of Δ (%d resamples of each group's seeds, percentile interval) inside "+
		"(−log 1.5, +log 1.5) = (−%.3f, +%.3f), two one-sided tests at 5%% each. \"Different\": the interval excludes 0 and is not "+
		"inside the margin; \"inconclusive\": neither. A comparison whose point estimate cannot be placed (a group whose median "+
		"the data do not reach) is \"not testable\" and left out of the counts.\n\n", c.Depths[0], gapRef, 100*equivLevel, equivBoot,
		equivMargin, equivMargin)
	// What the clock can show: the arc family's silhouette against its gap.
	k, n := c.Clusters, c.PerCluster
	thr := c.Threshold(done)
	w, sil, gap := arcFamily(k, n, c.Temperature, arcPoints)
	gStar, wStar := gapAtSilhouette(w, sil, gap, thr)
	var evGaps []float64
	for _, cl := range done {
		if cl.Depth != 0 && cl.Persistence.Event {
			g, _ := gapAt(cl, lmin)
			evGaps = append(evGaps, g)
		}
	}
	near := 0
	for _, g := range evGaps {
		if g >= gStar/1.5 && g <= gStar*1.5 {
			near++
		}
	}
	slices.Sort(evGaps)
	var p5, p50, p95 float64
	if len(evGaps) > 0 {
		p5, p50, p95 = quantileSorted(evGaps, 0.05), quantileSorted(evGaps, 0.5), quantileSorted(evGaps, 0.95)
	}
	fmt.Fprintf(&b, "What the clock can show. Every event is, by construction, an embedding whose silhouette has just fallen below "+
		"the threshold, so the gap at the event is the loss gap of an embedding with that silhouette. In the symmetric-arc family "+
		"(each of the %d clusters spread evenly over an arc of half-width w centred on a vertex of the square; w = 0 is the collapsed "+
		"K-point configuration, the largest w the regular N-gon) the silhouette falls to the threshold %s at loss gap %s, with %s. "+
		"The %s network events lie at gaps from %s to %s (5th to 95th percentile; median %s), a factor %s from end to end: the "+
		"networks' embeddings at the threshold are of a similar kind, though not symmetric arcs (%s of them, %s%%, lie within a "+
		"factor 1.5 of the arc family's gap). A margin of a factor 1.5 is therefore wide on this clock, and the gap at the event "+
		"says more about the shape of the embedding at the threshold than about how far the descent has gone "+
		"(gap_clock_events.png draws the family under every event).\n\n", k, v.num("threshold", thr, "%.3f"),
		v.num("arc/gap_at_threshold", gStar, "%.3g"), describeArc(v, "arc", wStar, k), v.count("events/n", len(evGaps)),
		v.num("events/gap_p5", p5, "%.3g"), v.num("events/gap_p95", p95, "%.3g"), v.num("events/gap_median", p50, "%.3g"),
		v.num("events/gap_p95_over_p5", p95/p5, "%.2g"), v.count("arc/events_near", near),
		v.num("arc/events_near_pct", 100*float64(near)/float64(max(len(evGaps), 1)), "%.0f"))
	if err := dwGapFigure(c, filepath.Join(dir, "gap_clock_events.png"), done, lmin, gap, sil, thr); err != nil {
		return dwGap{}, err
	}
	// The equivalence tests.
	var rows [][]string
	count := map[string]map[string]int{}
	for _, sc := range c.Scalings {
		count[sc] = map[string]int{}
		for _, m := range c.Widths {
			base := stats[dwGroup{c.Depths[0], m, sc}]
			for _, l := range c.Depths[1:] {
				st := stats[dwGroup{l, m, sc}]
				if st == nil || base == nil {
					continue
				}
				e := equivalenceTest(st.gapObs, base.gapObs, uint64(1000*l+m))
				name := fmt.Sprintf("equiv/%s-m%d-L%d", sc, m, l)
				verdict := e.Verdict()
				count[sc][verdict]++
				delta, ci := "–", "–"
				if e.Testable {
					delta = v.num(name+"/delta", e.Delta, "%+.3f")
					ci = fmt.Sprintf("[%s, %s]", signedOrInf(v, name+"/lo", e.Lo), signedOrInf(v, name+"/hi", e.Hi))
					v.num(name+"/ratio", math.Exp(e.Delta), "%.3g")
				}
				rows = append(rows, []string{sc, fmt.Sprint(m), fmt.Sprintf("L=%d vs L=%d", l, c.Depths[0]),
					fmt.Sprintf("%s / %s", v.count(name+"/n", len(st.gapObs)), v.count(name+"/n_base", len(base.gapObs))),
					delta, ci, verdict})
			}
		}
	}
	b.WriteString(markdown([]string{"scaling", "m", "comparison", "n", "Δ log median gap", "90% bootstrap interval", "at a factor 1.5"}, rows))
	var counts []string
	for _, sc := range c.Scalings {
		cn := count[sc]
		counts = append(counts, fmt.Sprintf("%s: equivalent %s, different %s, inconclusive %s, not testable %s", sc,
			v.count("equiv/"+sc+"/equivalent", cn["equivalent"]), v.count("equiv/"+sc+"/different", cn["different"]),
			v.count("equiv/"+sc+"/inconclusive", cn["inconclusive"]), v.count("equiv/"+sc+"/not_testable", cn["not testable"])))
	}
	fmt.Fprintf(&b, "\nBy parameterisation: %s.\n", strings.Join(counts, "; "))
	cox := dwCoxByScaling(c, stats, true)
	b.WriteString(dwCoxText(v, c, cox, "gap", "at a larger gap (earlier in the descent)"))
	// The verdict.
	var vs []string
	for _, sc := range c.Scalings {
		cn := count[sc]
		tested := cn["equivalent"] + cn["different"] + cn["inconclusive"]
		vs = append(vs, fmt.Sprintf("%s: equivalent in %s of %s testable comparisons, different in %s, inconclusive in %s (%s not testable)",
			sc, v.count("equiv/"+sc+"/equivalent", cn["equivalent"]), v.count("equiv/"+sc+"/tested", tested),
			v.count("equiv/"+sc+"/different", cn["different"]), v.count("equiv/"+sc+"/inconclusive", cn["inconclusive"]),
			v.count("equiv/"+sc+"/not_testable", cn["not testable"])))
	}
	var cw []string
	for _, x := range cox {
		cw = append(cw, fmt.Sprintf("%s %s", x.scaling, coxWords(v, "cox_gap/"+x.scaling, x)))
	}
	dirs := map[string]bool{}
	for _, x := range cox {
		dirs[coxDirection(x)] = true
	}
	opposite := ""
	if dirs["sooner"] && dirs["later"] {
		opposite = "The parameterisations point opposite ways on this clock. "
	}
	verdict := fmt.Sprintf("Depth on the loss-gap clock (TOST at a factor 1.5 on the median gap at the event, n = 8 seeds per group): %s. "+
		"The Cox models on the gap clock (above 1: deeper networks lose the clusters at a larger gap, earlier in the descent): %s. "+
		"What this does not show: that depth leaves the point of the descent unchanged. %s90%% of the events sit at gaps between %s "+
		"and %s, the gap of an embedding whose silhouette has just crossed the threshold, so a factor 1.5 is a wide margin on this clock.",
		strings.Join(vs, "; "), strings.Join(cw, "; "), opposite, v.num("events/gap_p5", p5, "%.3g"), v.num("events/gap_p95", p95, "%.3g"))
	return dwGap{text: b.String(), verdict: verdict}, nil
}

// signedOrInf records an end of a bootstrap interval, ±∞ as words.
func signedOrInf(v vals, name string, x float64) string {
	switch {
	case math.IsInf(x, 1):
		return v.text(name, x, "+∞")
	case math.IsInf(x, -1):
		return v.text(name, x, "−∞")
	}
	return v.num(name, x, "%+.3f")
}

// dwGapFigure draws, per parameterisation, the silhouette of the arc family against its loss gap and every
// network run's gap and silhouette at its persistence event, coloured by depth, with the threshold.
func dwGapFigure(c DepthWidthConfig, path string, done []dwCell, lmin float64, gap, sil []float64, thr float64) error {
	var panels []*plot.Plot
	for _, sc := range c.Scalings {
		fam := curve{Name: "symmetric arcs", Color: 7}
		for i := range gap {
			if gap[i] > 0 {
				fam.X, fam.Y = append(fam.X, gap[i]), append(fam.Y, sil[i])
			}
		}
		cs := []curve{fam}
		for di, l := range c.Depths {
			ev := curve{Name: fmt.Sprintf("L = %d events", l), Color: di, Dots: true, NoLine: true}
			for _, cl := range done {
				if cl.Depth != l || cl.Scaling != sc || !cl.Persistence.Event {
					continue
				}
				g, s := gapAt(cl, lmin)
				ev.X, ev.Y = append(ev.X, g), append(ev.Y, s)
			}
			cs = append(cs, ev)
		}
		lo, hi := xRange(cs[1:]) // the events' range; the family reaches gaps far below it, where nothing happens
		lo, hi = lo/3, max(hi, slices.Max(fam.X))*1.2
		cs = append(cs, curve{Name: "threshold", X: []float64{lo, hi}, Y: []float64{thr, thr}, Color: 8, Dashed: true})
		p, err := lineChart(fmt.Sprintf("%s: silhouette at the loss of clusters, against the gap", sc),
			"loss − loss of the regular N-gon (log scale)", "silhouette", cs, true)
		if err != nil {
			return err
		}
		p.X.Min, p.X.Max = lo, hi
		p.Y.Min = 0.45
		panels = append(panels, p)
	}
	return saveGrid([][]*plot.Plot{panels}, path, 16, 11)
}
