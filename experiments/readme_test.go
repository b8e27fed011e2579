package experiments

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readmeClaim is one row of the README's table of what the sweeps show: the numbers it states, as a template
// over one experiment's summary.json values, and the test that recomputes those values from the raw cells.
type readmeClaim struct {
	experiment string
	test       string // the trace test that checks the experiment's named values against its raw files
	text       string // {{name}} references into the experiment's summary.json
}

// readmeClaims lists every number the README's science table states. A row whose experiment has no committed
// summary yet is not checked (the README must then not state it: the table is built from this list).
var readmeClaims = []readmeClaim{
	{"depth-width", "TestCommittedTraceDepthWidth", "standard: hazard ratio {{cox_steps/standard/hr}} [{{cox_steps/standard/hr_lo}}, " +
		"{{cox_steps/standard/hr_hi}}] per doubling of depth, n = {{cox_steps/standard/runs}} runs ({{cox_steps/standard/events}} events); " +
		"ntk: {{cox_steps/ntk/hr}} [{{cox_steps/ntk/hr_lo}}, {{cox_steps/ntk/hr_hi}}], n = {{cox_steps/ntk/runs}} ({{cox_steps/ntk/events}} events)"},
	{"depth-width", "TestCommittedTraceDepthWidth", "standard: hazard ratio {{cox_gap/standard/hr}} [{{cox_gap/standard/hr_lo}}, " +
		"{{cox_gap/standard/hr_hi}}] per doubling of depth (n = {{cox_gap/standard/runs}}); ntk: {{cox_gap/ntk/hr}} [{{cox_gap/ntk/hr_lo}}, " +
		"{{cox_gap/ntk/hr_hi}}] (n = {{cox_gap/ntk/runs}}); equivalent at a factor 1.5 in {{equiv/standard/equivalent}} of " +
		"{{equiv/standard/tested}} (standard) and {{equiv/ntk/equivalent}} of {{equiv/ntk/tested}} (ntk) testable comparisons"},
	{"full-length", "TestCommittedTraceFullLength", "deeper networks lost the clusters sooner in {{direction/sooner}} of " +
		"{{direction/fits}} Cox fits (ntk at threshold 0.74: hazard ratio {{cox/thr0.74-ntk/hr}} [{{cox/thr0.74-ntk/hr_lo}}, " +
		"{{cox/thr0.74-ntk/hr_hi}}] per doubling of depth, n = {{cox/thr0.74-ntk/runs}}); at the regular N-gon (loss gap < 0.001) at " +
		"step 20 000: standard L = 1 {{end/standard-L1/at_ngon}} of {{end/standard-L1/n}}, L = 8 {{end/standard-L8/at_ngon}} of " +
		"{{end/standard-L8/n}}; ntk L = 1 {{end/ntk-L1/at_ngon}} of {{end/ntk-L1/n}}, L = 8 {{end/ntk-L8/at_ngon}} of {{end/ntk-L8/n}}"},
	{"effective-step", "TestCommittedTraceEffectiveStep", "standard: hazard ratio {{cox_eff/standard/hr}} [{{cox_eff/standard/hr_lo}}, " +
		"{{cox_eff/standard/hr_hi}}] per doubling of depth, n = {{cox_eff/standard/runs}}; ntk: {{cox_eff/ntk/hr}} [{{cox_eff/ntk/hr_lo}}, " +
		"{{cox_eff/ntk/hr_hi}}], n = {{cox_eff/ntk/runs}}; ratio ntk/standard {{interaction_eff/ratio}} [{{interaction_eff/ratio_lo}}, " +
		"{{interaction_eff/ratio_hi}}], p = {{interaction_eff/p}}"},
	{"particle-vs-network", "TestCommittedTraceParticleVsNetwork", "KM median persistence: particles {{sil/m0/median}} " +
		"[{{sil/m0/lo}}, {{sil/m0/hi}}] steps (n = {{sil/m0/n}}; {{sil/m0/never_visible}} never visible), 1 hidden layer " +
		"{{sil/m1/median}} [{{sil/m1/lo}}, {{sil/m1/hi}}] (n = {{sil/m1/n}}), 4 hidden layers {{sil/m2/median}} [{{sil/m2/lo}}, " +
		"{{sil/m2/hi}}] (n = {{sil/m2/n}}); log-rank against the particles p = {{logrank/m1/p}} and {{logrank/m2/p}}; paired by seed " +
		"longer in {{paired/m1/longer}} and {{paired/m2/longer}}, shorter in {{paired/m1/shorter}} and {{paired/m2/shorter}} " +
		"(sign test p = {{paired/m1/sign_p}}, {{paired/m2/sign_p}}); clusters created from below the threshold: networks " +
		"{{created/m1/made}} of {{created/m1/below}} and {{created/m2/made}} of {{created/m2/below}}, particles {{created/m0/made}} of " +
		"{{created/m0/below}}"},
	{"temperature", "TestCommittedTraceTemperature", "particles: hazard ratio {{cox/particles/hr}} [{{cox/particles/hr_lo}}, " +
		"{{cox/particles/hr_hi}}] per doubling of τ, n = {{cox/particles/runs}}; L = 1: {{cox/L=1/hr}} [{{cox/L=1/hr_lo}}, " +
		"{{cox/L=1/hr_hi}}], n = {{cox/L=1/runs}}; L = 4: {{cox/L=4/hr}} [{{cox/L=4/hr_lo}}, {{cox/L=4/hr_hi}}], n = {{cox/L=4/runs}}"},
	{"kernel", "TestCommittedTraceKernel", "linear η: {{km/kernel=linear-particles/events}}, {{km/kernel=linear-L=1/events}} and " +
		"{{km/kernel=linear-L=4/events}} events in 20 000 steps (particles n = {{km/kernel=linear-particles/n}}, L = 1 n = " +
		"{{km/kernel=linear-L=1/n}}, L = 4 n = {{km/kernel=linear-L=4/n}}; log-rank against exponential p = " +
		"{{cox/particles-kernel=linear/score_p}}, {{cox/L=1-kernel=linear/score_p}}, {{cox/L=4-kernel=linear/score_p}}); Gaussian " +
		"against exponential: particles log-rank p = {{cox/particles-kernel=gaussian/score_p}} (kept longer), L = 1 hazard ratio " +
		"{{cox/L=1-kernel=gaussian/hr}} [{{cox/L=1-kernel=gaussian/hr_lo}}, {{cox/L=1-kernel=gaussian/hr_hi}}] (n = " +
		"{{cox/L=1-kernel=gaussian/runs}}), L = 4 {{cox/L=4-kernel=gaussian/hr}} [{{cox/L=4-kernel=gaussian/hr_lo}}, " +
		"{{cox/L=4-kernel=gaussian/hr_hi}}] (n = {{cox/L=4-kernel=gaussian/runs}}); {{tests/bonferroni}} of {{tests/count}} tests " +
		"pass a Bonferroni correction"},
	{"unequal", "TestCommittedTraceUnequal", "one cluster 4× the others against equal sizes: particles hazard ratio " +
		"{{cox/particles-sizes=64/16/16/16/hr}} [{{cox/particles-sizes=64/16/16/16/hr_lo}}, {{cox/particles-sizes=64/16/16/16/hr_hi}}] " +
		"(n = {{cox/particles-sizes=64/16/16/16/runs}}), L = 1 {{cox/L=1-sizes=64/16/16/16/hr}} [{{cox/L=1-sizes=64/16/16/16/hr_lo}}, " +
		"{{cox/L=1-sizes=64/16/16/16/hr_hi}}] (n = {{cox/L=1-sizes=64/16/16/16/runs}}), L = 4 {{cox/L=4-sizes=64/16/16/16/hr}} " +
		"[{{cox/L=4-sizes=64/16/16/16/hr_lo}}, {{cox/L=4-sizes=64/16/16/16/hr_hi}}] (n = {{cox/L=4-sizes=64/16/16/16/runs}}); " +
		"{{tests/bonferroni}} of {{tests/count}} tests pass a Bonferroni correction"},
}

