package experiments

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// TestCommittedTraceParticleVsNetwork: persistence under both statistics (the window rule on timeseries.csv's
// series), the end-of-run ranges, the regular N-gon's and the K-point configuration's losses (closed forms, and
// the CSV's loss less its gap agrees), the silhouette at equal loss gap (interpolated again here) and the paired
// differences of the verdict.
func TestCommittedTraceParticleVsNetwork(t *testing.T) {
	const dir = "../results/particle-vs-network"
	runTrace(t, dir, func() *trace { return tracePVN(t, dir) })
}

type pvnSeries struct {
	seed                     string
	steps                    []int
	sil, probe, gap, outNorm []float64
	diverged                 bool
}

func tracePVN(t *testing.T, dir string) *trace {
	var c ParticleVsNetworkConfig
	readSettings(t, dir, &c)
	tr := newTrace()
	d, err := pointData(c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed)
	if err != nil {
		t.Fatal(err)
	}
	thr, lmin := SilThreshold(d.Labels, d.K, 2), lossOfRegularPolygon(d.N, c.Temperature)
	methods := pvnMethods(c)
	by := map[string][]*pvnSeries{}
	for _, r := range csvOf(t, dir, "timeseries.csv") {
		rs := by[r["method"]]
		if len(rs) == 0 || rs[len(rs)-1].seed != r["seed"] {
			rs = append(rs, &pvnSeries{seed: r["seed"], diverged: r["diverged"] == "true"})
			by[r["method"]] = rs
		}
		s := rs[len(rs)-1]
		s.steps = append(s.steps, atoi(r["step"]))
		s.sil, s.probe = append(s.sil, csvFloat(r["silhouette"])), append(s.probe, csvFloat(r["probe_acc"]))
		s.gap, s.outNorm = append(s.gap, csvFloat(r["loss_gap"])), append(s.outNorm, csvFloat(r["out_norm"]))
		if l := csvFloat(r["loss"]); math.Abs(l-s.gap[len(s.gap)-1]-lmin) > 1e-5*l {
			tr.failf("timeseries.csv: loss %g less its gap %g is not the regular N-gon's %g", l, s.gap[len(s.gap)-1], lmin)
		}
	}
	tr.num("lmin", lmin, 1e-12)
	tr.num("kpoint_gap", lossOfKPoints(d.N, d.K, c.Temperature)-lmin, 1e-12)
	silObs := map[string][]survival.Obs{} // each method's silhouette persistence, runs with visible clusters
	for mi, m := range methods {
		k := fmt.Sprintf("m%d", mi)
		var so, po []survival.Obs
		var sn, pn, div int
		var gap, sil, prb, on []float64
		for _, s := range by[m.name] {
			last := c.Steps
			if s.diverged {
				last, div = s.steps[len(s.steps)-1], div+1
			}
			if o, never := windowRule(s.steps, s.sil, thr, c.window(m), last); never {
				sn++
			} else {
				so = append(so, o)
			}
			if o, never := windowRule(s.steps, s.probe, probeThreshold, c.window(m), last); never {
				pn++
			} else {
				po = append(po, o)
			}
			n := len(s.steps) - 1
			gap, sil, prb, on = append(gap, s.gap[n]), append(sil, s.sil[n]), append(prb, s.probe[n]), append(on, s.outNorm[n])
		}
		tr.group("sil/"+k, so, sn, div)
		silObs[m.name] = so
		tr.group("probe/"+k, po, pn, div)
		tr.count("last/"+k+"/n", len(gap))
		tr.rangeOf("last/"+k+"/loss_gap", gap, 1e-12)
		tr.rangeOf("last/"+k+"/silhouette", sil, 0)
		tr.rangeOf("last/"+k+"/probe", prb, 0)
		tr.rangeOf("last/"+k+"/out_norm", on, 0)
	}
	// Equal loss gap: six levels spaced geometrically over the gaps every run passed through.
	hi, lo := math.Inf(1), 0.0
	for _, m := range methods {
		for _, s := range by[m.name] {
			hi, lo = min(hi, slices.Max(s.gap)), max(lo, slices.Min(s.gap), 1e-9)
		}
	}
	silAt := func(s *pvnSeries, g float64) float64 {
		for i, gi := range s.gap {
			if gi > g {
				continue
			}
			if i == 0 || gi <= 0 {
				return s.sil[i]
			}
			w := math.Log(s.gap[i-1]/g) / math.Log(s.gap[i-1]/gi)
			return s.sil[i-1] + w*(s.sil[i]-s.sil[i-1])
		}
		return math.NaN()
	}
	levels := make([]float64, 6)
	for i := range levels {
		levels[i] = hi * math.Pow(lo/hi, float64(i)/5)
	}
	levels[5] = lo
	for li, g := range levels {
		tr.num(fmt.Sprintf("equal_gap/level%d", li), g, 1e-12*g)
		for mi, m := range methods {
			var xs []float64
			for _, s := range by[m.name] {
				xs = append(xs, silAt(s, g))
			}
			if slices.ContainsFunc(xs, math.IsNaN) {
				tr.failf("equal gap level %d: a run of %s never reaches it", li, m.name)
				continue
			}
			tr.rangeOf(fmt.Sprintf("equal_gap/level%d/m%d", li, mi), xs, 1e-9)
		}
	}
	for mi := range methods[1:] {
		k := fmt.Sprintf("equal_gap/m%d", mi+1)
		var ds []float64
		seedPos, seedNeg := 0, 0
		for _, s := range by[methods[mi+1].name] {
			for _, p := range by[methods[0].name] {
				if p.seed != s.seed {
					continue
				}
				var sum float64
				n := 0
				for _, g := range levels {
					if d := silAt(s, g) - silAt(p, g); !math.IsNaN(d) {
						ds = append(ds, d)
						sum, n = sum+d, n+1
					}
				}
				if n > 0 && sum > 0 {
					seedPos++
				} else if n > 0 && sum < 0 {
					seedNeg++
				}
			}
		}
		tr.count(k+"/seeds_pos", seedPos)
		tr.count(k+"/seeds_neg", seedNeg)
		tr.num(k+"/seeds_sign_p", signP(seedPos, seedNeg), 1e-12)
		pos := 0
		for _, d := range ds {
			if d > 0 {
				pos++
			}
		}
		m, _ := meanStd(ds)
		tr.count(k+"/positive", pos)
		tr.count(k+"/pairs", len(ds))
		tr.num(k+"/mean", m, 1e-9)
		tr.num(k+"/min", slices.Min(ds), 1e-9)
		tr.num(k+"/max", slices.Max(ds), 1e-9)
		tr.num(k+"/level_hi", hi, 1e-12*hi)
		tr.num(k+"/level_lo", lo, 1e-12*lo)
	}
	// Clusters created, and each network against the particles of its seed.
	type po struct {
		o     survival.Obs
		never bool
	}
	per := map[string]map[string]po{}
	for mi, m := range methods {
		k := fmt.Sprintf("created/m%d", mi)
		per[m.name] = map[string]po{}
		var below, made int
		var at []float64
		for _, s := range by[m.name] {
			last := c.Steps
			if s.diverged {
				last = s.steps[len(s.steps)-1]
			}
			o, never := windowRule(s.steps, s.sil, thr, c.window(m), last)
			per[m.name][s.seed] = po{o, never}
			if s.sil[0] >= thr {
				continue
			}
			below++
			for i, x := range s.sil {
				if x >= thr {
					made++
					at = append(at, float64(s.steps[i]))
					break
				}
			}
		}
		tr.count(k+"/runs", len(by[m.name]))
		tr.count(k+"/below", below)
		tr.count(k+"/made", made)
		if len(at) > 0 {
			tr.rangeOf(k+"/step", at, 0)
		}
	}
	for mi, m := range methods[1:] {
		k := fmt.Sprintf("paired/m%d", mi+1)
		var longer, shorter, undecided int
		for seed, net := range per[m.name] {
			p, ok := per[methods[0].name][seed]
			switch {
			case !ok || net.never || p.never:
				undecided++
			case p.o.Event && net.o.Time > p.o.Time:
				longer++
			case net.o.Event && p.o.Time > net.o.Time:
				shorter++
			default:
				undecided++
			}
		}
		tr.count(k+"/longer", longer)
		tr.count(k+"/shorter", shorter)
		tr.count(k+"/undecided", undecided)
		tr.num(k+"/sign_p", signP(longer, shorter), 1e-12)
		// The log-rank test of the network's silhouette persistence against the particles'.
		if a, b := silObs[m.name], silObs[methods[0].name]; len(a) > 0 && len(b) > 0 {
			lr := survival.LogRankTest(a, b)
			if lr.ObsA+lr.ObsB > 0 {
				lk := fmt.Sprintf("logrank/m%d", mi+1)
				tr.num(lk+"/chi2", lr.Chi2, 1e-9)
				tr.num(lk+"/p", lr.P, 1e-12)
				tr.num(lk+"/hr", lr.HazardRatio, 1e-9)
				tr.count(lk+"/events", int(lr.ObsA))
				tr.count(lk+"/events_particles", int(lr.ObsB))
			}
		}
	}
	return tr
}

// signP is the two-sided sign test by hand: P(X ≤ min(a, b)) doubled, X ~ Binomial(a + b, 1/2).
func signP(a, b int) float64 {
	n, lo := a+b, min(a, b)
	if n == 0 {
		return 1
	}
	var tail, c float64 = 0, 1
	for i := 0; i <= lo; i++ {
		if i > 0 {
			c = c * float64(n-i+1) / float64(i)
		}
		tail += c / math.Pow(2, float64(n))
	}
	return math.Min(1, 2*tail)
}
