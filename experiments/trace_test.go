package experiments

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// The TestCommittedTrace… tests read each experiment's committed summary.json and the raw files beside it
// (results/<name>/: cells/*.json, CSV), recompute from the raw files every number the summary states, by name,
// and require the summary's values to match. The recomputation is the test's own where it can be (the
// persistence rule, medians of series, means, quantiles, the gap at an event) and the package's statistics
// (internal/survival, the bootstrap of equivalenceTest) fed with what the test recomputed. No prose is read:
// summary.md is checked apart to be its summary.json rendered (TestCommittedReportIsCurrent).
//
// Every value of a summary must be checked or fall under a prefix the test exempts with its reason. And each
// check must bite: the test changes every checked value, one at a time, by more than its tolerance and requires
// the comparison to notice.

// expect is what a value must be: a number within tol (plus 1e-9 relative), NaN or ±Inf as JSON's null, or a
// text.
type expect struct {
	want   float64
	tol    float64
	text   string
	isText bool
}

// trace collects the expected values of one summary and the prefixes it does not check.
type trace struct {
	exp    map[string]expect
	exempt map[string]string // name prefix → why it is not checked
	errs   []string          // problems found while recomputing (a raw file that disagrees with itself, say)
}

func newTrace() *trace { return &trace{exp: map[string]expect{}, exempt: map[string]string{}} }

func (tr *trace) num(name string, want, tol float64) { tr.exp[name] = expect{want: want, tol: tol} }
func (tr *trace) count(name string, n int)           { tr.exp[name] = expect{want: float64(n)} }
func (tr *trace) text(name, text string)             { tr.exp[name] = expect{text: text, isText: true} }
func (tr *trace) failf(format string, args ...any) {
	tr.errs = append(tr.errs, fmt.Sprintf(format, args...))
}

// est expects the Kaplan–Meier estimate e under name as vals.est records it.
func (tr *trace) est(name string, e survival.Estimate) {
	tr.num(name+"/max_time", e.MaxTime, 0)
	for _, b := range []struct {
		key      string
		x        float64
		censored bool
	}{{"median", e.Median, e.MedianCensored}, {"lo", e.Lo, false}, {"hi", e.Hi, e.HiCensored}} {
		if b.censored || math.IsInf(b.x, 1) {
			tr.text(name+"/"+b.key, fmt.Sprintf(">%.4g", e.MaxTime))
		} else {
			tr.num(name+"/"+b.key, b.x, 0)
		}
	}
}

// obs expects one persistence observation as vals.obs records it.
func (tr *trace) obs(name string, o survival.Obs, never bool) {
	if never {
		tr.text(name, "never visible")
		return
	}
	tr.count(name+"/event", map[bool]int{true: 1, false: 0}[o.Event])
	if o.Event {
		tr.num(name, o.Time, 0)
	} else {
		tr.text(name, fmt.Sprintf(">%.0f", o.Time))
	}
}

// group expects kmRow's values of the observations of one group.
func (tr *trace) group(name string, obs []survival.Obs, never, diverged int) {
	e := survival.Median(obs, kmLevel)
	tr.count(name+"/runs", len(obs)+never)
	tr.count(name+"/never_visible", never)
	tr.count(name+"/n", len(obs))
	tr.count(name+"/events", e.Events)
	tr.count(name+"/censored", len(obs)-e.Events)
	tr.count(name+"/diverged", diverged)
	switch {
	case len(obs) == 1:
		tr.obs(name+"/only", obs[0], false)
	case len(obs) > 1:
		tr.est(name, e)
	}
}

// rangeOf expects rangeVals's values of xs.
func (tr *trace) rangeOf(name string, xs []float64, tol float64) {
	if len(xs) == 1 {
		tr.num(name, xs[0], tol)
		return
	}
	m, _ := meanStd(xs)
	tr.num(name+"/mean", m, tol)
	tr.num(name+"/min", slices.Min(xs), tol)
	tr.num(name+"/max", slices.Max(xs), tol)
}

// meanSD expects meanPM's values of xs.
func (tr *trace) meanSD(name string, xs []float64, tol float64) {
	m, s := meanStd(xs)
	tr.num(name+"/mean", m, tol)
	if len(xs) > 1 {
		tr.num(name+"/sd", s, tol*math.Sqrt(float64(len(xs))/float64(len(xs)-1)))
	}
}

