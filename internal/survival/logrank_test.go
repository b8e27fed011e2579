package survival

import (
	"math"
	"testing"
)

// TestLogRankGehan: 6-MP against placebo, the textbook example (Kleinbaum & Klein, Survival Analysis, 3rd ed.,
// §2.V; R: survdiff(Surv(time, cens) ~ treat, gehan)): O = 9 and 21, E = 19.25 and 10.75, χ² = 16.79, p = 4.2e-05.
// By hand, V = Σ d_j (n_1j/n_j)(1 − n_1j/n_j)(n_j − d_j)/(n_j − 1) = 6.2570, so χ² = 10.25²/6.2570 = 16.791.
func TestLogRankGehan(t *testing.T) {
	r := LogRankTest(gehan6MP, gehanPlacebo)
	if r.ObsA != 9 || r.ObsB != 21 || !near(r.ExpA, 19.25, 5e-3) || !near(r.ExpB, 10.75, 5e-3) {
		t.Errorf("O = %g, %g; E = %.4f, %.4f; want 9, 21; 19.25, 10.75", r.ObsA, r.ObsB, r.ExpA, r.ExpB)
	}
	if !near(r.Chi2, 16.79, 0.01) || !near(r.P, 4.17e-5, 0.02e-5) {
		t.Errorf("χ² = %.4f, p = %.4g; want 16.79, 4.17e-05", r.Chi2, r.P)
	}
	if want := (9 / r.ExpA) / (21 / r.ExpB); !near(r.HazardRatio, want, 1e-12) || r.HazardRatio > 0.25 {
		t.Errorf("hazard ratio %g, want (9/E_a)/(21/E_b) = %g ≈ 0.24", r.HazardRatio, want)
	}
	// Swapping the samples keeps χ² and inverts the ratio.
	s := LogRankTest(gehanPlacebo, gehan6MP)
	if !near(s.Chi2, r.Chi2, 1e-9) || !near(s.HazardRatio, 1/r.HazardRatio, 1e-9) {
		t.Errorf("swapped: χ² %g, ratio %g; want %g, %g", s.Chi2, s.HazardRatio, r.Chi2, 1/r.HazardRatio)
	}
}

// TestLogRankEdges: identical samples give χ² = 0; no events give no information (p = 1); all-censored b
// against events in a still counts a's events.
func TestLogRankEdges(t *testing.T) {
	x := events(1, 2, 3)
	if r := LogRankTest(x, x); r.Chi2 != 0 || r.P != 1 || r.HazardRatio != 1 {
		t.Errorf("identical: %+v", r)
	}
	c := []Obs{{5, false}, {6, false}}
	if r := LogRankTest(c, c); r.Chi2 != 0 || r.P != 1 || r.ObsA != 0 {
		t.Errorf("no events: %+v", r)
	}
	// a: events at 1, 2; b: censored at 3, 4. At t=1: n=4, n_a=2, d=1 → E_a=0.5, V=0.25;
	// t=2: n=3, n_a=1, d=1 → E_a=1/3, V=(1/3)(2/3)=2/9. O_a=2, E_a=5/6, V=17/36, χ² = (7/6)²/(17/36) = 49/17.
	r := LogRankTest(events(1, 2), c[:0:0])
	if r.ObsA != 2 || r.Chi2 != 0 {
		t.Errorf("one-sample: %+v", r)
	}
	r = LogRankTest(events(1, 2), []Obs{{3, false}, {4, false}})
	if !near(r.ExpA, 5.0/6, 1e-12) || !near(r.Var, 17.0/36, 1e-12) || !near(r.Chi2, 49.0/17, 1e-12) || !math.IsInf(r.HazardRatio, 1) {
		t.Errorf("by hand: %+v; want E_a 5/6, V 17/36, χ² 49/17, ratio +Inf", r)
	}
}
