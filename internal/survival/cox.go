package survival

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Subject is one survival observation with its covariates x (the same length for every subject of a fit) and
// its stratum: subjects of different strata never share a risk set (stratified Cox model, stratified log-rank).
type Subject struct {
	Obs
	X       []float64
	Stratum string
}

// CoxFit is the fit of the Cox proportional-hazards model h(t | x) = h_s(t) exp(βᵀx), with a baseline hazard
// h_s of its own in each stratum s, by maximising Cox's partial likelihood with Efron's handling of tied event
// times (Efron 1977; R's coxph default). For the d events D_j tied at t_j with risk set R_j and r_i = exp(βᵀx_i),
//
//	log PL = Σ_j [ Σ_{i∈D_j} βᵀx_i − Σ_{l=0}^{d−1} log A0_jl ],   A_jl = Σ_{R_j} r_i x_i^{⊗q} − (l/d) Σ_{D_j} r_i x_i^{⊗q}
//	U      = Σ_j [ Σ_{D_j} x_i − Σ_l A1_jl/A0_jl ]                                        (score)
//	I      = Σ_j Σ_l [ A2_jl/A0_jl − (A1_jl/A0_jl)(A1_jl/A0_jl)ᵀ ]                        (information)
//
// with q = 0, 1, 2 (1, x, xxᵀ). One event at t_j (d = 1) is Breslow's and Cox's own term.
//
// Beta is the maximum; SE the square roots of the diagonal of I(β)⁻¹ (Wald); Z = β/SE and P its two-sided normal
// p-value. Score is the score test of β = 0, U(0)ᵀ I(0)⁻¹ U(0), on len(β) degrees of freedom, with ScoreP (for one
// covariate and no tied times it is the log-rank χ²). Infinite is set when the partial likelihood has no finite
// maximum (monotone likelihood: e.g. every event in one group): Beta then holds where the search stopped and SE,
// Z and P are NaN; the score test stays valid.
type CoxFit struct {
	Beta, SE, Z, P  []float64
	LogLik, LogLik0 float64 // log PL at Beta and at β = 0
	Score, ScoreP   float64
	Events          int
	Iterations      int
	Infinite        bool
}

// ErrNoEvents is Cox's error for data without an event: the partial likelihood is constant.
var ErrNoEvents = errors.New("survival: Cox wants at least one event")

// coxMaxBeta bounds |β| (a hazard ratio of e^30 per unit of x): a search that passes it has no finite maximum.
const coxMaxBeta = 30

// Cox fits the stratified Cox model to subjects by Newton–Raphson from β = 0 with step halving (see CoxFit).
// It panics on a NaN or negative time, or on subjects whose covariates differ in length; it fails on data
// without an event or with a singular information matrix at β = 0 (a covariate constant within every risk set).
func Cox(subjects []Subject) (CoxFit, error) {
	if len(subjects) == 0 {
		return CoxFit{}, ErrNoEvents
	}
	p := len(subjects[0].X)
	for _, s := range subjects {
		if math.IsNaN(s.Time) || s.Time < 0 {
			panic(fmt.Sprintf("survival: Cox wants times ≥ 0, got %v", s.Time))
		}
		if len(s.X) != p {
			panic(fmt.Sprintf("survival: Cox wants %d covariates for every subject, got %d", p, len(s.X)))
		}
	}
	strata := coxStrata(subjects)
	beta := make([]float64, p)
	ll0, u0, i0, events := coxTerms(strata, beta)
	if events == 0 {
		return CoxFit{}, ErrNoEvents
	}
	inv0, ok := invert(i0)
	if !ok {
		return CoxFit{}, errors.New("survival: Cox: information singular at β = 0 (a covariate does not vary within the risk sets)")
	}
	f := CoxFit{LogLik0: ll0, Events: events}
	f.Score = quad(u0, inv0)
	f.ScoreP = chi2Upper(f.Score, p)
	ll, u, info := ll0, u0, i0
	for f.Iterations = 1; f.Iterations <= 100; f.Iterations++ {
		inv, ok := invert(info)
		if !ok {
			f.Infinite = true
			break
		}
		step := mulVec(inv, u)
		next, llNext := beta, ll
		for h := 0; h < 30; h++ { // halve the step until the likelihood does not fall
			next = make([]float64, p)
			for k := range beta {
				next[k] = beta[k] + step[k]
			}
			llNext, _, _, _ = coxTerms(strata, next)
			if llNext >= ll-1e-12 {
				break
			}
			for k := range step {
				step[k] /= 2
			}
		}
		gain := llNext - ll
		beta = next
		ll, u, info, _ = coxTerms(strata, beta)
		if slices.ContainsFunc(beta, func(b float64) bool { return math.Abs(b) > coxMaxBeta }) {
			f.Infinite = true
			break
		}
		if math.Abs(gain) < 1e-10*(1+math.Abs(ll)) && maxAbs(step) < 1e-9 {
			break
		}
	}
	if !f.Infinite && monotoneAt(strata, beta, ll) {
		f.Infinite = true
	}
	f.Beta, f.LogLik = beta, ll
	f.SE, f.Z, f.P = make([]float64, p), make([]float64, p), make([]float64, p)
	inv, ok := invert(info)
	for k := range beta {
		f.SE[k], f.Z[k], f.P[k] = math.NaN(), math.NaN(), math.NaN()
		if ok && !f.Infinite && inv[k][k] > 0 {
			f.SE[k] = math.Sqrt(inv[k][k])
			f.Z[k] = beta[k] / f.SE[k]
			f.P[k] = math.Erfc(math.Abs(f.Z[k]) / math.Sqrt2)
		}
	}
	return f, nil
}

