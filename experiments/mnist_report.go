package experiments

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gosimclr/gosimclr/datasets"
)

// mnistReport writes timeseries.csv and the figures of the stored runs (in plan order: seed by seed, the
// shallow network first) and returns the result with the summary's numbers, verdict and settings. With every
// planned run stored its output is that of one uninterrupted run; with fewer, the numbers start by saying how
// many are done, the tables and the verdict hold only the networks with a stored run, and the verdict is marked
// provisional; with none, only that is said and no figure is drawn (older figures are removed). labels are the
// digits of the images in the order of the codes (nil when no run is stored).
func mnistReport(c MNISTConfig, dir string, methods []method, runs []mnistRun, labels []int, planned int) (*Result, error) {
	series := newTable("method", "seed", "step", "spread", "min_sep", "silhouette", "probe_acc", "loss", "code_std")
	for _, r := range runs {
		for i, t := range r.tj.steps {
			g := r.tj.rows[i]
			series.add(r.method, int(r.seed), t, g.Spread, g.MinSep, g.Silhouette, g.Probe, g.Loss, r.codeStd[i])
		}
	}
	if err := series.write(filepath.Join(dir, "timeseries.csv")); err != nil {
		return nil, err
	}
	if labels == nil { // no run stored: the threshold of PerClass images of each digit
		for d := range 3 {
			for range c.PerClass {
				labels = append(labels, d)
			}
		}
	}
	thr := mnistThreshold(labels)
	res := &Result{Name: "mnist-012", Dir: dir, Title: "MNIST digits 0, 1, 2 at the authors' settings: 1-D codes of a one-hidden-layer and the authors' deeper MLP"}
	var err error
	if res.Figures, err = mnistFigures(dir, c, methods, runs, labels); err != nil {
		return nil, err
	}
	if len(runs) > 0 {
		var present []method // the networks with a stored run
		for _, m := range methods {
			if slices.ContainsFunc(runs, func(r mnistRun) bool { return r.method == m.name }) {
				present = append(present, m)
			}
		}
		res.Numbers = mnistNumbers(c, present, runs, thr)
		res.Verdict = mnistVerdict(c, present, runs)
	}
	if n := len(runs); n < planned {
		done := fmt.Sprintf("Cells finished: %d of %d (%d remain; `simclr experiment mnist-012` with the same flags resumes them, "+
			"`--report-only` rewrites these files from the stored runs).", n, planned, planned-n)
		if n > 0 {
			done += fmt.Sprintf(" Everything below is of the %d finished runs (network, seed) only.", n)
			res.Verdict = fmt.Sprintf("Provisional, from %d of %d planned runs. ", n, planned) + res.Verdict
		}
		if n > 0 {
			res.Numbers = done + "\n\n" + res.Numbers
		} else {
			res.Numbers = done + "\n"
		}
	}
	res.Ours = fmt.Sprintf("Authors' [C] (test-mnist.py, paper.md §6.2): digits {0,1,2}, the first %d training images of each (authors 300), "+
		"pixels/255, hidden width %d, the deep net's %d hidden layers (784-100-100-100-1), LeakyReLU(0.2), a 1-D unnormalised code, the "+
		"Gaussian-kernel loss of paper.md §3.4 with τ = %g, full-batch SGD with lr %g (authors 1e-3) for %d steps (authors 20 000; "+
		"the notes and the issue agree on these settings; any value here that differs from the authors' is ours). Ours: blur + rescale by our %q preset (σ drawn per example, not once per batch; the area, not the "+
		"factor, uniform), the plain network output f_θ(x) as the code (the notes do not say whether test-mnist.py uses the "+
		"f_θ − f_θ0 + b construction of test-artificial-data.py), He-normal instead of PyTorch's uniform initialisation, no "+
		"output bias, the one-hidden-layer comparison network, no particles (our particle model lives on the sphere, not in R¹), "+
		"%d seeds, the persistence rule (window %d), the silhouette threshold %.3f, the probe threshold %.2f and the collapse "+
		"criterion (code std < %g·√τ).", c.PerClass, c.Width, c.DeepDepth, c.Temperature, c.LR, c.Steps, c.Augment, c.Seeds, c.Window,
		thr, probeThreshold, collapseStd)
	return res, nil
}

