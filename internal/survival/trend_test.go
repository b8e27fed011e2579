package survival

import (
	"math"
	"testing"
)

// TestTrendIsLogRank: with w ∈ {0, 1} and one stratum the trend test is the two-sample log-rank test (the Gehan
// 6-MP data, ties included: U = O_a − E_a, V the same hypergeometric variance).
func TestTrendIsLogRank(t *testing.T) {
	var ss []Subject
	for _, o := range gehan6MP {
		ss = append(ss, Subject{Obs: o, X: []float64{1}})
	}
	for _, o := range gehanPlacebo {
		ss = append(ss, Subject{Obs: o, X: []float64{0}})
	}
	r, lr := TrendTest(ss), LogRankTest(gehan6MP, gehanPlacebo)
	if !near(r.U, lr.ObsA-lr.ExpA, 1e-9) || !near(r.V, lr.Var, 1e-9) || !near(r.Chi2, lr.Chi2, 1e-9) || r.Events != 30 || r.Strata != 1 {
		t.Errorf("trend %+v, log-rank %+v", r, lr)
	}
}

// TestTrendHand: w = 0, 1, 2 with events at 1, 2, 3 (one subject each) and a subject with w = 1 censored at 4.
// t = 1: risk w {0, 1, 2, 1}, mean 1, v = 1/2, d = 1: U += 0 − 1, V += 1·3/3·(1/2) = 1/2;
// t = 2: risk {1, 2, 1}, mean 4/3, v = 2/9: U += 1 − 4/3, V += 2/9;
// t = 3: risk {2, 1}, mean 3/2, v = 1/4: U += 2 − 3/2, V += 1/4.
// U = −1 − 1/3 + 1/2 = −5/6, V = 1/2 + 2/9 + 1/4 = 35/36, χ² = (25/36)/(35/36) = 5/7.
// A second stratum that repeats it adds the same U and V.
func TestTrendHand(t *testing.T) {
	one := []Subject{subj(1, true, 0), subj(2, true, 1), subj(3, true, 2), subj(4, false, 1)}
	r := TrendTest(one)
	if !near(r.U, -5.0/6, 1e-12) || !near(r.V, 35.0/36, 1e-12) || !near(r.Chi2, 5.0/7, 1e-12) || !near(r.P, math.Erfc(math.Sqrt(5.0/14)), 1e-12) {
		t.Errorf("%+v; want U −5/6, V 35/36, χ² 5/7", r)
	}
	var two []Subject
	for _, s := range one {
		a, b := s, s
		a.Stratum, b.Stratum = "a", "b"
		b.Time += 0.5 // other times: strata do not share risk sets
		two = append(two, a, b)
	}
	if s := TrendTest(two); !near(s.U, 2*r.U, 1e-12) || !near(s.V, 2*r.V, 1e-12) || s.Strata != 2 {
		t.Errorf("two strata %+v; want U, V doubled", s)
	}
}
