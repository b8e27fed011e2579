package experiments

import (
	"fmt"
	"math"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/survival"
	"github.com/spf13/pflag"
)

// EffectiveStepConfig sets the effective-step slice (issue 24 point 2): does depth shorten persistence at equal
// effective step size? A slice of depth-width (one width, both parameterisations, three depths) at several fixed
// learning rates and at a learning rate normalised per cell so that every network starts with the same
// effective step, each seed with a data draw of its own. Every value is ours.
type EffectiveStepConfig struct {
	sweepBase
	Width       int       `json:"width"`
	Depths      []int     `json:"depths"`
	Scalings    []string  `json:"scalings"`
	LRs         []float64 `json:"lrs"`         // fixed learning rates
	TargetEff   float64   `json:"target-eff"`  // the normalised rule's effective step at step 0 (0: no normalised cells)
	Temperature float64   `json:"temperature"` // NT-Xent
}

// DefaultEffectiveStep returns the full (or quick) settings.
func DefaultEffectiveStep(quick bool) EffectiveStepConfig {
	c := EffectiveStepConfig{sweepBase: sweepBase{Clusters: 4, PerCluster: 32, Radius: 0.15, Scale: 2, Activation: arch.LeakyReLU,
		Steps: 20000, LogEvery: 100, Window: 5, Stop: true, Seeds: 8, FirstSeed: 1},
		Width: 256, Depths: []int{1, 4, 8}, Scalings: []string{arch.ScalingStandard, arch.ScalingNTK}, LRs: []float64{0.0125, 0.05, 0.2},
		TargetEff: 5, Temperature: 0.5}
	if quick {
		c.PerCluster, c.Width, c.Depths, c.Steps, c.LogEvery, c.Window, c.Seeds, c.LRs = 8, 16, []int{1, 2}, 60, 10, 2, 2, []float64{0.05}
	}
	return c
}

func bindEffectiveStep(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
	c := DefaultEffectiveStep(quick)
	bindSweepFlags(fs, &c.sweepBase)
	fs.IntVar(&c.Width, "width", c.Width, "hidden width m")
	fs.IntSliceVar(&c.Depths, "depths", c.Depths, "hidden layers L")
	fs.StringSliceVar(&c.Scalings, "scalings", c.Scalings, "parameterisations")
	fs.Float64SliceVar(&c.LRs, "lrs", c.LRs, "fixed learning rates")
	fs.Float64Var(&c.TargetEff, "target-eff", c.TargetEff, "effective step at step 0 of the normalised cells (0: none)")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "NT-Xent temperature τ")
	return func(cm Common) (*Result, error) { return RunEffectiveStep(c, cm) }
}

// bindSweepFlags binds the flags every persistence sweep shares.
func bindSweepFlags(fs *pflag.FlagSet, b *sweepBase) {
	bindPointFlags(fs, &b.Clusters, &b.PerCluster, &b.Radius, &b.Scale, new(string))
	fs.StringVar(&b.Activation, "activation", b.Activation, "activation σ")
	fs.IntVar(&b.Steps, "steps", b.Steps, "full-batch steps per run: the censoring time T")
	fs.IntVar(&b.LogEvery, "log-every", b.LogEvery, "measure every this many steps")
	fs.IntVar(&b.Window, "window", b.Window, "persistence ends at the first of this many consecutive measurements below the threshold")
	fs.BoolVar(&b.Stop, "stop", b.Stop, "end a run once its persistence event is decided (the stop rule)")
	fs.IntVar(&b.Seeds, "seeds", b.Seeds, "seeds per setting (each seed draws its own data)")
	fs.Uint64Var(&b.FirstSeed, "first-seed", b.FirstSeed, "first seed")
	fs.DurationVar(&b.For, "for", 0, "start no new cell after this long (e.g. 15m; 0: run to the end); run again to resume")
	fs.BoolVar(&b.ReportOnly, "report-only", false, "run no cell: write the tables, figures and summary of the cells stored")
}

// rules lists the learning-rate rules of the slice: each fixed lr, then the normalised one.
func (c EffectiveStepConfig) rules() []sweepSpec {
	var out []sweepSpec
	for _, lr := range c.LRs {
		out = append(out, sweepSpec{Rule: "fixed", LR: lr})
	}
	if c.TargetEff > 0 {
		out = append(out, sweepSpec{Rule: "normalised", LR: c.TargetEff})
	}
	return out
}

// ruleName names a rule in tables and values.
func ruleName(s sweepSpec) string {
	if s.Rule == "normalised" {
		return fmt.Sprintf("e0=%g", s.LR)
	}
	return fmt.Sprintf("lr=%g", s.LR)
}

