package experiments

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/internal/survival"
)

// TestMNISTResumes: a run whose first sitting's budget is spent at once stores no cell and says so; a sitting
// whose budget ends during its first run stores that run only; resumed, the experiment ends with exactly the
// cells, timeseries.csv, figures and summary of one uninterrupted run; --report-only rewrites the same files
// from the stored cells without running anything; and other settings are refused for the same folder.
func TestMNISTResumes(t *testing.T) {
	if _, _, err := datasets.Load("mnist", ""); errors.Is(err, datasets.ErrNotFound) {
		t.Skip("no MNIST files:", err)
	}
	c := DefaultMNIST(true)
	c.PerClass, c.Steps, c.LogEvery, c.Window, c.Seeds, c.Width = 4, 6, 3, 2, 2, 8
	whole := t.TempDir()
	want, err := RunMNIST(c, Common{OutDir: whole})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"L1-seed1", "L3-seed1", "L1-seed2", "L3-seed2"}

	dir := t.TempDir()
	var log strings.Builder
	cm := Common{OutDir: dir, Log: &log}
	cellsDir := filepath.Join(dir, "mnist-012", "cells")
	c.For = 1 // spent before the first run can start
	r, err := RunMNIST(c, cm)
	if err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, cellsDir); n != 0 || !strings.HasPrefix(filled(t, r, r.Numbers), "Cells finished: 0 of 4 (4 remain") || r.Verdict != "" || len(r.Figures) != 0 {
		t.Fatalf("after a spent budget: %d cells, numbers %q, verdict %q, figures %v", n, r.Numbers, r.Verdict, r.Figures)
	}

	const budget = 2 * time.Second // the first run outlasts it: no second run starts
	mnistCellDone = func(key string) {
		if key == keys[0] {
			time.Sleep(budget)
		}
	}
	defer func() { mnistCellDone = nil }()
	c.For = budget
	r, err = RunMNIST(c, cm)
	mnistCellDone = nil
	if err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, cellsDir); n != 1 || !strings.HasPrefix(filled(t, r, r.Numbers), "Cells finished: 1 of 4 (3 remain") ||
		!strings.HasPrefix(r.VerdictText(), "Provisional, from 1 of 4 planned runs.") || !strings.Contains(r.VerdictText(), "1 hidden layer (n = 1 runs") ||
		strings.Contains(r.Verdict, "3 hidden layers") || strings.Join(r.Figures, ",") != "trajectory_L1.png,timeseries.png" {
		t.Fatalf("after the first run: %d cells, numbers %q, verdict %q, figures %v", n, r.Numbers, r.Verdict, r.Figures)
	}

	c.For = 0
	log.Reset()
	if r, err = RunMNIST(c, cm); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "skip (done)"); n != 1 {
		t.Errorf("resumed run skipped %d cells, want 1:\n%s", n, log.String())
	}
	sameMNIST(t, whole, dir, keys)
	be, err := backend.New(backend.Spec(cm.Backend))
	if err != nil {
		t.Fatal(err)
	}
	if b := countBuilds([]cellBuild{thisBuild(be), thisBuild(be), thisBuild(be), thisBuild(be)}); !reflect.DeepEqual(r.Builds, b) { // every cell records its build
		t.Errorf("resumed builds %+v, want %+v", r.Builds, b)
	}
	if r.Numbers != want.Numbers || r.Verdict != want.Verdict || r.Ours != want.Ours || strings.Join(r.Figures, ",") != strings.Join(want.Figures, ",") ||
		!reflect.DeepEqual(r.Values, want.Values) {
		t.Errorf("resumed summary differs from one run's:\n%s\n%s\nwant\n%s\n%s", r.Numbers, r.Verdict, want.Numbers, want.Verdict)
	}

	// --report-only runs nothing and writes the same files again.
	for _, f := range []string{"timeseries.csv", "trajectory_L1.png", "trajectory_L3.png", "timeseries.png"} {
		if err := os.Remove(filepath.Join(dir, "mnist-012", f)); err != nil {
			t.Fatal(err)
		}
	}
	c.ReportOnly = true
	log.Reset()
	if r, err = RunMNIST(c, cm); err != nil {
		t.Fatal(err)
	}
	if strings.Count(log.String(), "skip (done)") != 4 || strings.Contains(log.String(), "mnist-012: ") {
		t.Errorf("--report-only ran a cell:\n%s", log.String())
	}
	sameMNIST(t, whole, dir, keys)
	if r.Numbers != want.Numbers || r.Verdict != want.Verdict || !reflect.DeepEqual(r.Values, want.Values) {
		t.Errorf("--report-only summary differs from one run's:\n%s\nwant\n%s", r.Numbers, want.Numbers)
	}

	c.ReportOnly, c.Temperature = false, 0.2
	if _, err := RunMNIST(c, cm); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("other settings in the same folder: %v, want a refusal", err)
	}
}

