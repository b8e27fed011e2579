package experiments

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/train"
)

// Common holds the settings every experiment shares.
type Common struct {
	OutDir  string    `json:"out-dir"`
	Quick   bool      `json:"quick"`
	Backend string    `json:"backend"`
	Log     io.Writer `json:"-"`
}

// Result is what an experiment hands back to All for REPORT.md.
type Result struct {
	Name    string
	Dir     string
	Title   string
	Figures []string // file names inside Dir
	Numbers string   // markdown: the key numbers (a table), with references to Values
	Verdict string   // one sentence: did the prediction hold
	Ours    string   // which settings were ours
	Seconds float64
	Values  vals         // the numbers Numbers and Verdict refer to ({{name}})
	Stop    string       // the stop rule, when runs end before their last step ("" for none)
	Builds  []BuildCount // the builds behind a sweep's cells
}

// meta is written next to each experiment's own settings in config.json.
type meta struct {
	Experiment string `json:"experiment"`
	Common     Common `json:"common"`
	Settings   any    `json:"settings"`
	GitCommit  string `json:"git-commit"`
	GoVersion  string `json:"go-version"`
	SIMD       bool   `json:"simd"`
	CPUs       int    `json:"cpus"`
	Started    string `json:"started"`
	Note       string `json:"note"`
}

// writeConfig creates dir and writes config.json with the experiment's settings.
func writeConfig(dir, name string, c Common, settings any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("experiments: %s: output directory: %w", name, err)
	}
	m := meta{Experiment: name, Common: c, Settings: settings, GitCommit: gitCommit(), GoVersion: runtime.Version(),
		SIMD: backend.SIMD, CPUs: runtime.NumCPU(), Started: time.Now().UTC().Format(time.RFC3339),
		Note: "every setting is ours unless the summary cites the authors' code (paper.md §6.2)"}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), append(b, '\n'), 0o644)
}

// gitCommit is train.GitCommit: the binary's VCS revision, else git's, else "unknown".
func gitCommit() string { return train.GitCommit() }

// table is a CSV file being built in memory: a header and rows of strings.
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

// add appends a row; float64 values are written with 6 significant digits, NaN as an empty field.
func (t *table) add(vals ...any) {
	row := make([]string, len(vals))
	for i, v := range vals {
		row[i] = fmtCell(v)
	}
	t.rows = append(t.rows, row)
}

func fmtCell(v any) string {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', 6, 64)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func (t *table) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("experiments: %w", err)
	}
	w := csv.NewWriter(f)
	w.Write(t.header)
	w.WriteAll(t.rows)
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("experiments: write %s: %w", path, err)
	}
	return f.Close()
}

// markdown renders rows as a markdown table.
func markdown(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}

// logf writes progress to the common log, if any.
func (c Common) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format, args...)
	}
}

// f4 formats x with 4 decimals, NaN as "—".
func f4(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return strconv.FormatFloat(x, 'f', 4, 64)
}

// meanStd returns the mean and sample standard deviation of xs.
func meanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}

// csvRows is a CSV file read back: its rows as maps from the header's column names.
func csvRows(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("experiments: %w", err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("experiments: %s: %w", path, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("experiments: %s: no header", path)
	}
	out := make([]map[string]string, 0, len(all)-1)
	for _, r := range all[1:] {
		m := make(map[string]string, len(r))
		for i, h := range all[0] {
			if i < len(r) {
				m[h] = r[i]
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// csvFloat is a CSV field as a number: NaN where it is empty (table.add writes NaN so) or not a number.
func csvFloat(s string) float64 {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return x
}

// storedWallTime is the wall time that the header line of an older summary.md states ("Wall time: X s"), for a
// summary rendered again from its raw files when no summary.json holds it; NaN when there is none.
func storedWallTime(path string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return math.NaN()
	}
	_, rest, ok := strings.Cut(string(b), "Wall time: ")
	var x float64
	if !ok {
		return math.NaN()
	}
	if _, err := fmt.Sscanf(rest, "%g s", &x); err != nil {
		return math.NaN()
	}
	return x
}
