package experiments

import (
	"fmt"
	"math"
	"strings"
)

// factorPrediction is what paper.md says of each factor, stated before the result.
var factorPrediction = map[string]string{
	"temperature": "Prediction, stated before the result (paper.md §7 target 7, labelled there as inference, not the paper's text; " +
		"§4.2's table): at large τ a cluster-collapsed embedding is almost as good as the uniform one, so trivialisation is slow; at small " +
		"τ the drive to uniform is stronger, so persistence is shorter for both the particle and the network dynamics. In the test " +
		"below that is a hazard ratio per doubling of τ below 1 for every method.",
	"kernel": "Prediction, stated before the result: the paper states none. The reviewers asked why the exponential (\"cross-entropy " +
		"type\") η beats a linear one (paper.md §2.3), and §8 names the choice of η as open. On the sphere the Gaussian kernel is the " +
		"authors' later loss (§3.4: log(1 + rep/att), the positive pair included in rep), whose kernel is the exponential one times " +
		"a constant, so it differs from NT-Xent by the form of the loss, not by η; the linear η = 1 + cos has a much weaker " +
		"uniformity drive. Each is compared with the exponential kernel; no direction is claimed in advance.",
	"unequal": "Prediction, stated before the result: the paper states none. The reviewers point to non-uniform cluster sizes and to " +
		"the \"hidden uniform cluster prior\" (Assran et al. 2022; paper.md §2.3, §8): the uniformity term favours clusters of equal " +
		"mass. Our reading, not the paper's: a partition with one cluster 4× the others is further from what the loss prefers, so its " +
		"clusters are lost sooner (a hazard ratio above 1 for the unequal sizes against equal ones, same total number of points).",
}

// factorTitle titles each sweep.
var factorTitle = map[string]string{
	"temperature": "Persistence against the temperature τ, particles and networks",
	"kernel":      "Persistence against the similarity η (exponential, Gaussian, linear), particles and networks",
	"unequal":     "Persistence with one cluster 4× the others, particles and networks",
}

// factorReport words a factor sweep: the prediction first, the Kaplan–Meier tables on both clocks with the
// clusters created, one Cox model per method, and what it does not show.
func factorReport(c FactorConfig, dir string, done []sweepCell, total int) (*Result, error) {
	v := vals{}
	res := &Result{Name: c.factor, Dir: dir, Title: factorTitle[c.factor], Values: v, Stop: sweepStop(c.sweepBase),
		Builds: countBuilds(sweepBuilds(done)), Seconds: sweepSeconds(done)}
	if err := writeSweepCSV(dir, c.sweepBase, done); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(factorPrediction[c.factor] + "\n\n")
	b.WriteString(sweepHeader(v, c.sweepBase, done, total, c.factor))
	levels := c.levels()
	type key struct{ level, depth int }
	outs := map[key][]sweepOut{}
	var groups []sweepGroup
	var created [][]string
	for li, lv := range levels {
		for _, d := range c.Methods {
			g := sweepGroup{name: fmt.Sprintf("%s-%s", lv.name, methodName(d)), label: fmt.Sprintf("%s, %s", lv.name, methodName(d))}
			var below, made int
			for _, cl := range done {
				if cl.Depth != d || !levelHolds(lv, cl.sweepSpec) {
					continue
				}
				o := outcomes(c.sweepBase, cl, math.NaN())
				g.outs = append(g.outs, o)
				if o.created {
					below++
					if o.createdAt.Event {
						made++
					}
				}
			}
			if len(g.outs) == 0 {
				continue
			}
			outs[key{li, d}] = g.outs
			groups = append(groups, g)
			created = append(created, []string{g.label, v.count("created/"+g.name+"/runs", len(g.outs)),
				v.count("created/"+g.name+"/below", below), v.count("created/"+g.name+"/made", made)})
		}
	}
	if len(done) == 0 {
		res.Numbers = b.String()
		res.Ours = factorOurs(c)
		return res, nil
	}
	b.WriteString(kmTable(v, groups, true))
	b.WriteString("\nClusters created (the silhouette starting below the threshold and rising to it; such runs are \"never visible\" " +
		"when it never does):\n\n" + markdown([]string{"setting", "runs", "started below the threshold", "rose to it"}, created))
	var verdict []string
	var tests []dwCox // every test of the section, for the multiplicity count
	for _, d := range c.Methods {
		m := methodName(d)
		if c.factor == "temperature" {
			var all []sweepOut
			for li := range levels {
				all = append(all, outs[key{li, d}]...)
			}
			words, x := coxOf(v, "cox/"+m, all, func(o sweepOut) float64 { return math.Log2(o.cell.Temperature) }, func(sweepOut) string { return "" }, false)
			words = strings.Replace(words, "per unit of the covariate", "per doubling of τ", 1)
			effWords, _ := coxOf(v, "cox_eff/"+m, all, func(o sweepOut) float64 { return math.Log2(o.cell.Temperature) }, func(sweepOut) string { return "" }, true)
			effWords = strings.Replace(effWords, "per unit of the covariate", "per doubling of τ", 1)
			fmt.Fprintf(&b, "\n%s, Cox model on steps with log₂ τ as the covariate (above 1: persistence shorter at larger τ): %s. The "+
				"same on the clock of the cumulative effective step (the gradient grows as 1/τ, so a smaller τ takes larger steps): %s.\n",
				m, words, effWords)
			verdict = append(verdict, fmt.Sprintf("%s: hazard ratio per doubling of τ %s (%s)", m, hrText(v, "cox/"+m, x), tauDirection(x)))
			tests = append(tests, x)
			continue
		}
		for li := 1; li < len(levels); li++ {
			pair := append(append([]sweepOut{}, outs[key{0, d}]...), outs[key{li, d}]...)
			name := fmt.Sprintf("cox/%s-%s", m, levels[li].name)
			words, x := coxOf(v, name, pair, func(o sweepOut) float64 {
				if levelHolds(levels[li], o.cell.sweepSpec) {
					return 1
				}
				return 0
			}, func(sweepOut) string { return "" }, false)
			words = strings.Replace(words, "per unit of the covariate", "of "+levels[li].name+" against "+levels[0].name, 1)
			fmt.Fprintf(&b, "\n%s, Cox model on steps, %s against %s (above 1: persistence shorter with %s): %s.\n", m, levels[li].name,
				levels[0].name, levels[li].name, words)
			verdict = append(verdict, fmt.Sprintf("%s, %s against %s: hazard ratio %s (%s)", m, levels[li].name, levels[0].name,
				hrText(v, name, x), levelDirection(c.factor, x)))
			tests = append(tests, x)
		}
	}
	b.WriteString("\n### What this does not show\n\n- One width, one learning rate and one parameterisation for the networks, full-batch " +
		"SGD without augmentation; the threshold and the window are ours.\n- Persistence in steps: a factor that changes the size of " +
		"the gradient changes the speed of the descent too; the effective-step column (S) reads the same runs on the clock of the " +
		"cumulative effective step.\n")
	res.Numbers = b.String()
	prov := ""
	if len(done) < total {
		prov = fmt.Sprintf("Provisional, from %s of %s cells. ", v.count("cells/done", len(done)), v.count("cells/total", total))
	}
	pass := 0
	for _, x := range tests {
		if x.runs > 0 && x.trend.P < 0.05/float64(len(tests)) {
			pass++
		}
	}
	multi := ""
	if len(tests) > 1 {
		multi = fmt.Sprintf(" Multiplicity: %s tests in this section; with a Bonferroni correction (score-test p below 0.05/%s) a difference is "+
			"resolved in %s of them.", v.count("tests/count", len(tests)), v.count("tests/count", len(tests)), v.count("tests/bonferroni", pass))
	}
	res.Verdict = prov + strings.Join(verdict, "; ") + "." + multi + " What this does not show: anything beyond the cells done (n per group " +
		"in the table) and the one setting around which the factor is varied."
	res.Ours = factorOurs(c)
	return res, nil
}