// mnistFigures draws, for the first seed, every code against the step for each network, and the metrics. A
// network whose first-seed run is not stored yet is left out; a figure not drawn is removed (an older sitting's).
func mnistFigures(dir string, c MNISTConfig, methods []method, runs []mnistRun, labels []int) ([]string, error) {
	d := datasets.Points{N: len(labels), Labels: labels, K: 3, Name: "mnist-012"}
	first := map[string]*trajectory{}
	codeStd := map[string][]float64{}
	var names []string
	for _, r := range runs {
		if r.seed != c.FirstSeed {
			continue
		}
		first[r.method], codeStd[r.method] = r.tj, r.codeStd
		f := fmt.Sprintf("trajectory_L%d.png", methodDepth(methods, r.method))
		title := fmt.Sprintf("%s, seed %d: the 1-D code of all %d images (label = digit)", r.method, r.seed, d.N)
		if err := trajectoryPlot(filepath.Join(dir, f), d, r.tj, title); err != nil {
			return nil, err
		}
		names = append(names, f)
	}
	var drawn []method // the networks with a first-seed run
	var stale []string
	for _, m := range methods {
		if first[m.name] != nil {
			drawn = append(drawn, m)
		} else {
			stale = append(stale, fmt.Sprintf("trajectory_L%d.png", m.depth))
		}
	}
	if len(drawn) == 0 {
		stale = append(stale, "timeseries.png")
	}
	for _, f := range stale {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if len(drawn) == 0 {
		return nil, nil
	}
	return append(names, "timeseries.png"), seriesGrid(dir, "timeseries.png", fmt.Sprintf("seed %d", c.FirstSeed), drawn, first, codeStd)
}

func methodDepth(methods []method, name string) int {
	for _, m := range methods {
		if m.name == name {
			return m.depth
		}
	}
	return -1
}

// mnistNumbers is the summary's tables: persistence by KM, then every run.
func mnistNumbers(c MNISTConfig, methods []method, runs []mnistRun, thr float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The digit classes are the clusters. Silhouette of the 1-D codes by digit, Euclidean; its threshold %.3f is "+
		"halfway between 1 (each digit collapsed to one code) and the silhouette of %d evenly spaced codes with each digit on a "+
		"contiguous block (ours). A run diverged when its loss or gradient stopped being finite; it collapsed when the %d codes' "+
		"std ended below %g·√τ (all codes nearly equal: loss ≈ log 2 = %.4f, the value of total collapse).\n\n",
		thr, len(runs[0].tj.latents[0]), len(runs[0].tj.latents[0]), collapseStd, math.Log(2))
	b.WriteString(kmLegend("silhouette", thr, c.Window, c.LogEvery, c.Steps))
	var rs, rp, each [][]string
	for _, m := range methods {
		var gs, gp persistGroup
		for _, r := range runs {
			if r.method == m.name {
				gs.add(r.sil, r.silNever, r.diverged)
				gp.add(r.probe, r.prbNever, r.diverged)
			}
		}
		rs, rp = append(rs, kmRow(m.name, gs)), append(rp, kmRow(m.name, gp))
	}
	for _, r := range runs {
		best := 0
		for i, g := range r.tj.rows {
			if g.Silhouette > r.tj.rows[best].Silhouette {
				best = i
			}
		}
		g0, g1 := r.tj.rows[0], r.tj.rows[len(r.tj.rows)-1]
		each = append(each, []string{r.method, fmt.Sprint(r.seed), yesNo(r.diverged), yesNo(r.collapsed), f4(g0.Silhouette),
			fmt.Sprintf("%.4f (step %d)", r.tj.rows[best].Silhouette, r.tj.steps[best]), f4(g1.Silhouette), f4(g1.Probe), f4(g1.Loss),
			fmt.Sprintf("%.3g", r.codeStd[len(r.codeStd)-1]), obsString(r.sil, r.silNever), obsString(r.probe, r.prbNever)})
	}
	b.WriteString("Silhouette persistence:\n\n" + markdown(kmHeader, rs))
	fmt.Fprintf(&b, "\nProbe persistence (linear probe on the 1-D code, threshold %.2f, same rule):\n\n%s", probeThreshold, markdown(kmHeader, rp))
	b.WriteString("\nEvery run (last = last logged step):\n\n" + markdown([]string{"network", "seed", "diverged", "collapsed",
		"silhouette at 0", "max silhouette", "silhouette at last", "probe at last", "loss at last", "code std at last",
		"silhouette persistence", "probe persistence"}, each))
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// mnistVerdict words, per network, divergence and collapse, whether the digit clusters became visible and how
// long they persisted, then compares the deep network with the shallow one.
func mnistVerdict(c MNISTConfig, methods []method, runs []mnistRun) string {
	var s []string
	groups := map[string]*persistGroup{}
	for _, m := range methods {
		var g persistGroup
		var div, col, n, vis int
		var probes []float64
		for _, r := range runs {
			if r.method != m.name {
				continue
			}
			n++
			if r.diverged {
				div++
			}
			if r.collapsed {
				col++
			}
			if !r.silNever {
				vis++
			}
			g.add(r.sil, r.silNever, r.diverged)
			probes = append(probes, r.tj.rows[len(r.tj.rows)-1].Probe)
		}
		groups[m.name] = &g
		line := fmt.Sprintf("%s (n = %d seeds, lr %g): %d diverged, %d collapsed to one code; digit clusters visible in %d of %d runs",
			m.name, n, c.LR, div, col, vis, n)
		if e := g.estimate(); e.N > 0 {
			line += fmt.Sprintf(", KM median persistence %s steps (%d events, %d censored at T = %d)", e, e.Events, e.N-e.Events, c.Steps)
		}
		line += fmt.Sprintf("; final probe accuracy %s.", rangeOf(probes, "%.3f"))
		s = append(s, line)
	}
	if len(methods) > 1 {
		a, b := methods[1].name, methods[0].name
		s = append(s, "Deep vs shallow: "+kmCompare(a, b, *groups[a], *groups[b])+".")
	}
	s = append(s, "What this does not show: the paper's own MNIST figure (its settings are unknown); a few seeds only; the thresholds and the collapse criterion are ours.")
	return strings.Join(s, " ")
}