// mismatch says why v is not e, or "".
func mismatch(v Value, e expect) string {
	x := float64(v.V)
	switch {
	case e.isText:
		if v.Text != e.text {
			return fmt.Sprintf("%q, the raw files give %q", v.String(), e.text)
		}
	case math.IsNaN(e.want) || math.IsInf(e.want, 0):
		if !math.IsNaN(x) {
			return fmt.Sprintf("%v, the raw files give %v (null)", x, e.want)
		}
	case math.IsNaN(x) || math.Abs(x-e.want) > e.tol+1e-9*math.Abs(e.want):
		return fmt.Sprintf("%.10g, the raw files give %.10g (tolerance %.2g)", x, e.want, e.tol)
	}
	return ""
}

// compare lists the values of vals that are not what tr expects, and the expected values vals lacks.
func (tr *trace) compare(vals map[string]Value) []string {
	var out []string
	for name, e := range tr.exp {
		v, ok := vals[name]
		if !ok {
			out = append(out, name+": not in summary.json")
			continue
		}
		if m := mismatch(v, e); m != "" {
			out = append(out, name+": the summary says "+m)
		}
	}
	slices.Sort(out)
	return out
}

// mutate returns v changed so that a check with tolerance e.tol must notice.
func mutate(v Value, e expect) Value {
	switch {
	case e.isText:
		v.Text += "0"
	case math.IsNaN(float64(v.V)):
		v.V = 0
	default:
		x := float64(v.V)
		v.V = jsonNum(x + 2*(e.tol+1e-9*math.Abs(e.want)) + 1e-6*math.Abs(x) + 1e-9)
	}
	return v
}

// runTrace reads dir/summary.json (skipping the test where there is none), compares it with what build expects
// from the raw files, requires every value to be checked or exempt, and every check to notice a change.
func runTrace(t *testing.T, dir string, build func() *trace) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Skip("no committed summary:", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	tr := build()
	for _, e := range tr.errs {
		t.Error(e)
	}
	for _, p := range tr.compare(s.Values) {
		t.Error(p)
	}
	var unchecked []string
	for name := range s.Values {
		if _, ok := tr.exp[name]; ok {
			continue
		}
		exempt := false
		for p, why := range tr.exempt {
			if strings.HasPrefix(name, p) {
				exempt = true
				_ = why
			}
		}
		if !exempt {
			unchecked = append(unchecked, name)
		}
	}
	slices.Sort(unchecked)
	for _, n := range unchecked {
		t.Errorf("%s: in summary.json but neither checked nor exempt", n)
	}
	for p, why := range tr.exempt {
		t.Logf("not checked: %s* (%s)", p, why)
	}
	t.Logf("%d of %d values checked against the raw files", len(tr.exp), len(s.Values))
	if t.Failed() {
		return
	}
	missed := 0
	for name, e := range tr.exp {
		m := copyValues(s.Values)
		m[name] = mutate(m[name], e)
		if !slices.ContainsFunc(tr.compare(m), func(p string) bool { return strings.HasPrefix(p, name+":") }) {
			if missed++; missed <= 10 {
				t.Errorf("changing %s from %v to %v went unnoticed", name, s.Values[name], m[name])
			}
		}
	}
	if missed > 10 {
		t.Errorf("… %d changes unnoticed in all", missed)
	}
}

func copyValues(v map[string]Value) map[string]Value {
	out := make(map[string]Value, len(v))
	for k, x := range v {
		out[k] = x
	}
	return out
}

// readSettings reads the settings of dir/config.json into s.
func readSettings(t *testing.T, dir string, s any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &struct {
		Settings any `json:"settings"`
	}{s}); err != nil {
		t.Fatal(err)
	}
}

// windowRule is the persistence rule, written again here from its definition: from the first logged point at
// or above thr, the first logged step that starts window consecutive points below it is the event; else the run
// is censored at last; never is true when no point reaches thr.
func windowRule(steps []int, stat []float64, thr float64, window, last int) (survival.Obs, bool) {
	start := -1
	for i, s := range stat {
		if s >= thr {
			start = i
			break
		}
	}
	if start < 0 {
		return survival.Obs{}, true
	}
	for i := start; i+window <= len(stat); i++ {
		below := true
		for j := i; j < i+window; j++ {
			below = below && !(stat[j] >= thr)
		}
		if below {
			return survival.Obs{Time: float64(steps[i]), Event: true}, false
		}
	}
	return survival.Obs{Time: float64(last)}, false
}

// csvRel is the relative rounding of a value a raw CSV holds (6 significant digits), carried through a mean or
// a difference of a few of them: what a number recomputed from the CSV may differ by from one computed before
// the rounding.
const csvRel = 2e-5
