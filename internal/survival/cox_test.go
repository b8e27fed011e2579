package survival

import (
	"math"
	"math/rand/v2"
	"testing"
)

func subj(t float64, event bool, x ...float64) Subject { return Subject{Obs: Obs{t, event}, X: x} }

// coxExample is worked by hand below: x = 1 has events at 1 and 3, x = 0 an event at 2 and a censoring at 4.
var coxExample = []Subject{subj(1, true, 1), subj(3, true, 1), subj(2, true, 0), subj(4, false, 0)}

// TestCoxHandExample: no ties. With r = e^β the risk sets give
//
//	log PL = β − log(2r + 2) − log(r + 2) + β − log(r + 1),   U = 2/(r + 1) − r/(r + 2),
//
// so U = 0 at r² − r − 4 = 0, r = (1 + √17)/2, β̂ = 0.94054; I = 2r/(r + 1)² + 2r/(r + 2)². At β = 0, U = 2/3 and
// I = 13/18, so the score test is (2/3)²/(13/18) = 8/13, the log-rank χ² of the same data.
func TestCoxHandExample(t *testing.T) {
	f, err := Cox(coxExample)
	if err != nil {
		t.Fatal(err)
	}
	r := (1 + math.Sqrt(17)) / 2
	info := 2*r/((r+1)*(r+1)) + 2*r/((r+2)*(r+2))
	ll := 2*math.Log(r) - math.Log(2*r+2) - math.Log(r+2) - math.Log(r+1)
	if !near(f.Beta[0], math.Log(r), 1e-9) || !near(f.SE[0], 1/math.Sqrt(info), 1e-9) || !near(f.LogLik, ll, 1e-9) {
		t.Errorf("β %.8f, SE %.8f, log PL %.8f; want %.8f, %.8f, %.8f", f.Beta[0], f.SE[0], f.LogLik, math.Log(r), 1/math.Sqrt(info), ll)
	}
	if !near(f.LogLik0, -math.Log(4)-math.Log(3)-math.Log(2), 1e-12) || !near(f.Score, 8.0/13, 1e-12) {
		t.Errorf("log PL(0) %.10f, score %.10f; want −log 24, 8/13", f.LogLik0, f.Score)
	}
	lr := LogRankTest([]Obs{{1, true}, {3, true}}, []Obs{{2, true}, {4, false}})
	if !near(lr.Chi2, f.Score, 1e-12) {
		t.Errorf("score %g, log-rank %g: equal without ties", f.Score, lr.Chi2)
	}
	if f.Infinite || f.Events != 3 || !near(f.Z[0], f.Beta[0]/f.SE[0], 1e-12) || !near(f.P[0], math.Erfc(math.Abs(f.Z[0])/math.Sqrt2), 1e-12) {
		t.Errorf("%+v", f)
	}
}

