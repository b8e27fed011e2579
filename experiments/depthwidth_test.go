package experiments

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/ref"
)

// TestLossOfRegularPolygon: the closed form equals the reference NT-Xent loss of 2N views in N equal pairs
// on the vertices of a regular N-gon.
func TestLossOfRegularPolygon(t *testing.T) {
	for _, c := range []struct {
		n   int
		tau float64
	}{{4, 0.5}, {16, 0.1}, {128, 0.5}, {7, 2}} {
		z := make([]float64, 2*c.n*2)
		for v := range 2 {
			for i := range c.n {
				a := 2 * math.Pi * float64(i) / float64(c.n)
				z[(v*c.n+i)*2], z[(v*c.n+i)*2+1] = math.Cos(a), math.Sin(a)
			}
		}
		want := ref.Loss(z, 2*c.n, 2, ref.LossConfig{Kernel: ref.KernelExp, Temperature: c.tau}).Loss
		if got := lossOfRegularPolygon(c.n, c.tau); math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("N=%d τ=%g: %.12g, want %.12g", c.n, c.tau, got, want)
		}
	}
}

// TestDepthWidthResumes: a sweep stopped by its budget after its first cells continues where it stopped, a
// finished sweep runs nothing again, and other settings are refused for the same folder.
func TestDepthWidthResumes(t *testing.T) {
	dir := t.TempDir()
	c := DefaultDepthWidth(true)
	c.PerCluster, c.Depths, c.Widths, c.Scalings, c.Seeds, c.Steps, c.LogEvery, c.Window = 8, []int{1, 2}, []int{16}, []string{"ntk"}, 2, 40, 10, 2
	var log strings.Builder
	cm := Common{OutDir: dir, Log: &log}
	c.For = 1 // a budget spent at once: no cell starts, the report says so
	r, err := RunDepthWidth(c, cm)
	if err != nil {
		t.Fatal(err)
	}
	cellsDir := filepath.Join(dir, "depth-width", "cells")
	if n := countFiles(t, cellsDir); n != 0 || !strings.Contains(filled(t, r, r.Numbers), "Cells finished: 0 of 6 (6 remain") {
		t.Fatalf("after a spent budget: %d cells stored, numbers %q", n, r.Numbers)
	}
	c.For = 0
	if r, err = RunDepthWidth(c, cm); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, cellsDir); n != 6 { // 2 seeds × (particles, L=1, L=2)
		t.Fatalf("%d cells stored, want 6", n)
	}
	if !strings.Contains(filled(t, r, r.Numbers), "Cells finished: 6 of 6") {
		t.Errorf("numbers do not say the sweep is complete:\n%s", r.Numbers)
	}
	// A sweep interrupted before its last two cells: only those run again.
	for _, k := range []string{"L2-m16-ntk-seed1", "particles-seed2"} {
		if err := os.Remove(filepath.Join(cellsDir, k+".json")); err != nil {
			t.Fatal(err)
		}
	}
	log.Reset()
	if _, err := RunDepthWidth(c, cm); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "skip"); n != 4 || countFiles(t, cellsDir) != 6 {
		t.Errorf("resumed sweep skipped %d cells, want 4:\n%s", n, log.String())
	}
	rows := readCSV(t, filepath.Join(dir, "depth-width", "km.csv"))
	if len(rows) != 4 { // header, particles, L=1, L=2
		t.Fatalf("km.csv has %d rows, want 4", len(rows))
	}
	for _, row := range rows[1:] {
		if row[4] != "2" { // n
			t.Errorf("group %s: n = %s, want 2", row[0], row[4])
		}
	}
	for _, f := range []string{"persistence_km.png", "silhouette_vs_gap.png", "cells.csv", "summary.md"} {
		if st, err := os.Stat(filepath.Join(dir, "depth-width", f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	c.Temperature = 0.1
	if _, err := RunDepthWidth(c, cm); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("other settings in the same folder: %v, want a refusal", err)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".json") {
			n++
		}
	}
	return n
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestBelowWindow: a run may stop only once w measurements in a row are below the threshold after one at or
// above it; a start below the threshold (clusters not yet visible) stops nothing.
func TestBelowWindow(t *testing.T) {
	rows := func(s ...float64) []Geometry {
		var g []Geometry
		for _, v := range s {
			g = append(g, Geometry{Silhouette: v})
		}
		return g
	}
	for _, c := range []struct {
		sil  []float64
		want bool
	}{
		{[]float64{0.9, 0.5, 0.5}, true},
		{[]float64{0.9, 0.5, 0.9, 0.5}, false},
		{[]float64{0.5, 0.5, 0.5}, false},
		{[]float64{0.5, 0.9, 0.5}, false},
		{[]float64{0.5, 0.9, 0.5, 0.4}, true},
		{[]float64{0.8, 0.8, 0.8}, false}, // at the threshold counts as visible
	} {
		if got := belowWindow(rows(c.sil...), 0.8, 2); got != c.want {
			t.Errorf("%v: %v, want %v", c.sil, got, c.want)
		}
	}
}

// TestDepthWidthCommittedCells: the committed km.csv, cells.csv and logrank.csv of results/depth-width are what the report
// computes from the committed raw cells (cells/*.json) under the committed settings.
func TestDepthWidthCommittedCells(t *testing.T) {
	const dir = "../results/depth-width"
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Skip("no committed sweep:", err)
	}
	var m struct {
		Settings DepthWidthConfig `json:"settings"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	c := m.Settings
	var done []dwCell
	for _, cl := range c.plan() {
		raw, err := os.ReadFile(filepath.Join(dir, "cells", cl.key()+".json"))
		if err != nil {
			continue
		}
		var d dwCell
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", cl.key(), err)
		}
		done = append(done, d)
	}
	tmp := t.TempDir()
	if _, err := depthWidthReport(c, tmp, done, len(c.plan()), len(c.plan())-len(done), lossOfRegularPolygon(c.Clusters*c.PerCluster, c.Temperature)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"km.csv", "cells.csv", "logrank.csv"} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(tmp, f)); string(got) != string(want) {
			t.Errorf("%s differs from what the committed cells give", f)
		}
	}
}

// TestCellBuilds: the builds behind the stored cells are counted, the most frequent first; cells stored before
// cells recorded their build, or only their commit, are said to be so and nothing is filled in for them.
func TestCellBuilds(t *testing.T) {
	a, b := cellBuild{"a", "go1", "cpu", "xla:cpu"}, cellBuild{Commit: "b"}
	c := cellBuild{"c", "go1", "cpu", ""}
	got := buildsLine(countBuilds([]cellBuild{b, a, {}, a, b, a, c}))
	want := "Cells run by commit a, go1, cpu, backend xla:cpu: 3; commit b (Go version, CPU and backend not recorded): 2; " +
		"a build not recorded (cells stored before cells recorded their build): 1; commit c, go1, cpu, backend not recorded: 1."
	if got != want {
		t.Errorf("builds = %q, want %q", got, want)
	}
	if countBuilds(nil) != nil {
		t.Error("no cells: want no builds")
	}
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	if b := thisBuild(be); b.Commit == "" || b.GoVersion == "" || b.CPU == "" || b.Backend != "go" {
		t.Errorf("thisBuild = %+v: every field recorded", b)
	}
}