// TestREADMEClaims: every number of the README's science table is its experiment's committed summary.json value
// (which the named trace test recomputes from the raw cells), and every row names a trace test that exists.
func TestREADMEClaims(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("no README:", err)
	}
	tests := testSources(t)
	for _, c := range readmeClaims {
		b, err := os.ReadFile(filepath.Join("../results", c.experiment, "summary.json"))
		if err != nil {
			t.Errorf("%s: no committed summary for a claim the README makes: %v", c.experiment, err)
			continue
		}
		var s Summary
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		want, err := s.fill(c.text)
		if err != nil {
			t.Error(err)
			continue
		}
		if !strings.Contains(string(readme), want) {
			t.Errorf("%s: the README does not state %q", c.experiment, want)
		}
		if !strings.Contains(tests, "func "+c.test+"(t *testing.T)") {
			t.Errorf("%s: the claim names %s, which is no test of this package", c.experiment, c.test)
		}
		if !strings.Contains(string(readme), "`"+c.test+"`") {
			t.Errorf("%s: the README does not name the claim's test %s", c.experiment, c.test)
		}
	}
}

// TestTraceTestsExist: every experiment names a trace test (the report prints it beside its section), and that test
// is a function of this package.
func TestTraceTestsExist(t *testing.T) {
	src := testSources(t)
	for _, e := range Experiments {
		name, ok := TraceTests[e.Name]
		if !ok {
			t.Errorf("%s: no trace test named", e.Name)
			continue
		}
		if !strings.Contains(src, "func "+name+"(t *testing.T)") {
			t.Errorf("%s: its trace test %s is no test of this package", e.Name, name)
		}
	}
}

// testSources is the text of this package's test files.
func testSources(t *testing.T) string {
	var b strings.Builder
	files, _ := filepath.Glob("*_test.go")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
	}
	return b.String()
}
