package experiments

import (
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gosimclr/gosimclr/datasets"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// a1dReport writes timeseries.csv and the figures of the stored seeds runs (in seed order) and returns the
// result with the summary's numbers, verdict and settings. With every planned seed stored its output is that of
// one uninterrupted run; with fewer, the numbers start by saying how many are done and the verdict is marked
// provisional; with none, only that is said and no figure is drawn (older figures are removed).
func a1dReport(c Authors1DConfig, dir string, runs []a1dSeed) (*Result, error) {
	series := newTable("seed", "step", "silhouette_3", "overlap_3", "gap_3", "probe_3", "formed_3", "silhouette_4", "probe_4", "spread_4",
		"loss", "mean_0", "mean_1", "mean_2", "mean_3")
	for _, r := range runs {
		for i, t := range r.tj.steps {
			g, q, m := r.g[i], r.tj.rows[i], clusterMeans1D(r.tj.latents[t], r.d)
			series.add(int(r.seed), t, g.Silhouette, g.Overlap, g.Gap, g.Probe, formed3(g), q.Silhouette, q.Probe, q.Spread, q.Loss,
				m[0], m[1], m[2], m[3])
		}
	}
	if err := series.write(filepath.Join(dir, "timeseries.csv")); err != nil {
		return nil, err
	}
	v := vals{}
	res := &Result{Name: "authors-1d", Dir: dir, Title: "The authors' later 1-D setting (four disks, diagonal shift, Gaussian kernel)", Values: v}
	figures := []string{"trajectory.png", "timeseries.png"}
	if len(runs) > 0 {
		if err := a1dFigures(dir, c, runs); err != nil {
			return nil, err
		}
		res.Figures = figures
		res.Numbers, res.Verdict = a1dFindings(v, c, runs)
	} else {
		for _, f := range figures {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
	}
	if n := len(runs); n < c.Seeds {
		done := fmt.Sprintf("Seeds finished: %s of %s (%s remain; `simclr experiment authors-1d` with the same flags resumes them, "+
			"`--report-only` rewrites these files from the stored seeds).", v.count("cells/done", n), v.count("cells/total", c.Seeds),
			v.count("cells/remaining", c.Seeds-n))
		if n > 0 {
			done += fmt.Sprintf(" Everything below is of the %s finished seeds only.", v.count("cells/done", n))
			res.Verdict = fmt.Sprintf("Provisional, from %s of %s planned seeds. ", v.count("cells/done", n), v.count("cells/total", c.Seeds)) + res.Verdict
		}
		res.Numbers = strings.TrimSuffix(done+"\n\n"+res.Numbers, "\n\n")
	}
	res.Ours = "Authors' [C]: data, augmentation, loss, τ, width, activation, T = f − f0 + b, offsets' std, SGD lr and full-batch steps. " +
		"Ours: the three-group criterion (silhouette ≥ 0.5 and overlap ≤ 0.05 on the groups of paper.md §6.2's invariance argument), " +
		"He-normal instead of PyTorch's uniform initialisation, no output bias (the loss is shift-invariant, so it would not move), " +
		"the codes measured and plotted are of the clean points (the authors plot view 1), float32, the seeds (each draws its own data)"
	if c.PerDisk < 400 || c.Steps != 20000 {
		res.Ours += fmt.Sprintf(", and in this run %d points per disk (authors: 400) and %d steps (authors: 20 000)", c.PerDisk, c.Steps)
	}
	res.Ours += "."
	return res, nil
}

// a1dFindings returns the summary's numbers (markdown, with references to v) and its verdict.
func a1dFindings(v vals, c Authors1DConfig, runs []a1dSeed) (numbers, verdict string) {
	n, end := len(runs), c.Steps
	header := []string{"seed", "points", "onset (step)", "holds at end", "first lost", "silhouette₃ 0 → end", "overlap₃ end",
		"gap₃ end", "probe₃ end", "silhouette₄ end", "probe₄ end", "d(label 0, label 3) end", "u = x₁−x₂: silhouette₃ / overlap₃"}
	var rows [][]string
	var onsets []float64 // +Inf: censored
	var onsetList []string
	var xs0, xsEnd, xsOv, xsD []float64
	formed, held := 0, 0
	for _, r := range runs {
		k := fmt.Sprintf("seed%d", r.seed)
		g0, gT, qT := r.g[0], r.g[len(r.g)-1], r.tj.rows[len(r.tj.rows)-1]
		on := fmt.Sprintf("> %d (censored)", end)
		if r.onset >= 0 {
			on, formed = v.count(k+"/onset", r.onset), formed+1
			onsets = append(onsets, float64(r.onset))
		} else {
			onsets = append(onsets, math.Inf(1))
		}
		if r.onset >= 0 {
			onsetList = append(onsetList, fmt.Sprintf("seed %d: %s", r.seed, on))
		} else {
			onsetList = append(onsetList, fmt.Sprintf("seed %d: never", r.seed))
		}
		if formed3(gT) {
			held++
		}
		lost := "never"
		if r.lost >= 0 {
			lost = v.count(k+"/lost", r.lost)
		}
		f := func(name string, x float64) string { return v.num(k+"/"+name, x, "%.4f") }
		rows = append(rows, []string{fmt.Sprint(r.seed), v.count(k+"/points", r.d.N), on, fmt.Sprint(formed3(gT)), lost,
			f("silhouette3_0", g0.Silhouette) + " → " + f("silhouette3_end", gT.Silhouette), f("overlap3_end", gT.Overlap),
			f("gap3_end", gT.Gap), f("probe3_end", gT.Probe), f("silhouette4_end", qT.Silhouette), f("probe4_end", qT.Probe),
			f("d03_end", r.d03), f("u_silhouette3", r.ref.Silhouette) + " / " + f("u_overlap3", r.ref.Overlap)})
		xs0, xsEnd, xsOv, xsD = append(xs0, g0.Silhouette), append(xsEnd, gT.Silhouette), append(xsOv, gT.Overlap), append(xsD, r.d03)
	}
	slices.Sort(onsets)
	median := fmt.Sprintf("> %d (censored)", end)
	if m := onsets[(n-1)/2]; !math.IsInf(m, 1) {
		median = v.num("onset_median", m, "%.0f")
	}
	ms := func(name string, xs []float64) string { // mean [95% t interval] (SD)
		m, s := meanStd(xs)
		h := math.NaN()
		if len(xs) > 1 {
			h = studentQuantile(0.975, float64(len(xs)-1)) * s / math.Sqrt(float64(len(xs)))
		}
		return v.num(name+"/mean", m, "%.3f") + " [" + v.num(name+"/lo", m-h, "%.3f") + ", " + v.num(name+"/hi", m+h, "%.3f") +
			"] (SD " + v.num(name+"/sd", s, "%.3f") + ")"
	}
	numbers = fmt.Sprintf("Groups (paper.md §6.2): a code invariant to the diagonal shift depends on x only through u = x₁ − x₂, and "+
		"disks %s and %s both have u ≈ 0, so labels 0 and 3 form one group; %s (u ≈ −2) and %s (u ≈ +2) are the other two. "+
		"Three groups count as formed at a logged step when the three-group silhouette of the 1-D codes is ≥ %.2f and at most %.0f%% of "+
		"the points fall outside the best split of the line into three intervals (overlap₃; criterion ours). Codes are logged every 10 "+
		"steps up to step %d, then every %d. n = %s seeds (each draws its own data), %s points each.\n\n%s\n"+
		"Onset, survival-style: formed in %s of %s seeds by step %d (onsets [%s]; censored seeds: > %d); median onset %s. "+
		"Still formed at step %d in %s of %s. Across seeds (mean [95%% t interval] (SD), n = %s): silhouette₃ %s at step 0, %s at step %d; overlap₃ at step %d %s; "+
		"Cohen's d between the codes of labels 0 and 3 at step %d %s. The last column is what the invariant coordinate u itself scores on "+
		"the same points (disks of radius 0.8 overlap in u, so even an exactly invariant linear code has overlap₃ > 0).\n",
		diskName[0], diskName[3], diskName[1], diskName[2], sil3Threshold, 100*overlapThreshold, c.EarlyUntil, c.LogEvery,
		v.count("seeds", n), v.count("points", runs[0].d.N), markdown(header, rows), v.count("formed", formed), v.count("seeds", n), end,
		strings.Join(onsetList, ", "), end, median, end, v.count("held", held), v.count("formed", formed), v.count("seeds", n),
		ms("silhouette3_0", xs0), ms("silhouette3_end", xsEnd), end, end, ms("overlap3_end", xsOv), end, ms("d03_end", xsD))
	switch {
	case formed == n:
		verdict = fmt.Sprintf("As predicted (follow-up abstract, paper.md §7 item 8), early training turns the random codes into "+
			"label-clustered ones: the three groups the augmentation allows formed in all %s seeds, median onset step %s", v.count("seeds", n), median)
	case formed > 0:
		verdict = fmt.Sprintf("Partly as predicted: the three groups formed in %s of %s seeds (median onset %s; the rest censored at %d)",
			v.count("formed", formed), v.count("seeds", n), median, end)
	default:
		verdict = fmt.Sprintf("Not as predicted: the three groups formed in none of %s seeds within %d steps (onset > %d, censored)", v.count("seeds", n), end, end)
	}
	verdict += fmt.Sprintf(", and were still formed at step %d in %s of %s (silhouette₃ %s at step 0 → %s at the end, overlap₃ %s). "+
		"What this does not show: that four groups form (Cohen's d between labels 0 and 3 at the end is %s, so their codes %s); "+
		"anything at other widths, learning rates or data (one setting, n = %s seeds); and the thresholds 0.5 / 5%% are ours, not the authors'.",
		end, v.count("held", held), v.count("formed", formed), ms("silhouette3_0", xs0), ms("silhouette3_end", xsEnd), ms("overlap3_end", xsOv),
		ms("d03_end", xsD), overlapWords(xsD), v.count("seeds", n))
	return numbers, verdict
}

// overlapWords says how far apart two groups with Cohen's d values ds are.
func overlapWords(ds []float64) string {
	switch {
	case slices.Max(ds) < 1:
		return "overlap (d < 1 in every seed)"
	case slices.Min(ds) >= 3:
		return "are also separated (d ≥ 3 in every seed)"
	}
	return "are partly separated in some seeds"
}

func stepOrNever(s int) string {
	if s < 0 {
		return "never"
	}
	return fmt.Sprint(s)
}

// a1dFigures draws trajectory.png (per seed: the codes over the first EarlyUntil steps and over the whole run) and
// timeseries.png (the three-group metrics against the step, one curve per seed).
func a1dFigures(dir string, c Authors1DConfig, runs []a1dSeed) error {
	var grid [][]*plot.Plot
	for _, r := range runs {
		var row []*plot.Plot
		for _, until := range []int{c.EarlyUntil, c.Steps} {
			p, err := trajectoryPanel(fmt.Sprintf("seed %d, n = %d points: steps 0–%d", r.seed, r.d.N, until), r.d, r.tj, until)
			if err != nil {
				return err
			}
			row = append(row, p)
		}
		grid = append(grid, row)
	}
	if err := saveGrid(grid, filepath.Join(dir, "trajectory.png"), 15, 10); err != nil {
		return err
	}
	type panel struct {
		label    string
		val      func(r a1dSeed, i int) float64
		thr, ref float64 // NaN: none
	}
	refMean := func(f func(groups3) float64) float64 {
		var s float64
		for _, r := range runs {
			s += f(r.ref)
		}
		return s / float64(len(runs))
	}
	nan := math.NaN()
	panels := []panel{
		{"three-group silhouette", func(r a1dSeed, i int) float64 { return r.g[i].Silhouette }, sil3Threshold,
			refMean(func(g groups3) float64 { return g.Silhouette })},
		{"three-group overlap fraction", func(r a1dSeed, i int) float64 { return r.g[i].Overlap }, overlapThreshold,
			refMean(func(g groups3) float64 { return g.Overlap })},
		{"gap between group ranges / code range", func(r a1dSeed, i int) float64 { return r.g[i].Gap }, nan,
			refMean(func(g groups3) float64 { return g.Gap })},
		{"three-group probe accuracy", func(r a1dSeed, i int) float64 { return r.g[i].Probe }, nan, refMean(func(g groups3) float64 { return g.Probe })},
		{"four-label silhouette", func(r a1dSeed, i int) float64 { return r.tj.rows[i].Silhouette }, nan, nan},
		{"training loss", func(r a1dSeed, i int) float64 { return r.tj.rows[i].Loss }, nan, nan},
	}
	var plots []*plot.Plot
	for _, pn := range panels {
		var cs []curve
		for si, r := range runs {
			xs, ys := make([]float64, len(r.tj.steps)), make([]float64, len(r.tj.steps))
			for i, t := range r.tj.steps {
				xs[i], ys[i] = float64(t+1), pn.val(r, i)
			}
			cs = append(cs, curve{Name: fmt.Sprintf("seed %d", r.seed), X: xs, Y: ys, Color: si})
		}
		span := []float64{1, float64(c.Steps + 1)}
		if !math.IsNaN(pn.thr) {
			cs = append(cs, curve{Name: "criterion (ours)", X: span, Y: []float64{pn.thr, pn.thr}, Color: len(runs), Dashed: true})
		}
		if !math.IsNaN(pn.ref) {
			cs = append(cs, curve{Name: "u = x₁−x₂ itself", X: span, Y: []float64{pn.ref, pn.ref}, Color: len(runs) + 1, Dashed: true})
		}
		title := fmt.Sprintf("%s (n = %d seeds × %d points)", pn.label, len(runs), runs[0].d.N)
		p, err := lineChart(title, "SGD step + 1 (log scale)", pn.label, cs, true)
		if err != nil {
			return err
		}
		plots = append(plots, p)
	}
	return saveGrid([][]*plot.Plot{plots[:3], plots[3:]}, filepath.Join(dir, "timeseries.png"), 13, 9)
}

// clusterMeans1D returns the mean code of each cluster (first latent coordinate).
func clusterMeans1D(z []float64, d datasets.Points) []float64 {
	k := len(z) / d.N
	m, n := make([]float64, d.K), make([]float64, d.K)
	for i := range d.N {
		m[d.Labels[i]] += z[i*k]
		n[d.Labels[i]]++
	}
	for c := range m {
		m[c] /= n[c]
	}
	return m
}

// trajectoryPlot draws every point's first latent coordinate against the step, coloured by label.
func trajectoryPlot(path string, d datasets.Points, tj *trajectory, title string) error {
	p, err := trajectoryPanel(title, d, tj, math.MaxInt)
	if err != nil {
		return err
	}
	return savePlot(p, path, 20, 12)
}

// trajectoryPanel draws every point's first latent coordinate (a code, no unit) against the logged steps ≤ until.
func trajectoryPanel(title string, d datasets.Points, tj *trajectory, until int) (*plot.Plot, error) {
	p := newPlot(title, "SGD step", "1-D code T(x)")
	k := len(tj.latents[0]) / d.N
	var steps []int
	for _, t := range tj.steps {
		if t <= until {
			steps = append(steps, t)
		}
	}
	for c := range d.K {
		first := true
		for i := range d.N {
			if d.Labels[i] != c {
				continue
			}
			var pts plotter.XYs // up to the first non-finite code: a diverged run's line ends where it diverged
			for _, t := range steps {
				y := tj.latents[t][i*k]
				if math.IsNaN(y) || math.IsInf(y, 0) {
					break
				}
				pts = append(pts, plotter.XY{X: float64(t), Y: y})
			}
			if len(pts) == 0 {
				continue
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			col := colorOf(c)
			l.Color, l.Width = color.NRGBA{R: col.R, G: col.G, B: col.B, A: 70}, vg.Points(0.5)
			p.Add(l)
			if first {
				legend, _ := plotter.NewLine(pts[:1])
				legend.Color, legend.Width = colorOf(c), vg.Points(3)
				name := fmt.Sprintf("label %d", c)
				if d.Name == "four-disks" {
					name += " " + diskName[c]
				}
				p.Legend.Add(name, legend)
				first = false
			}
		}
	}
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}
