package experiments

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/internal/cells"
)

// TestMethodsCells runs target 9's grid at toy size (one seed, L = 1, m = 16, 40 steps) and checks what its
// cells and summary hold: one cell per method, each with its own objective (BYOL's normalised MSE in [0, 8],
// VICReg's loss ≥ 0, the three step-0 losses different), persistence recomputed from the stored silhouettes,
// and a summary.json whose groups count the cells.
func TestMethodsCells(t *testing.T) {
	c := DefaultMethods(true)
	c.Depths, c.Width, c.Steps, c.LogEvery, c.Seeds = []int{1}, 16, 40, 10, 1
	out := t.TempDir()
	if _, err := RunMethods(c, Common{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, "methods")
	store, err := cells.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	loss0 := map[string]float64{}
	for _, want := range c.plan() {
		var cl mtCell
		if err := store.Load(want.key(), &cl); err != nil {
			t.Fatalf("%s: %v", want.key(), err)
		}
		if len(cl.Steps) == 0 || cl.Steps[0] != 0 || len(cl.Silhouette) != len(cl.Steps) {
			t.Fatalf("%s: steps %v, %d silhouettes", cl.key(), cl.Steps, len(cl.Silhouette))
		}
		loss0[cl.Method] = cl.Loss[0]
		last := c.Steps
		if cl.Diverged {
			last = cl.Steps[len(cl.Steps)-1]
		}
		if o, never := persistenceOf(cl.Steps, cl.Silhouette, cl.Threshold, c.Window, last); o != cl.Persistence || never != cl.NeverVisible {
			t.Errorf("%s: stored persistence %+v (never %v), recomputed %+v (never %v)", cl.key(), cl.Persistence, cl.NeverVisible, o, never)
		}
	}
	if l := loss0["byol"]; !(l >= 0 && l <= 8) || !(loss0["vicreg"] >= 0) {
		t.Errorf("step-0 losses %v: byol's must be in [0, 8], vicreg's ≥ 0", loss0)
	}
	if a, b, v := loss0["simclr"], loss0["byol"], loss0["vicreg"]; math.Abs(a-b) < 1e-6 || math.Abs(a-v) < 1e-6 || math.Abs(b-v) < 1e-6 {
		t.Errorf("step-0 losses %v: the methods did not train different objectives", loss0)
	}
	var sum methodsSummary
	b, err := os.ReadFile(filepath.Join(dir, "methods.json"))
	if err == nil {
		err = json.Unmarshal(b, &sum)
	}
	if err != nil {
		t.Fatal(err)
	}
	if sum.CellsDone != 3 || sum.CellsAll != 3 || len(sum.Groups) != 3 {
		t.Fatalf("summary: %d of %d cells, %d groups, want 3, 3, 3", sum.CellsDone, sum.CellsAll, len(sum.Groups))
	}
	for _, g := range sum.Groups {
		if g.Runs != 1 || g.N+g.NeverVisible != 1 || len(g.Times) != 1 || (g.Method != "simclr") != (g.LogRankVsSimCLR != nil || g.LogRankNote != "") {
			t.Errorf("group %+v", g)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	for _, s := range []string{"simclr/L1", "vicreg/L1", "byol/L1", "3 of 3 cells done"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("summary.md lacks %q", s)
		}
	}
}