// plan lists the cells seed by seed (a sitting cut short leaves whole seeds), the normalised rule first.
func (c EffectiveStepConfig) plan() []sweepSpec {
	rules := c.rules()
	if n := len(rules); n > 0 && rules[n-1].Rule == "normalised" {
		rules = append([]sweepSpec{rules[n-1]}, rules[:n-1]...)
	}
	var out []sweepSpec
	for s := range uint64(c.Seeds) {
		for _, r := range rules {
			for _, sc := range c.Scalings {
				for _, l := range c.Depths {
					out = append(out, sweepSpec{Depth: l, Width: c.Width, Scaling: sc, Rule: r.Rule, LR: r.LR, Temperature: c.Temperature,
						Kernel: "exp", Seed: c.FirstSeed + s, DataSeed: c.FirstSeed + s})
				}
			}
		}
	}
	return out
}

// RunEffectiveStep runs the cells not yet stored (as many as c.For allows) and reports every stored cell.
func RunEffectiveStep(c EffectiveStepConfig, cm Common) (*Result, error) {
	plan := c.plan()
	dir, done, err := runSweep("effective-step", cm, c, c.sweepBase, plan, func(path string) error {
		return sameSettings(path, c, func(s *EffectiveStepConfig) { s.For, s.ReportOnly, s.Seeds = c.For, c.ReportOnly, c.Seeds })
	})
	if err != nil {
		return nil, err
	}
	res, err := effStepReport(c, dir, done, len(plan))
	if err != nil {
		return nil, err
	}
	return res, writeSummary(res, cm, res.Numbers)
}

