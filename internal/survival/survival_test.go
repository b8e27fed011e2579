package survival

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// gehan6MP is the 6-mercaptopurine arm of Gehan's (1965) leukaemia remission data, weeks in remission
// (Klein & Moeschberger 2003, Table 1.1; R: MASS::gehan). Starred times in the literature are censored.
var gehan6MP = []Obs{
	{6, true}, {6, true}, {6, true}, {6, false}, {7, true}, {9, false}, {10, true}, {10, false}, {11, false},
	{13, true}, {16, true}, {17, false}, {19, false}, {20, false}, {22, true}, {23, true}, {25, false},
	{32, false}, {32, false}, {34, false}, {35, false},
}

// gehanPlacebo is the placebo arm of the same trial: 21 relapses, none censored.
var gehanPlacebo = events(1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23)

func events(times ...float64) []Obs {
	obs := make([]Obs, len(times))
	for i, t := range times {
		obs[i] = Obs{t, true}
	}
	return obs
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestKaplanMeierGehan6MP(t *testing.T) {
	c := KaplanMeier(gehan6MP)
	// n_j: 21 at risk at week 6; 4 leave at 6 (3 relapses, 1 censored) → 17 at 7; 2 leave (7, 9*) → 15 at 10;
	// 3 leave (10, 10*, 11*) → 12 at 13; 11 at 16; 4 leave (16, 17*, 19*, 20*) → 7 at 22; 6 at 23.
	wantTimes := []float64{6, 7, 10, 13, 16, 22, 23}
	wantAtRisk := []int{21, 17, 15, 12, 11, 7, 6}
	wantEvents := []int{3, 1, 1, 1, 1, 1, 1}
	// Ŝ by hand: 18/21 = 0.857143; ·16/17 = 0.806723; ·14/15 = 0.752941; ·11/12 = 0.690196; ·10/11 = 0.627451;
	// ·6/7 = 0.537815; ·5/6 = 0.448179 (the textbook's 0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448).
	wantS := []float64{0.857143, 0.806723, 0.752941, 0.690196, 0.627451, 0.537815, 0.448179}
	// Greenwood by hand, Var = Ŝ² Σ d/(n(n−d)):
	//   6:  Σ = 3/(21·18) = 0.0079365;           Var = 0.857143²·0.0079365 = 0.0058309 (se 0.0764)
	//   7:  Σ += 1/(17·16) = 0.0036765 → 0.011613; Var = 0.806723²·0.011613 = 0.0075577 (se 0.0869)
	//   10: Σ += 1/(15·14) = 0.0047619 → 0.016375; Var = 0.752941²·0.016375 = 0.0092833 (se 0.0963)
	//   13: Σ += 1/(12·11) = 0.0075758 → 0.023951; Var = 0.690196²·0.023951 = 0.0114094 (se 0.1068)
	//   16: Σ += 1/(11·10) = 0.0090909 → 0.033042; Var = 0.627451²·0.033042 = 0.0130083 (se 0.1141)
	//   22: Σ += 1/(7·6)   = 0.0238095 → 0.056852; Var = 0.537815²·0.056852 = 0.0164439 (se 0.1282)
	//   23: Σ += 1/(6·5)   = 0.0333333 → 0.090185; Var = 0.448179²·0.090185 = 0.0181149 (se 0.1346)
	wantVar := []float64{0.0058309, 0.0075577, 0.0092833, 0.0114094, 0.0130083, 0.0164439, 0.0181149}
	if !slices.Equal(c.Times, wantTimes) || !slices.Equal(c.AtRisk, wantAtRisk) || !slices.Equal(c.Events, wantEvents) {
		t.Fatalf("Times %v AtRisk %v Events %v, want %v %v %v", c.Times, c.AtRisk, c.Events, wantTimes, wantAtRisk, wantEvents)
	}
	for j := range wantS {
		if !near(c.S[j], wantS[j], 5e-7) || !near(c.Var[j], wantVar[j], 5e-7) {
			t.Errorf("t=%v: S %.7f Var %.7f, want %.6f %.7f", c.Times[j], c.S[j], c.Var[j], wantS[j], wantVar[j])
		}
	}
	// Exact products, to rounding.
	if want := 18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7 * 5 / 6; !near(c.S[6], want, 1e-15) {
		t.Errorf("S(23) = %v, want %v", c.S[6], want)
	}
	for _, tc := range []struct{ t, want float64 }{{0, 1}, {5.9, 1}, {6, c.S[0]}, {12, c.S[2]}, {23, c.S[6]}, {100, c.S[6]}} {
		if got := c.At(tc.t); got != tc.want {
			t.Errorf("At(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
}

// TestLogLogBandGehan6MP checks the 95% band against R's
// summary(survfit(Surv(time, cens) ~ 1, gehan[gehan$treat == "6-MP", ], conf.type = "log-log")).
// Week 10 by hand: θ-scale se = √0.016375/|log 0.752941| = 0.127965/0.283782 = 0.45093;
// lo = 0.752941^exp(1.959964·0.45093) = 0.752941^2.4201 = 0.50320.
func TestLogLogBandGehan6MP(t *testing.T) {
	lo, hi := KaplanMeier(gehan6MP).LogLogBand(0.95)
	wantLo := []float64{0.619718, 0.563147, 0.503200, 0.431610, 0.367511, 0.267779, 0.188052}
	wantHi := []float64{0.951552, 0.922809, 0.889362, 0.849066, 0.804912, 0.746791, 0.680143}
	for j := range wantLo {
		if !near(lo[j], wantLo[j], 5e-6) || !near(hi[j], wantHi[j], 5e-6) {
			t.Errorf("band[%d] = [%.6f, %.6f], want [%.6f, %.6f]", j, lo[j], hi[j], wantLo[j], wantHi[j])
		}
	}
}

func TestMedianGehan(t *testing.T) {
	// 6-MP: Ŝ first ≤ 0.5 at 23 (0.448); lo first ≤ 0.5 at 13 (0.432; 0.503 at 10 is not);
	// hi never drops to 0.5 (0.680 at 23, the last event): the upper limit is censored, "> 35".
	e := Median(gehan6MP, 0.95)
	want := Estimate{N: 21, Events: 9, Median: 23, Lo: 13, Hi: math.Inf(1), HiCensored: true, MaxTime: 35}
	if e != want {
		t.Errorf("6-MP: got %+v, want %+v", e, want)
	}
	if s := e.String(); s != "23 [13, >35]" {
		t.Errorf("String = %q", s)
	}
	// Placebo: Ŝ = 12/21 = 0.571 at 5, 8/21 = 0.381 at 8 → median 8; lo(4) = 0.425; hi(8) = 0.578, hi(11) = 0.482.
	e = Median(gehanPlacebo, 0.95)
	want = Estimate{N: 21, Events: 21, Median: 8, Lo: 4, Hi: 11, MaxTime: 23}
	if e != want {
		t.Errorf("placebo: got %+v, want %+v", e, want)
	}
}

func TestMedianAllCensored(t *testing.T) {
	obs := []Obs{{100, false}, {200, false}, {300, false}}
	e := Median(obs, 0.95)
	if !e.MedianCensored || !e.HiCensored || !math.IsInf(e.Median, 1) || !math.IsInf(e.Lo, 1) || e.Events != 0 {
		t.Errorf("got %+v, want a censored median and interval", e)
	}
	if s := e.String(); s != ">300 [>300, >300]" {
		t.Errorf("String = %q", s)
	}
	// Too few events to reach 0.5: one death among four, Ŝ = 3/4.
	e = Median([]Obs{{1, true}, {5, false}, {5, false}, {5, false}}, 0.95)
	if !e.MedianCensored || e.Events != 1 || e.MaxTime != 5 {
		t.Errorf("got %+v, want a median censored at > 5", e)
	}
	e = Median(nil, 0.95)
	if e.N != 0 || !math.IsNaN(e.Median) || !math.IsNaN(e.Lo) || !math.IsNaN(e.Hi) {
		t.Errorf("no data: got %+v, want NaNs", e)
	}
}

// TestMedianNoTies: with n events and no censoring, Ŝ(t_(k)) = 1 − k/n, first ≤ 1/2 at k = ⌈n/2⌉: the
// sample median for odd n, the lower of the two middle values for even n (R would give their midpoint).
func TestMedianNoTies(t *testing.T) {
	odd := events(9, 1, 7, 3, 5) // unsorted on purpose
	orig := slices.Clone(odd)
	if e := Median(odd, 0.95); e.Median != 5 || e.MedianCensored {
		t.Errorf("n=5: median %v, want 5", e.Median)
	}
	if !slices.Equal(odd, orig) {
		t.Errorf("Median modified its input: %v", odd)
	}
	for n := 2; n <= 40; n++ {
		times := make([]float64, n)
		for i := range times {
			times[i] = float64(10 * (i + 1))
		}
		k := (n + 1) / 2 // ⌈n/2⌉
		if e := Median(events(times...), 0.95); e.Median != times[k-1] {
			t.Errorf("n=%d: median %v, want t_(%d) = %v", n, e.Median, k, times[k-1])
		}
	}
}

// TestMedianIntervalShrinksWithN copies one sample 1, 2 and 4 times: Ŝ and the median stay the same, the
// Greenwood variance falls roughly as 1/n, so the interval must contain the median and narrow as n grows.
func TestMedianIntervalShrinksWithN(t *testing.T) {
	base := append(events(2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37), Obs{15, false}, Obs{40, false})
	var prev Estimate
	for i, copies := range []int{4, 2, 1} {
		var obs []Obs
		for range copies {
			obs = append(obs, base...)
		}
		e := Median(obs, 0.95)
		if e.Median != 17 || e.HiCensored || !(e.Lo <= e.Median && e.Median <= e.Hi) {
			t.Fatalf("copies=%d: %v, want median 17 inside a finite interval", copies, e)
		}
		if i > 0 && !(e.Lo <= prev.Lo && e.Hi >= prev.Hi && e.Hi-e.Lo > prev.Hi-prev.Lo) {
			t.Errorf("copies=%d: %v is not wider than %v", copies, e, prev)
		}
		prev = e
	}
	// A lower level gives a narrower interval.
	e90, e99 := Median(base, 0.90), Median(base, 0.99)
	if !(e99.Lo <= e90.Lo && e99.Hi >= e90.Hi) {
		t.Errorf("99%% %v should contain 90%% %v", e99, e90)
	}
}

// TestKaplanMeierTies: an event and a censoring at the same time: the censored subject is still at risk.
func TestKaplanMeierTies(t *testing.T) {
	c := KaplanMeier([]Obs{{3, true}, {2, false}, {2, true}, {1, false}})
	// t=2: n=3 (times ≥ 2), d=1 → Ŝ = 2/3, Var = (4/9)·1/(3·2) = 2/27. t=3: n=1, d=1 → Ŝ = 0, Var = 0.
	if !slices.Equal(c.Times, []float64{2, 3}) || !slices.Equal(c.AtRisk, []int{3, 1}) {
		t.Fatalf("Times %v AtRisk %v, want [2 3] [3 1]", c.Times, c.AtRisk)
	}
	if !near(c.S[0], 2.0/3, 1e-15) || !near(c.Var[0], 2.0/27, 1e-15) || c.S[1] != 0 || c.Var[1] != 0 {
		t.Errorf("S %v Var %v, want [2/3 0] [2/27 0]", c.S, c.Var)
	}
	lo, hi := c.LogLogBand(0.95)
	if lo[1] != 0 || hi[1] != 0 || !(lo[0] < c.S[0] && c.S[0] < hi[0]) {
		t.Errorf("band lo %v hi %v around S %v", lo, hi, c.S)
	}
	if c := KaplanMeier([]Obs{{1, false}, {2, false}}); len(c.Times) != 0 || c.At(5) != 1 {
		t.Errorf("no events: got %+v, want an empty curve", c)
	}
}

func TestPersistence(t *testing.T) {
	steps := []int{0, 100, 200, 300, 400, 500}
	for _, tc := range []struct {
		name   string
		stat   []float64
		last   int
		window int
		end    Obs // Persistence
		endW   Obs // PersistenceWindow with window
	}{
		{"transient dip", []float64{5, 0.5, 5, 0.5, 0.5, 0.5}, 500, 2, Obs{300, true}, Obs{300, true}},
		{"dip counts with window 1", []float64{5, 0.5, 5, 0.5, 0.5, 0.5}, 500, 1, Obs{300, true}, Obs{100, true}},
		{"never below", []float64{5, 5, 5, 5, 5, 5}, 600, 2, Obs{600, false}, Obs{600, false}},
		{"below from start", []float64{0.1, 0.2, 0.1, 0, 0, 0}, 500, 3, Obs{0, true}, Obs{0, true}},
		{"back above at the end", []float64{0.1, 0.1, 0.1, 0.1, 0.1, 1}, 500, 3, Obs{500, false}, Obs{0, true}},
		{"at threshold counts as above", []float64{2, 1, 1, 0.9, 0.9, 0.9}, 500, 2, Obs{300, true}, Obs{300, true}},
		{"below too briefly before the end", []float64{5, 5, 5, 5, 0.5, 0.5}, 500, 3, Obs{400, true}, Obs{500, false}},
		{"NaN is below", []float64{5, 5, math.NaN(), math.NaN(), math.NaN(), math.NaN()}, 500, 2, Obs{200, true}, Obs{200, true}},
	} {
		if got := Persistence(steps, tc.stat, 1, tc.last); got != tc.end {
			t.Errorf("%s: Persistence = %+v, want %+v", tc.name, got, tc.end)
		}
		if got := PersistenceWindow(steps, tc.stat, 1, tc.window, tc.last); got != tc.endW {
			t.Errorf("%s: PersistenceWindow(%d) = %+v, want %+v", tc.name, tc.window, got, tc.endW)
		}
	}
}

func TestPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"NaN time":        func() { KaplanMeier([]Obs{{math.NaN(), true}}) },
		"negative time":   func() { KaplanMeier([]Obs{{-1, true}}) },
		"level 1":         func() { Median(gehan6MP, 1) },
		"level 0":         func() { KaplanMeier(gehan6MP).LogLogBand(0) },
		"empty log":       func() { Persistence(nil, nil, 1, 0) },
		"length mismatch": func() { Persistence([]int{1, 2}, []float64{1}, 1, 2) },
		"unsorted steps":  func() { Persistence([]int{2, 1}, []float64{1, 1}, 1, 2) },
		"lastStep early":  func() { PersistenceWindow([]int{1, 2}, []float64{1, 1}, 1, 1, 1) },
		"window 0":        func() { PersistenceWindow([]int{1, 2}, []float64{1, 1}, 1, 0, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// ExampleMedian: censored persistence times, one per seed, as a sweep would collect them.
func ExampleMedian() {
	steps := []int{0, 1000, 2000, 3000, 4000}
	var obs []Obs
	for _, stat := range [][]float64{
		{9, 8, 0.2, 0.1, 0.1}, // ends at 2000
		{9, 0.3, 9, 0.1, 0.1}, // a dip at 1000, ends at 3000
		{9, 9, 9, 9, 9},       // still going at 4000: censored
		{9, 0.5, 0.1, 0, 0},   // ends at 1000
	} {
		obs = append(obs, Persistence(steps, stat, 1, 4000))
	}
	fmt.Println(obs)
	fmt.Println(Median(obs, 0.95))
	// Output:
	// [{2000 true} {3000 true} {4000 false} {1000 true}]
	// 2000 [1000, >4000]
}