// TestCoxEfronTies: A (t = 1, event, x = 1), B (t = 1, event, x = 0), C (t = 2, censored, x = 1). The two events
// at t = 1 share a risk set of sum 2r + 1 and tied sum r + 1; Efron's second term removes half the tied sum:
//
//	log PL = β − log(2r + 1) − log(1.5r + 0.5),   U = 1 − 2r/(2r + 1) − 3r/(3r + 1) = 0  ⇔  6r² = 1,
//
// β̂ = −½ log 6 = −0.89588 (Breslow's, 1 − 4r/(2r + 1) = 0, would be −log 2), I = p(1 − p) + q(1 − q) with
// p = 2r/(2r + 1), q = 3r/(3r + 1).
func TestCoxEfronTies(t *testing.T) {
	f, err := Cox([]Subject{subj(1, true, 1), subj(1, true, 0), subj(2, false, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := 1 / math.Sqrt(6)
	p, q := 2*r/(2*r+1), 3*r/(3*r+1)
	if !near(f.Beta[0], -math.Log(6)/2, 1e-9) || !near(f.SE[0], 1/math.Sqrt(p*(1-p)+q*(1-q)), 1e-9) ||
		!near(f.LogLik, math.Log(r)-math.Log(2*r+1)-math.Log(1.5*r+0.5), 1e-9) {
		t.Errorf("β %.8f, SE %.8f; want %.8f, %.8f", f.Beta[0], f.SE[0], -math.Log(6)/2, 1/math.Sqrt(p*(1-p)+q*(1-q)))
	}
}

// TestCoxStrata: each stratum has its own risk sets, so the example in two strata, the second with its times
// multiplied by 10, gives the same β̂ with twice the information; pooled into one stratum it does not.
func TestCoxStrata(t *testing.T) {
	var two, pooled []Subject
	for _, s := range coxExample {
		a, b := s, s
		a.Stratum, b.Stratum = "a", "b"
		b.Time *= 10
		two = append(two, a, b)
		b.Stratum = "a"
		pooled = append(pooled, a, b)
	}
	one, _ := Cox(coxExample)
	f, err := Cox(two)
	if err != nil {
		t.Fatal(err)
	}
	if !near(f.Beta[0], one.Beta[0], 1e-9) || !near(f.SE[0], one.SE[0]/math.Sqrt2, 1e-9) || !near(f.Score, 2*one.Score, 1e-9) {
		t.Errorf("two strata: β %g SE %g score %g; want %g, %g, %g", f.Beta[0], f.SE[0], f.Score, one.Beta[0], one.SE[0]/math.Sqrt2, 2*one.Score)
	}
	if g, _ := Cox(pooled); near(g.Beta[0], one.Beta[0], 1e-3) {
		t.Errorf("one stratum: β %g, the same as stratified: strata were ignored", g.Beta[0])
	}
}

// TestCoxMonotone: every event in the x = 1 group has no finite maximum; the score test still says so.
func TestCoxMonotone(t *testing.T) {
	f, err := Cox([]Subject{subj(1, true, 1), subj(2, true, 1), subj(3, false, 0), subj(4, false, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Infinite || !math.IsNaN(f.SE[0]) || f.Beta[0] < 5 || !(f.Score > 0) {
		t.Errorf("%+v: want Infinite, β large and positive, SE NaN, a positive score", f)
	}
	// Every x = 3 run fails before any x = 0 run does (some of which fail later): also no finite maximum, though the
	// likelihood flattens long before |β| reaches coxMaxBeta.
	var late []Subject
	for i := range 8 {
		late = append(late, subj(float64(500+100*i), true, 3))
		late = append(late, subj(float64(4400+1000*i), i < 6, 0))
	}
	if f, err := Cox(late); err != nil || !f.Infinite || !math.IsNaN(f.SE[0]) {
		t.Errorf("x = 3 all fail first: %+v, %v; want Infinite, SE NaN", f, err)
	}
	// One x = 0 failure among the x = 3 ones makes the maximum finite again.
	late[1] = subj(450, true, 0)
	if f, err := Cox(late); err != nil || f.Infinite || !(f.SE[0] > 0) {
		t.Errorf("one early x = 0 failure: %+v, %v; want a finite fit", f, err)
	}
	if _, err := Cox([]Subject{subj(1, false, 1), subj(2, false, 0)}); err != ErrNoEvents {
		t.Errorf("no events: err %v", err)
	}
}

// TestCoxGradient: on random tied data with two covariates and two strata, the score is the gradient of the
// log partial likelihood and the information minus its Hessian (central differences).
func TestCoxGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ss []Subject
	for i := range 40 {
		ss = append(ss, Subject{Obs: Obs{float64(rng.IntN(8)), rng.Float64() < 0.7}, X: []float64{rng.NormFloat64(), float64(i % 3)},
			Stratum: []string{"a", "b"}[i%2]})
	}
	st := coxStrata(ss)
	beta := []float64{0.3, -0.2}
	_, u, info, _ := coxTerms(st, beta)
	const h = 1e-5
	for k := range beta {
		bp, bm := append([]float64(nil), beta...), append([]float64(nil), beta...)
		bp[k] += h
		bm[k] -= h
		lp, up, _, _ := coxTerms(st, bp)
		lm, um, _, _ := coxTerms(st, bm)
		if g := (lp - lm) / (2 * h); !near(u[k], g, 1e-6*(1+math.Abs(g))) {
			t.Errorf("U[%d] = %.9f, finite difference %.9f", k, u[k], g)
		}
		for w := range beta {
			if g := -(up[w] - um[w]) / (2 * h); !near(info[w][k], g, 1e-5*(1+math.Abs(g))) {
				t.Errorf("I[%d][%d] = %.9f, finite difference %.9f", w, k, info[w][k], g)
			}
		}
	}
	f, err := Cox(ss)
	if err != nil {
		t.Fatal(err)
	}
	_, u, _, _ = coxTerms(st, f.Beta)
	if maxAbs(u) > 1e-7 {
		t.Errorf("score at the fit %v, want 0", u)
	}
}