// monotoneAt reports whether the search stopped on a monotone likelihood short of coxMaxBeta: the partial
// likelihood at β, moved one unit further along any coefficient's sign (a hazard ratio e times as large), does not fall
// below its value at β. At a finite maximum it falls by about I_kk/2, which for any data with information is far
// above the tolerance; as β → ∞ on a monotone likelihood it keeps rising towards its supremum. A search that stops
// there (its gain under the convergence tolerance) would otherwise report a huge hazard ratio with a useless interval.
func monotoneAt(strata [][]Subject, beta []float64, ll float64) bool {
	for k, b := range beta {
		if math.Abs(b) < 1 {
			continue
		}
		next := slices.Clone(beta)
		next[k] += math.Copysign(1, b)
		if l, _, _, _ := coxTerms(strata, next); l >= ll-1e-9*(1+math.Abs(ll)) {
			return true
		}
	}
	return false
}

// coxStrata groups the subjects by stratum, each sorted by time (first appearance order of the strata).
func coxStrata(subjects []Subject) [][]Subject {
	var names []string
	by := map[string][]Subject{}
	for _, s := range subjects {
		if _, ok := by[s.Stratum]; !ok {
			names = append(names, s.Stratum)
		}
		by[s.Stratum] = append(by[s.Stratum], s)
	}
	out := make([][]Subject, len(names))
	for i, n := range names {
		out[i] = by[n]
		slices.SortStableFunc(out[i], func(a, b Subject) int { return cmpFloat(a.Time, b.Time) })
	}
	return out
}

// coxTerms returns the log partial likelihood, the score and the information at beta (Efron's ties), and the
// number of events.
func coxTerms(strata [][]Subject, beta []float64) (ll float64, u []float64, info [][]float64, events int) {
	p := len(beta)
	u, info = make([]float64, p), newMatrix(p)
	a1, t1 := make([]float64, p), make([]float64, p)
	a2, t2 := newMatrix(p), newMatrix(p)
	for _, st := range strata {
		r := make([]float64, len(st))
		for i, s := range st {
			r[i] = math.Exp(dot(beta, s.X))
		}
		for i := 0; i < len(st); {
			j := i
			for j < len(st) && st[j].Time == st[i].Time {
				j++
			}
			// Risk set: subjects i… (times ≥ t); tied events: the events among i…j−1.
			var s0, t0 float64
			clear(a1)
			clear(t1)
			zero(a2)
			zero(t2)
			for k := i; k < len(st); k++ {
				s0 += r[k]
				addOuter(a1, a2, r[k], st[k].X)
			}
			d := 0
			for k := i; k < j; k++ {
				if !st[k].Event {
					continue
				}
				d++
				t0 += r[k]
				addOuter(t1, t2, r[k], st[k].X)
				ll += dot(beta, st[k].X)
				for q := range p {
					u[q] += st[k].X[q]
				}
			}
			for l := range d {
				phi := float64(l) / float64(d)
				b0 := s0 - phi*t0
				ll -= math.Log(b0)
				for q := range p {
					m := (a1[q] - phi*t1[q]) / b0
					u[q] -= m
					for w := range p {
						mw := (a1[w] - phi*t1[w]) / b0
						info[q][w] += (a2[q][w]-phi*t2[q][w])/b0 - m*mw
					}
				}
			}
			events += d
			i = j
		}
	}
	return ll, u, info, events
}

// addOuter adds w·x to v and w·xxᵀ to m.
func addOuter(v []float64, m [][]float64, w float64, x []float64) {
	for q := range x {
		v[q] += w * x[q]
		for k := range x {
			m[q][k] += w * x[q] * x[k]
		}
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

func newMatrix(p int) [][]float64 {
	m := make([][]float64, p)
	for i := range m {
		m[i] = make([]float64, p)
	}
	return m
}

func zero(m [][]float64) {
	for _, r := range m {
		clear(r)
	}
}

// invert returns the inverse of the symmetric matrix a by Gauss–Jordan elimination with partial pivoting; ok is
// false when a pivot is below 1e-12 of the largest diagonal entry (singular to working precision).
func invert(a [][]float64) ([][]float64, bool) {
	p := len(a)
	m := newMatrix(p)
	inv := newMatrix(p)
	scale := 0.0
	for i := range p {
		copy(m[i], a[i])
		inv[i][i] = 1
		scale = max(scale, math.Abs(a[i][i]))
	}
	if scale == 0 {
		return nil, false
	}
	for c := range p {
		piv := c
		for r := c + 1; r < p; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		if math.Abs(m[piv][c]) < 1e-12*scale {
			return nil, false
		}
		m[c], m[piv] = m[piv], m[c]
		inv[c], inv[piv] = inv[piv], inv[c]
		d := m[c][c]
		for k := range p {
			m[c][k] /= d
			inv[c][k] /= d
		}
		for r := range p {
			if r == c || m[r][c] == 0 {
				continue
			}
			f := m[r][c]
			for k := range p {
				m[r][k] -= f * m[c][k]
				inv[r][k] -= f * inv[c][k]
			}
		}
	}
	return inv, true
}

func mulVec(m [][]float64, v []float64) []float64 {
	out := make([]float64, len(m))
	for i := range m {
		out[i] = dot(m[i], v)
	}
	return out
}

// quad is vᵀ m v.
func quad(v []float64, m [][]float64) float64 { return dot(v, mulVec(m, v)) }

// chi2Upper is P(χ²_k > x) for k = 1 or 2 degrees of freedom (closed forms), NaN for other k.
func chi2Upper(x float64, k int) float64 {
	switch k {
	case 1:
		return math.Erfc(math.Sqrt(x / 2))
	case 2:
		return math.Exp(-x / 2)
	}
	return math.NaN()
}