// sameMNIST checks that the mnist-012 folders under a and b hold the same cells (but for their wall times)
// and the same timeseries.csv and figures.
func sameMNIST(t *testing.T, a, b string, keys []string) {
	t.Helper()
	if n := countFiles(t, filepath.Join(b, "mnist-012", "cells")); n != len(keys) {
		t.Errorf("%d cells stored, want %d", n, len(keys))
	}
	for _, k := range keys {
		var cells [2][]byte
		for i, d := range []string{a, b} {
			raw, err := os.ReadFile(filepath.Join(d, "mnist-012", "cells", k+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var cl mnCell
			if err := json.Unmarshal(raw, &cl); err != nil {
				t.Fatal(err)
			}
			cl.Seconds = 0
			if cells[i], err = json.Marshal(cl); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(cells[0], cells[1]) {
			t.Errorf("cell %s differs from one run's", k)
		}
	}
	for _, f := range []string{"timeseries.csv", "trajectory_L1.png", "trajectory_L3.png", "timeseries.png"} {
		x, err := os.ReadFile(filepath.Join(a, "mnist-012", f))
		if err != nil {
			t.Fatal(err)
		}
		if y, err := os.ReadFile(filepath.Join(b, "mnist-012", f)); err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs from one run's (%v)", f, err)
		}
	}
}

// TestMNISTCellRoundTrip: a stored cell gives back the run it was made from (codes exactly, as they are
// float32; metrics, flags and persistence observations as stored), and NaN is stored as null and read back as
// NaN.
func TestMNISTCellRoundTrip(t *testing.T) {
	b, err := json.Marshal([]jsonNum{jsonNum(math.NaN()), 1.5, -0.1, 1e-300, jsonNum(math.Inf(1))})
	if err != nil || string(b) != "[null,1.5,-0.1,1e-300,null]" {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var back []jsonNum
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(float64(back[0])) || back[1] != 1.5 || back[2] != -0.1 || back[3] != 1e-300 {
		t.Fatalf("unmarshal: %v, %v", back, err)
	}
	steps, labels := []int{0, 10, 20}, []int{0, 1, 2, 2}
	z := map[int][]float64{0: {0.1, -0.2, 0.3, 0.4}, 10: {1, -1, 2, 0}, 20: {math.NaN(), 3, 1e-7, -5}}
	for _, s := range steps {
		for i := range z[s] {
			z[s][i] = float64(float32(z[s][i]))
		}
	}
	r := mnistRun{method: "3 hidden layers", seed: 7, diverged: true, sil: survival.Obs{Time: 10, Event: true}, probe: survival.Obs{Time: 20},
		prbNever: true, codeStd: []float64{0.25, 1.3, math.NaN()}, tj: &trajectory{steps: steps, latents: z, rows: []Geometry{
			{Spread: 0.1, MinSep: 0.2, Silhouette: 0.3, Probe: 0.4, Uniformity: -1, Loss: 2},
			{Spread: 0.5, MinSep: 0.6, Silhouette: 0.7, Probe: 0.8, Uniformity: -2, Loss: 1},
			{Spread: math.NaN(), MinSep: math.NaN(), Silhouette: math.NaN(), Probe: 1, Uniformity: math.NaN(), Loss: math.Inf(1)}}}}
	raw, err := json.Marshal(mnCellOf(r, 3, labels))
	if err != nil {
		t.Fatal(err)
	}
	var cl mnCell
	if err := json.Unmarshal(raw, &cl); err != nil {
		t.Fatal(err)
	}
	c := DefaultMNIST(true)
	c.Steps = 20
	got, err := cl.run(c)
	if err != nil {
		t.Fatal(err)
	}
	same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	for j, s := range steps {
		for i, v := range z[s] {
			if !same(got.tj.latents[s][i], v) {
				t.Errorf("step %d image %d: code %v, want %v", s, i, got.tj.latents[s][i], v)
			}
		}
		w, g := r.tj.rows[j].values(), got.tj.rows[j].values()
		for k := range w {
			if !same(g[k], w[k]) && !(math.IsInf(w[k], 0) && math.IsNaN(g[k])) { // ±Inf is stored as null too
				t.Errorf("step %d metric %d: %v, want %v", s, k, g[k], w[k])
			}
		}
		if !same(got.codeStd[j], r.codeStd[j]) {
			t.Errorf("step %d code std %v, want %v", s, got.codeStd[j], r.codeStd[j])
		}
	}
	if got.method != r.method || got.seed != 7 || !got.diverged || got.collapsed || got.sil != r.sil || got.silNever ||
		got.probe != r.probe || !got.prbNever || cl.Depth != 3 || len(cl.Labels) != 4 {
		t.Errorf("round trip: %+v, want %+v", got, r)
	}
	cl.Codes = cl.Codes[:len(cl.Codes)-8]
	if _, err := cl.run(c); err == nil {
		t.Error("a cell with too few codes was accepted")
	}
}
