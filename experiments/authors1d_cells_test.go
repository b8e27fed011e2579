package experiments

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestAuthors1DResumes: a run whose first sitting's budget is spent at once stores no seed and says so; a
// sitting whose budget ends during its first seed stores that seed only; resumed, the run ends with exactly
// the cells, timeseries.csv, figures and summary of one uninterrupted run; --report-only rewrites the same
// files from the stored cells without running a seed; and other settings are refused for the same folder.
func TestAuthors1DResumes(t *testing.T) {
	c := DefaultAuthors1D(true)
	c.PerDisk, c.Steps, c.LogEvery, c.EarlyUntil, c.Seeds, c.Width = 10, 60, 20, 30, 3, 16
	whole := t.TempDir()
	want, err := RunAuthors1D(c, Common{OutDir: whole})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	var log strings.Builder
	cm := Common{OutDir: dir, Log: &log}
	cellsDir := filepath.Join(dir, "authors-1d", "cells")
	c.For = 1 // spent before the first seed can start
	r, err := RunAuthors1D(c, cm)
	if err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, cellsDir); n != 0 || !strings.HasPrefix(filled(t, r, r.Numbers), "Seeds finished: 0 of 3 (3 remain") || r.Verdict != "" || len(r.Figures) != 0 {
		t.Fatalf("after a spent budget: %d cells, numbers %q, verdict %q, figures %v", n, r.Numbers, r.Verdict, r.Figures)
	}

	const budget = 2 * time.Second // the first seed outlasts it: no second seed starts
	a1dSeedDone = func(seed uint64) {
		if seed == c.FirstSeed {
			time.Sleep(budget)
		}
	}
	defer func() { a1dSeedDone = nil }()
	c.For = budget
	r, err = RunAuthors1D(c, cm)
	a1dSeedDone = nil
	if err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, cellsDir); n != 1 || !strings.HasPrefix(filled(t, r, r.Numbers), "Seeds finished: 1 of 3 (2 remain") ||
		!strings.HasPrefix(r.VerdictText(), "Provisional, from 1 of 3 planned seeds.") || !strings.Contains(filled(t, r, r.Numbers), "n = 1 seeds") {
		t.Fatalf("after the first seed: %d cells, numbers %q, verdict %q", n, r.Numbers, r.Verdict)
	}

	c.For = 0
	log.Reset()
	if r, err = RunAuthors1D(c, cm); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "skip (done)"); n != 1 {
		t.Errorf("resumed run skipped %d seeds, want 1:\n%s", n, log.String())
	}
	sameAuthors1D(t, whole, dir, c.Seeds)
	if r.Numbers != want.Numbers || r.Verdict != want.Verdict || r.Ours != want.Ours || strings.Join(r.Figures, ",") != strings.Join(want.Figures, ",") ||
		!reflect.DeepEqual(r.Values, want.Values) {
		t.Errorf("resumed summary differs from one run's:\n%s\n%s\nwant\n%s\n%s", r.Numbers, r.Verdict, want.Numbers, want.Verdict)
	}

	// --report-only runs nothing and writes the same files again.
	for _, f := range []string{"timeseries.csv", "trajectory.png", "timeseries.png"} {
		if err := os.Remove(filepath.Join(dir, "authors-1d", f)); err != nil {
			t.Fatal(err)
		}
	}
	c.ReportOnly = true
	log.Reset()
	if r, err = RunAuthors1D(c, cm); err != nil {
		t.Fatal(err)
	}
	if strings.Count(log.String(), "skip (done)") != 3 || strings.Contains(log.String(), "authors-1d: seed") {
		t.Errorf("--report-only ran a seed:\n%s", log.String())
	}
	sameAuthors1D(t, whole, dir, c.Seeds)
	if r.Numbers != want.Numbers || r.Verdict != want.Verdict || !reflect.DeepEqual(r.Values, want.Values) {
		t.Errorf("--report-only summary differs from one run's:\n%s\nwant\n%s", r.Numbers, want.Numbers)
	}

	c.ReportOnly, c.Temperature = false, 0.2
	if _, err := RunAuthors1D(c, cm); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("other settings in the same folder: %v, want a refusal", err)
	}
}

// sameAuthors1D checks that the authors-1d folders under a and b hold the same cells (but for their wall
// times) and the same timeseries.csv and figures.
func sameAuthors1D(t *testing.T, a, b string, seeds int) {
	t.Helper()
	if n := countFiles(t, filepath.Join(b, "authors-1d", "cells")); n != seeds {
		t.Errorf("%d cells stored, want %d", n, seeds)
	}
	for s := range uint64(seeds) {
		var cells [2][]byte
		for i, d := range []string{a, b} {
			raw, err := os.ReadFile(filepath.Join(d, "authors-1d", "cells", a1dKey(1+s)+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var cl a1dCell
			if err := json.Unmarshal(raw, &cl); err != nil {
				t.Fatal(err)
			}
			cl.Seconds = 0
			if cells[i], err = json.Marshal(cl); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(cells[0], cells[1]) {
			t.Errorf("cell %s differs from one run's", a1dKey(1+s))
		}
	}
	for _, f := range []string{"timeseries.csv", "trajectory.png", "timeseries.png"} {
		x, err := os.ReadFile(filepath.Join(a, "authors-1d", f))
		if err != nil {
			t.Fatal(err)
		}
		if y, err := os.ReadFile(filepath.Join(b, "authors-1d", f)); err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs from one run's (%v)", f, err)
		}
	}
}

// TestA1DCellRoundTrip: a stored cell gives back the run it was made from (codes exactly, as they are float32),
// and NaN is stored as null and read back as NaN.
func TestA1DCellRoundTrip(t *testing.T) {
	b, err := json.Marshal([]jsonNum{jsonNum(math.NaN()), 1.5, -0.1, 1e-300})
	if err != nil || string(b) != "[null,1.5,-0.1,1e-300]" {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var back []jsonNum
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(float64(back[0])) || back[1] != 1.5 || back[2] != -0.1 || back[3] != 1e-300 {
		t.Fatalf("unmarshal: %v, %v", back, err)
	}
	steps, labels := []int{0, 10}, []int{0, 1, 2, 3}
	z := map[int][]float64{0: {0.1, -0.2, 0.3, float64(float32(0.4))}, 10: {1, -1, 2, 0}}
	r := a1dSeed{seed: 7, tj: &trajectory{steps: steps, latents: z, rows: []Geometry{{Silhouette: 0.1, Loss: 2}, {Silhouette: math.NaN(), Loss: 1}}}}
	r.d.N, r.d.Labels = 4, labels
	for _, t := range steps {
		for i := range z[t] {
			z[t][i] = float64(float32(z[t][i]))
		}
		r.g = append(r.g, measure3(z[t], labels))
	}
	raw, err := json.Marshal(a1dCellOf(r))
	if err != nil {
		t.Fatal(err)
	}
	var cl a1dCell
	if err := json.Unmarshal(raw, &cl); err != nil {
		t.Fatal(err)
	}
	got, err := cl.run()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		for i, v := range z[s] {
			if got.tj.latents[s][i] != v {
				t.Errorf("step %d point %d: code %v, want %v", s, i, got.tj.latents[s][i], v)
			}
		}
	}
	if got.seed != 7 || got.d.N != 4 || got.tj.rows[0].Loss != 2 || !math.IsNaN(got.tj.rows[1].Silhouette) || got.g[1] != r.g[1] {
		t.Errorf("round trip: %+v, want %+v", got, r)
	}
}