// levelHolds reports whether spec s is at level lv.
func levelHolds(lv level, s sweepSpec) bool {
	t := sweepSpec{Temperature: s.Temperature, Kernel: s.Kernel, Sizes: s.Sizes}
	u := t
	lv.set(&u)
	return fmt.Sprint(t) == fmt.Sprint(u)
}

// tauDirection words a temperature fit against the prediction.
func tauDirection(x dwCox) string {
	switch coxDirection(x) {
	case "later":
		return "persistence longer at larger τ, as predicted"
	case "sooner":
		return "persistence shorter at larger τ, against the prediction"
	case "unresolved":
		return "no trend resolved"
	}
	return "no finite estimate"
}

// levelDirection words a level-against-baseline test, against the prediction where the factor has one (unequal: lost
// sooner with unequal sizes; the kernel sweep claims no direction).
func levelDirection(factor string, x dwCox) string {
	d := coxDirection(x)
	w := map[string]string{"sooner": "lost sooner", "later": "kept longer", "unresolved": "no difference resolved", "none": "no finite estimate"}[d]
	if factor == "unequal" {
		switch d {
		case "sooner":
			w += ", as predicted"
		case "later":
			w += ", against the prediction"
		}
	}
	return w
}

func factorOurs(c FactorConfig) string {
	return fmt.Sprintf("Every setting: %d Gaussian clusters (std %g, centres on a circle of radius %g; %d points each unless the sizes are the "+
		"factor), a data draw per seed, no augmentation, methods %v (0: particles starting from a one-hidden-layer NTK network's "+
		"embedding), width %d, %s parameterisation, lr %g (particles lr·N), τ = %g unless τ is the factor, %d steps, logging every %d "+
		"steps (particles every %d up to step %d, then every %d; the window of %d measurements is therefore %d steps for the "+
		"networks and, early on, %d for the particles), the threshold and the stop rule.", c.Clusters, c.Radius, c.Scale, c.PerCluster,
		c.Methods, c.Width, c.Scaling, c.LR, c.Temperature, c.Steps, c.LogEvery, c.ParticleLogEvery, c.ParticleDenseUntil, c.LogEvery,
		c.Window, c.Window*c.LogEvery, c.Window*max(c.ParticleLogEvery, 1))
}