// effStepReport words the slice: the prediction first, then the tables and the primary test.
func effStepReport(c EffectiveStepConfig, dir string, done []sweepCell, total int) (*Result, error) {
	v := vals{}
	res := &Result{Name: "effective-step", Dir: dir, Title: "Depth against the effective step size (persistence on the clock of the cumulative effective step)",
		Values: v, Stop: sweepStop(c.sweepBase), Builds: countBuilds(sweepBuilds(done)), Seconds: sweepSeconds(done)}
	if err := writeSweepCSV(dir, c.sweepBase, done); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("Prediction, stated before the result (paper.md §7 target 5, the reviewers' hypothesis): as depth grows the network " +
		"behaves more like particle descent and persistence falls. Issue 24 asks whether that is depth or step size: at one learning " +
		"rate a deeper (or NTK-parameterised) network moves its latent points further per step. If depth itself shortens " +
		"persistence, deeper networks lose their clusters sooner also on the clock of the cumulative effective step S (a hazard " +
		"ratio per doubling of depth above 1 there); if it is the step size, that hazard ratio is near 1 while the one on steps " +
		"stays above 1.\n\n")
	b.WriteString(sweepHeader(v, c.sweepBase, done, total, "effective-step"))
	var outs []sweepOut
	var groups []sweepGroup
	for _, r := range c.rules() {
		for _, sc := range c.Scalings {
			for _, l := range c.Depths {
				g := sweepGroup{name: fmt.Sprintf("%s-%s-L%d", ruleName(r), sc, l), label: fmt.Sprintf("%s, %s, L=%d", ruleName(r), sc, l)}
				for _, cl := range done {
					if cl.Depth == l && cl.Scaling == sc && cl.Rule == r.Rule && cl.LR == r.LR {
						o := outcomes(c.sweepBase, cl, math.NaN())
						g.outs, outs = append(g.outs, o), append(outs, o)
					}
				}
				if len(g.outs) > 0 {
					groups = append(groups, g)
				}
			}
		}
	}
	if len(done) > 0 {
		b.WriteString(kmTable(v, groups, true))
		cov := func(o sweepOut) float64 { return math.Log2(float64(o.cell.Depth)) }
		stratum := func(o sweepOut) string { return o.cell.Scaling + "|" + ruleName(o.cell.sweepSpec) }
		onS, xs := coxOf(v, "cox_eff", outs, cov, stratum, true)
		onSteps, xt := coxOf(v, "cox_steps", outs, cov, stratum, false)
		fmt.Fprintf(&b, "\nPrimary test: one Cox model on the clock of the cumulative effective step S, stratified by parameterisation × "+
			"learning-rate rule, covariate log₂ L (a hazard ratio above 1: deeper networks lose the clusters sooner at equal S): %s. "+
			"The same model on steps: %s.\n", strings.Replace(onS, "per unit of the covariate", "per doubling of depth", 1),
			strings.Replace(onSteps, "per unit of the covariate", "per doubling of depth", 1))
		var norm []sweepOut
		for _, o := range outs {
			if o.cell.Rule == "normalised" {
				norm = append(norm, o)
			}
		}
		byScaling := func(o sweepOut) string { return o.cell.Scaling }
		nSteps, xn := coxOf(v, "cox_norm_steps", norm, cov, byScaling, false)
		nS, _ := coxOf(v, "cox_norm_eff", norm, cov, byScaling, true)
		fmt.Fprintf(&b, "\nThe normalised cells alone (every network starts at the same effective step e₀), stratified by parameterisation: on "+
			"steps %s; on S %s.\n", strings.Replace(nSteps, "per unit of the covariate", "per doubling of depth", 1),
			strings.Replace(nS, "per unit of the covariate", "per doubling of depth", 1))
		byScale := map[string]dwCox{}
		var parts []string
		for _, sc := range c.Scalings {
			var mine []sweepOut
			for _, o := range outs {
				if o.cell.Scaling == sc {
					mine = append(mine, o)
				}
			}
			byRule := func(o sweepOut) string { return ruleName(o.cell.sweepSpec) }
			wS, xS := coxOf(v, "cox_eff/"+sc, mine, cov, byRule, true)
			wT, _ := coxOf(v, "cox_steps/"+sc, mine, cov, byRule, false)
			byScale[sc] = xS
			parts = append(parts, fmt.Sprintf("%s: on S %s; on steps %s", sc, strings.Replace(wS, "per unit of the covariate", "per doubling of depth", 1),
				strings.Replace(wT, "per unit of the covariate", "per doubling of depth", 1)))
		}
		fmt.Fprintf(&b, "\nBy parameterisation (one Cox model each, stratified by learning-rate rule): %s.\n", strings.Join(parts, "; "))
		inter := ""
		if len(c.Scalings) == 2 {
			inter = effInteraction(v, "interaction_eff", outs, c.Scalings, stratum)
			fmt.Fprintf(&b, "\nDoes the depth effect on S differ between the parameterisations? One Cox model on S, stratified as the primary "+
				"one, with covariates log₂ L and log₂ L × [%s]: %s.\n", c.Scalings[1], inter)
		}
		mono, strata := effMonotone(c, groups)
		fmt.Fprintf(&b, "\nThe model's covariate is log₂ L with one hazard ratio for every doubling; the group medians on S fall with "+
			"every step in depth (L = %v) in %s of the %s parameterisation × rule strata with a median at each depth.\n", c.Depths,
			v.count("monotone/falling", mono), v.count("monotone/strata", strata))
		res.Verdict = effStepVerdict(v, xs, xt, xn, len(done), total, c.Scalings, byScale, inter)
	}
	b.WriteString("\n### What this does not show\n\n- One width (" + fmt.Sprint(c.Width) + "), one τ, one activation, full-batch SGD without " +
		"augmentation; S measures the step along the loss's own gradient on the latent points, not every direction the points move.\n" +
		"- The normalised rule equalises e at step 0 only: ‖g(x)‖ and the kernel change during training, which is why persistence " +
		"is also read on S.\n")
	res.Numbers = b.String()
	res.Ours = fmt.Sprintf("Every setting: %d Gaussian clusters × %d points (std %g, centres on a circle of radius %g), a data draw per seed, "+
		"no augmentation, NT-Xent τ = %g, %s activation, width %d, depths %v, %v parameterisations, fixed learning rates %v and the "+
		"normalised rule (lr = e₀·lr_probe/e(lr_probe), lr_probe = %g) with e₀ = %g, %d steps, logging every %d steps, the threshold, the "+
		"window, the stop rule, the effective-step measure.", c.Clusters, c.PerCluster, c.Radius, c.Scale, c.Temperature, c.Activation,
		c.Width, c.Depths, c.Scalings, c.LRs, probeLR, c.TargetEff, c.Steps, c.LogEvery)
	return res, nil
}

// effMonotone counts the strata (parameterisation, rule) whose KM medians on S exist at every depth and fall
// strictly from each depth to the next (a median past the data counts as +Inf).
func effMonotone(c EffectiveStepConfig, groups []sweepGroup) (falling, strata int) {
	med := map[string]float64{}
	for _, g := range groups {
		p := g.persist(true)
		if e := p.estimate(); e.N > 0 {
			med[g.name] = e.Median
		}
	}
	for _, r := range c.rules() {
		for _, sc := range c.Scalings {
			var ms []float64
			for _, l := range c.Depths {
				if m, ok := med[fmt.Sprintf("%s-%s-L%d", ruleName(r), sc, l)]; ok && !math.IsNaN(m) {
					ms = append(ms, m)
				}
			}
			if len(ms) != len(c.Depths) {
				continue
			}
			strata++
			ok := true
			for i := 1; i < len(ms); i++ {
				ok = ok && ms[i] < ms[i-1]
			}
			if ok {
				falling++
			}
		}
	}
	return falling, strata
}

