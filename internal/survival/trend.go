package survival

import (
	"fmt"
	"math"
)

// Trend is the stratified log-rank test for a trend in a scalar covariate w (Peto & Peto 1972; Collett,
// Modelling Survival Data, §2.6 and §3): within each stratum s, at each distinct event time t_j with risk set R_j
// (n_j subjects) and d_j events,
//
//	w̄_j  = (1/n_j) Σ_{R_j} w_i,   v_j = (1/n_j) Σ_{R_j} (w_i − w̄_j)²
//	U    = Σ_s Σ_j [ Σ_{events at t_j} w_i − d_j w̄_j ]                     (observed minus expected w)
//	V    = Σ_s Σ_j d_j (n_j − d_j)/(n_j − 1) v_j                           (hypergeometric variance; n_j = 1 adds 0)
//	χ²   = U²/V on one degree of freedom.
//
// With w ∈ {0, 1} and one stratum it is the two-sample log-rank test (LogRankTest, U = O_a − E_a); with several
// strata it is the stratified log-rank test, each stratum with its own baseline hazard. U > 0: subjects with a
// larger w have their events sooner. Where V = 0, Chi2 is 0 and P is 1.
type Trend struct {
	U, V, Chi2, P float64
	Events        int
	Strata        int
}

// TrendTest is the Trend test of subjects with one covariate each (X[0] is w). It panics on a NaN or negative time
// or a subject without exactly one covariate.
func TrendTest(subjects []Subject) Trend {
	for _, s := range subjects {
		if math.IsNaN(s.Time) || s.Time < 0 {
			panic(fmt.Sprintf("survival: TrendTest wants times ≥ 0, got %v", s.Time))
		}
		if len(s.X) != 1 {
			panic(fmt.Sprintf("survival: TrendTest wants one covariate per subject, got %d", len(s.X)))
		}
	}
	var r Trend
	strata := coxStrata(subjects)
	r.Strata = len(strata)
	for _, st := range strata {
		for i := 0; i < len(st); {
			j := i
			for j < len(st) && st[j].Time == st[i].Time {
				j++
			}
			d, sumD := 0, 0.0
			for k := i; k < j; k++ {
				if st[k].Event {
					d++
					sumD += st[k].X[0]
				}
			}
			if d > 0 {
				n := float64(len(st) - i)
				var mean, v float64
				for k := i; k < len(st); k++ {
					mean += st[k].X[0]
				}
				mean /= n
				for k := i; k < len(st); k++ {
					v += (st[k].X[0] - mean) * (st[k].X[0] - mean)
				}
				v /= n
				r.U += sumD - float64(d)*mean
				if n > 1 {
					r.V += float64(d) * (n - float64(d)) / (n - 1) * v
				}
				r.Events += d
			}
			i = j
		}
	}
	r.P = 1
	if r.V > 0 {
		r.Chi2 = r.U * r.U / r.V
		r.P = chi2Upper(r.Chi2, 1)
	}
	return r
}
