package experiments

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Summary is what an experiment concluded, as data: results/<name>/summary.json. summary.md and the experiment's
// section of REPORT.md are rendered from it (Render), never written apart. Every number a summary states about
// its data is a named Value; the prose (Body, Verdict) holds references {{name}} in its place, so the trace tests
// check the numbers by name against the raw files (cells/*.json, CSV) without reading prose.
type Summary struct {
	Experiment string  `json:"experiment"`
	Title      string  `json:"title"`
	Mode       string  `json:"mode"` // "full" or "quick (--quick)"
	Seconds    float64 `json:"seconds"`
	CPUs       int     `json:"cpus"`
	Commit     string  `json:"commit"` // the build that wrote this summary
	// Stop says when a run ends: the stop rule of a sweep that ends runs once their event is decided, or that
	// every run goes to its last step. Every summary states it.
	Stop string `json:"stop"`
	// Builds counts the cells each build ran, for a sweep of cells (empty otherwise).
	Builds  []BuildCount     `json:"builds,omitempty"`
	Body    string           `json:"body"`
	Verdict string           `json:"verdict,omitempty"`
	Ours    string           `json:"ours"`
	Figures []string         `json:"figures,omitempty"`
	Values  map[string]Value `json:"values"`
}

// Value is one number of a summary: V at full precision (null in JSON when not finite), printed with the fmt
// verb Fmt ("%d" prints the nearest integer), or as Text when Text is set (a bound such as ">2e+04", a word for
// a value that does not exist).
type Value struct {
	V    jsonNum `json:"v"`
	Fmt  string  `json:"fmt,omitempty"`
	Text string  `json:"text,omitempty"`
}

// String prints the value as the summary shows it.
func (v Value) String() string {
	switch {
	case v.Text != "":
		return v.Text
	case v.Fmt == "%d":
		return strconv.FormatInt(int64(math.Round(float64(v.V))), 10)
	case v.Fmt == "":
		return strconv.FormatFloat(float64(v.V), 'g', -1, 64)
	}
	return fmt.Sprintf(v.Fmt, float64(v.V))
}

// BuildCount is how many of a sweep's cells one build ran; an empty Build is cells stored before cells recorded
// their build.
type BuildCount struct {
	Build cellBuild `json:"build"`
	Cells int       `json:"cells"`
}

// vals records the numbers a summary prints: each method stores a Value under its name and returns the reference
// that the prose holds in its place. A name recorded twice must hold the same value (it panics otherwise: two
// numbers under one name would make the trace tests check the wrong one).
type vals map[string]Value

func (v vals) put(name string, x Value) string {
	if strings.ContainsAny(name, "{}") || name == "" {
		panic("experiments: bad value name " + strconv.Quote(name))
	}
	if old, ok := v[name]; ok && old != x && !(math.IsNaN(float64(old.V)) && math.IsNaN(float64(x.V))) {
		panic(fmt.Sprintf("experiments: value %s recorded twice: %v and %v", name, old, x))
	}
	v[name] = x
	return "{{" + name + "}}"
}

// valueRef is the reference to a value recorded already under name (Render fails if none is).
func valueRef(name string) string { return "{{" + name + "}}" }

// num records x printed with verb.
func (v vals) num(name string, x float64, verb string) string {
	return v.put(name, Value{V: jsonNum(x), Fmt: verb})
}

// count records an integer.
func (v vals) count(name string, n int) string { return v.num(name, float64(n), "%d") }

// text records x printed as text (a bound, "–" for a value that does not exist).
func (v vals) text(name string, x float64, text string) string {
	return v.put(name, Value{V: jsonNum(x), Text: text})
}

// Render is summary.md: the title, how it was made, the stop rule, the body, the verdict, the settings that are
// ours and the figures, with every reference replaced by its value. It fails on a reference to no value.
func (s Summary) Render() (string, error) {
	var b strings.Builder
	wall := fmt.Sprintf("%.1f s", s.Seconds)
	if s.Seconds == 0 { // cells that did not store their time (methods): say so rather than print 0
		wall = "not recorded"
	}
	fmt.Fprintf(&b, "# %s\n\nMode: %s. Wall time: %s on %d CPUs. Backend: config.json's flag (empty: auto, which picks XLA "+
		"where a plugin is installed, else the pure-Go backend); a sweep's builds line names each cell's where the cell "+
		"recorded it. Commit %s.\n\n", s.Title, s.Mode, wall, s.CPUs, s.Commit)
	if s.Stop != "" {
		fmt.Fprintf(&b, "Stop rule: %s\n\n", s.Stop)
	}
	if len(s.Builds) > 0 {
		b.WriteString(buildsLine(s.Builds) + "\n\n")
	}
	b.WriteString(s.Body)
	if s.Verdict != "" {
		fmt.Fprintf(&b, "\n## Verdict\n\n%s\n", s.Verdict)
	}
	fmt.Fprintf(&b, "\n## Settings that are ours\n\n%s\n", s.Ours)
	if len(s.Figures) > 0 {
		b.WriteString("\n## Figures\n\n")
		for _, f := range s.Figures {
			fmt.Fprintf(&b, "![%s](%s)\n\n", f, f)
		}
	}
	return s.fill(b.String())
}

// fill replaces every {{name}} of text by the value's String.
func (s Summary) fill(text string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			return "", fmt.Errorf("experiments: %s: unclosed reference at %q", s.Experiment, text[i:min(len(text), i+40)])
		}
		name := text[i+2 : i+j]
		v, ok := s.Values[name]
		if !ok {
			return "", fmt.Errorf("experiments: %s: reference to no value %q", s.Experiment, name)
		}
		b.WriteString(text[:i])
		b.WriteString(v.String())
		text = text[i+j+2:]
	}
}

// buildsLine says which builds ran a sweep's cells, most cells first.
func buildsLine(bs []BuildCount) string {
	var parts []string
	for _, c := range bs {
		parts = append(parts, fmt.Sprintf("%s: %d", c.Build, c.Cells))
	}
	return "Cells run by " + strings.Join(parts, "; ") + "."
}

// summaryOf is the Summary of a finished experiment.
func summaryOf(r *Result, c Common) Summary {
	mode := "full"
	if c.Quick {
		mode = "quick (--quick)"
	}
	stop := r.Stop
	if stop == "" {
		stop = "none: every run goes to its last step."
	}
	v := r.Values
	if v == nil {
		v = vals{}
	}
	return Summary{Experiment: r.Name, Title: r.Title, Mode: mode, Seconds: r.Seconds, CPUs: runtime.NumCPU(), Commit: gitCommit(),
		Stop: stop, Builds: r.Builds, Body: r.Numbers, Verdict: r.Verdict, Ours: r.Ours, Figures: r.Figures, Values: v}
}

// writeSummary writes the experiment's summary.json and summary.md (rendered from it). body is the markdown of
// the summary's body, with references to r.Values.
func writeSummary(r *Result, c Common, body string) error {
	r.Numbers = body
	s := summaryOf(r, c)
	md, err := s.Render()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return fmt.Errorf("experiments: %s: summary.json: %w", r.Name, err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "summary.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.Dir, "summary.md"), []byte(md), 0o644)
}

// readSummary reads dir/summary.json.
func readSummary(dir string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("experiments: %s: %w", filepath.Join(dir, "summary.json"), err)
	}
	return s, nil
}

// VerdictText is the result's verdict with its references replaced by their values (what summary.md shows).
func (r *Result) VerdictText() string {
	s, err := (Summary{Experiment: r.Name, Values: r.Values}).fill(r.Verdict)
	if err != nil {
		return r.Verdict
	}
	return s
}