// effStepVerdict answers the question: per parameterisation first (the two differ), then the pooled models.
func effStepVerdict(v vals, onS, onSteps, norm dwCox, done, total int, scalings []string, by map[string]dwCox, inter string) string {
	prov := ""
	if done < total {
		prov = fmt.Sprintf("Provisional, from %s of %s cells. ", v.count("cells/done", done), v.count("cells/total", total))
	}
	s := func(x dwCox) string {
		switch coxDirection(x) {
		case "sooner":
			return "deeper networks lose the clusters sooner"
		case "later":
			return "deeper networks keep the clusters longer"
		case "unresolved":
			return "no trend with depth is resolved (the 95% interval contains 1)"
		}
		return "no finite estimate"
	}
	var parts []string
	for _, sc := range scalings {
		x := by[sc]
		parts = append(parts, fmt.Sprintf("%s parameterisation: %s (hazard ratio %s per doubling of depth, n = %s runs)", sc, s(x),
			hrText(v, "cox_eff/"+sc, x), valueRef("cox_eff/"+sc+"/runs")))
	}
	answer := "Does depth shorten persistence at equal cumulative effective step S? " + strings.Join(parts, "; ") + "."
	if inter != "" {
		if p, ok := v["interaction_eff/p"]; ok && float64(p.V) < 0.05 {
			answer += " The depth effect differs between the parameterisations (Wald p < 0.05): " + inter + "."
		} else {
			answer += " No difference between the parameterisations' depth effects is resolved: " + inter + "."
		}
	}
	return prov + answer + fmt.Sprintf(" Pooled over both (one model, stratified by parameterisation × rule): %s (%s, n = %s runs), an average "+
		"of effects of different size, not one answer for both. On steps, %s (%s); among the cells started at the same effective step, "+
		"on steps, %s (%s, n = %s). What this does not show: anything beyond the cells done, and beyond one width and τ; that the effect "+
		"is one constant hazard ratio per doubling (the group medians are not always monotone in depth, see above); e is held equal at "+
		"the start only, so S, not the normalised rule, is the equal-step comparison; why the parameterisations differ (our guess, "+
		"not tested here: the output norm of standard networks grows during training).",
		s(onS), hrText(v, "cox_eff", onS), v.count("cox_eff/runs", onS.runs), s(onSteps), hrText(v, "cox_steps", onSteps), s(norm),
		hrText(v, "cox_norm_steps", norm), v.count("cox_norm_steps/runs", norm.runs))
}

// hrText is a fit's hazard ratio and interval, as recorded by coxWords under name.
func hrText(v vals, name string, x dwCox) string {
	if x.err == nil && x.fit.Infinite {
		if x.fit.Beta[0] > 0 {
			return "→ ∞ (monotone likelihood; trend p = " + v.num(name+"/score_p", x.trend.P, "%.2g") + ")"
		}
		return "→ 0 (monotone likelihood; trend p = " + v.num(name+"/score_p", x.trend.P, "%.2g") + ")"
	}
	if x.err != nil || math.IsNaN(x.hr) {
		return "no finite estimate"
	}
	return fmt.Sprintf("%s [%s, %s]", v.num(name+"/hr", x.hr, "%.3g"), v.num(name+"/hr_lo", x.hrLo, "%.3g"), v.num(name+"/hr_hi", x.hrHi, "%.3g"))
}

// effInteraction fits the Cox model on S with covariates log₂ L and log₂ L × [scaling = scalings[1]] and words the
// second coefficient: the ratio of the hazard ratios per doubling of depth (scalings[1] over scalings[0]).
func effInteraction(v vals, name string, outs []sweepOut, scalings []string, stratum func(sweepOut) string) string {
	var ss []survival.Subject
	for _, o := range outs {
		if o.never {
			continue
		}
		l := math.Log2(float64(o.cell.Depth))
		ind := 0.0
		if o.cell.Scaling == scalings[1] {
			ind = 1
		}
		ss = append(ss, survival.Subject{Obs: o.effS, X: []float64{l, l * ind}, Stratum: stratum(o)})
	}
	f, err := survival.Cox(ss)
	if err != nil || f.Infinite || math.IsNaN(f.SE[1]) {
		return fmt.Sprintf("no finite estimate (n = %s runs)", v.count(name+"/runs", len(ss)))
	}
	b, se := f.Beta[1], f.SE[1]
	return fmt.Sprintf("the hazard ratio per doubling of depth is %s [%s, %s] times as large under %s as under %s (Wald p = %s, n = %s runs)",
		v.num(name+"/ratio", math.Exp(b), "%.3g"), v.num(name+"/ratio_lo", math.Exp(b-1.959964*se), "%.3g"),
		v.num(name+"/ratio_hi", math.Exp(b+1.959964*se), "%.3g"), scalings[1], scalings[0], v.num(name+"/p", f.P[1], "%.2g"),
		v.count(name+"/runs", len(ss)))
}
