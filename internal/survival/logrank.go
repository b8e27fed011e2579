package survival

import (
	"math"
	"slices"
)

// LogRank is the two-sample log-rank test (Mantel 1966; Peto & Peto 1972) of the hypothesis that samples a and
// b have the same hazard. At each distinct event time t_j of the pooled data, with n_j at risk (n_aj of them in
// a) and d_j events (d_aj in a),
//
//	E_a = Σ_j d_j n_aj/n_j                                      (a's expected events under the hypothesis)
//	V   = Σ_j d_j (n_aj/n_j)(1 − n_aj/n_j)(n_j − d_j)/(n_j − 1)  (hypergeometric variance; n_j = 1 adds 0)
//	χ²  = (O_a − E_a)²/V on one degree of freedom.
//
// HazardRatio is the O/E ratio (O_a/E_a)/(O_b/E_b): above 1, a's events come sooner than b's. Where V = 0
// (no event, or nothing to compare) Chi2 is 0 and P is 1: the data say nothing.
type LogRank struct {
	ObsA, ExpA, ObsB, ExpB float64
	Var, Chi2, P           float64
	HazardRatio            float64
}

// LogRankTest compares a and b (see LogRank). It panics on a NaN or negative time, like KaplanMeier.
func LogRankTest(a, b []Obs) LogRank {
	type tagged struct {
		Obs
		inA bool
	}
	var all []tagged
	for _, o := range a {
		all = append(all, tagged{o, true})
	}
	for _, o := range b {
		all = append(all, tagged{o, false})
	}
	for _, o := range all {
		if math.IsNaN(o.Time) || o.Time < 0 {
			panic("survival: LogRankTest wants times ≥ 0")
		}
	}
	slices.SortStableFunc(all, func(x, y tagged) int { return cmpFloat(x.Time, y.Time) })
	var r LogRank
	n, na := float64(len(all)), float64(len(a))
	for i := 0; i < len(all); {
		j, d, da, leave, leaveA := i, 0.0, 0.0, 0.0, 0.0
		for ; j < len(all) && all[j].Time == all[i].Time; j++ {
			leave++
			if all[j].inA {
				leaveA++
			}
			if all[j].Event {
				d++
				if all[j].inA {
					da++
				}
			}
		}
		if d > 0 {
			e := d * na / n
			r.ObsA, r.ExpA = r.ObsA+da, r.ExpA+e
			r.ObsB, r.ExpB = r.ObsB+d-da, r.ExpB+d-e
			if n > 1 {
				r.Var += d * (na / n) * (1 - na/n) * (n - d) / (n - 1)
			}
		}
		n, na, i = n-leave, na-leaveA, j
	}
	r.P, r.HazardRatio = 1, (r.ObsA/r.ExpA)/(r.ObsB/r.ExpB)
	if r.Var > 0 {
		r.Chi2 = (r.ObsA - r.ExpA) * (r.ObsA - r.ExpA) / r.Var
		r.P = math.Erfc(math.Sqrt(r.Chi2 / 2)) // upper tail of χ² with one degree of freedom
	}
	return r
}
