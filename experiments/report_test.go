package experiments

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportAssembles: the report nests each summary under its experiment (headings one level deeper, figures
// relative to the report's folder), keeps the preface, and lists the experiments with no summary.
func TestReportAssembles(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, s string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("preface.md", "What changed since the last report.\n")
	sum := Summary{Experiment: "depth-width", Title: "Sweep title", Mode: "full", Seconds: 1.5, CPUs: 2, Commit: "abc", Stop: "none.",
		Body: "n = {{n}} seeds.\n", Verdict: "No difference.", Ours: "All.", Figures: []string{"persistence_km.png"},
		Values: map[string]Value{"n": {V: 8, Fmt: "%d"}}}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	write("depth-width/summary.json", string(b))
	if err := Report(dir); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	r := string(b)
	for _, want := range []string{"What changed since the last report.", "## depth-width", "**Sweep title**", "n = 8 seeds.", "Stop rule: none.",
		"### Verdict", "![persistence_km.png](depth-width/persistence_km.png)", "## Not run yet", "loss-landscape, particle-vs-network"} {
		if !strings.Contains(r, want) {
			t.Errorf("REPORT.md lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "\n## Verdict") || strings.Contains(r, "## Not run yet\n\nloss-landscape, particle-vs-network, depth-width") {
		t.Errorf("a heading was not demoted or a present summary is listed as missing:\n%s", r)
	}
}

// TestCommittedReportIsCurrent: results/REPORT.md is what Report assembles from the committed summary.json files,
// and each committed summary.md is its summary.json rendered (so every number in them is a value of a
// summary.json, which the trace tests check against the raw files).
func TestCommittedReportIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../results/REPORT.md")
	if err != nil {
		t.Skip("no committed report:", err)
	}
	dir := t.TempDir()
	for _, f := range append([]string{"preface.md"}, summaries()...) {
		b, err := os.ReadFile(filepath.Join("../results", f))
		if err != nil {
			continue
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Report(dir); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if string(got) != string(want) {
		t.Error("results/REPORT.md differs from what `simclr experiment report -o results` assembles from the committed summaries: run it")
	}
	for _, e := range Experiments {
		s, err := readSummary(filepath.Join("../results", e.Name))
		if err != nil {
			continue
		}
		md, err := s.Render()
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
			continue
		}
		if b, err := os.ReadFile(filepath.Join("../results", e.Name, "summary.md")); err != nil || string(b) != md {
			t.Errorf("results/%s/summary.md is not its summary.json rendered (%v)", e.Name, err)
		}
	}
}

func summaries() []string {
	var out []string
	for _, e := range Experiments {
		out = append(out, filepath.Join(e.Name, "summary.json"))
	}
	return out
}

// filled is text with the result's references replaced by their values, as summary.md shows it.
func filled(t *testing.T, r *Result, text string) string {
	t.Helper()
	s, err := (Summary{Experiment: r.Name, Values: r.Values}).fill(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
