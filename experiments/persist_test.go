package experiments

import (
	"math"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/internal/survival"
)

func TestPersistenceOf(t *testing.T) {
	steps := []int{0, 10, 20, 30, 40, 50}
	for _, c := range []struct {
		stat  []float64
		want  survival.Obs
		never bool
	}{
		{[]float64{0.9, 0.8, 0.4, 0.3, 0.2, 0.1}, survival.Obs{Time: 20, Event: true}, false},
		{[]float64{0.9, 0.4, 0.9, 0.4, 0.9, 0.4}, survival.Obs{Time: 60}, false},              // dips shorter than the window: censored
		{[]float64{0.1, 0.2, 0.6, 0.7, 0.3, 0.2}, survival.Obs{Time: 40, Event: true}, false}, // counted from the first visible point
		{[]float64{0.1, 0.2, 0.3, 0.4, 0.3, 0.2}, survival.Obs{}, true},
		{[]float64{0.9, 0.8, 0.7, 0.6, 0.2, math.NaN()}, survival.Obs{Time: 40, Event: true}, false}, // NaN counts as below
	} {
		o, never := persistenceOf(steps, c.stat, 0.5, 2, 60)
		if o != c.want || never != c.never {
			t.Errorf("%v: got (%+v, %v), want (%+v, %v)", c.stat, o, never, c.want, c.never)
		}
	}
}

func TestKMRow(t *testing.T) {
	var g persistGroup
	g.add(survival.Obs{Time: 100, Event: true}, false, false)
	g.add(survival.Obs{Time: 200, Event: true}, false, false)
	g.add(survival.Obs{Time: 300}, false, true)
	g.add(survival.Obs{}, true, false)
	v := vals{}
	row := fillRow(t, v, kmRow(v, "g", "x", g))
	want := []string{"x", "4", "1", "3", "2", "1", "1"}
	if strings.Join(row[:7], ",") != strings.Join(want, ",") {
		t.Errorf("kmRow counts %v, want %v", row[:7], want)
	}
	if !strings.HasPrefix(row[7], "200 [") || v["g/median"].V != 200 || v["g/n"].V != 3 || v["g/never_visible"].V != 1 {
		t.Errorf("median %q (values %v), want 200 [lo, hi] recorded under g/", row[7], v)
	}
	if got := fillRow(t, v, kmRow(v, "e", "empty", persistGroup{never: 2})); got[3] != "0" || got[7] != "–" {
		t.Errorf("all never visible: %v", got)
	}
	// Two groups with disjoint intervals are resolved; identical groups are not.
	var short, long persistGroup
	for i := range 8 {
		short.add(survival.Obs{Time: float64(10 + i), Event: true}, false, false)
		long.add(survival.Obs{Time: 1000}, false, false)
	}
	if s := kmCompare(v, "long", "short", "l", "s", long, short); !strings.Contains(s, "LONGER") || v["l/median"].Text != ">1000" {
		t.Errorf("kmCompare: %s (median of long %+v)", s, v["l/median"])
	}
	if s := kmCompare(v, "a", "b", "s", "s", short, short); !strings.Contains(s, "no difference") {
		t.Errorf("kmCompare of equal groups: %s", s)
	}
}

// fillRow replaces the references of a table row by their values.
func fillRow(t *testing.T, v vals, row []string) []string {
	t.Helper()
	out := make([]string, len(row))
	for i, c := range row {
		s, err := (Summary{Values: v}).fill(c)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

// TestClosedFormLosses checks lossOfKPoints against lossOfRegularPolygon where they coincide (one point per
// cluster), and that the 1-D trivial silhouette of three equal blocks is between 0 and 1.
func TestClosedFormLosses(t *testing.T) {
	for _, n := range []int{3, 8, 64} {
		if a, b := lossOfKPoints(n, n, 0.5), lossOfRegularPolygon(n, 0.5); math.Abs(a-b) > 1e-12 {
			t.Errorf("n=%d: K-point %.15g, N-gon %.15g", n, a, b)
		}
	}
	if lossOfKPoints(256, 4, 0.5) <= lossOfRegularPolygon(256, 0.5) {
		t.Error("collapsed clusters should cost more than the regular N-gon")
	}
	labels := make([]int, 90)
	for i := range labels {
		labels[i] = i % 3
	}
	if s := trivialSilhouette1D(labels, 3); s <= 0 || s >= 1 {
		t.Errorf("1-D trivial silhouette %g", s)
	}
}

func TestKMRowOneRun(t *testing.T) {
	var g persistGroup
	g.add(survival.Obs{Time: 50, Event: true}, false, false)
	v := vals{}
	if got := fillRow(t, v, kmRow(v, "one", "one", g))[7]; got != "50 (n = 1: no interval)" {
		t.Errorf("n = 1: %q", got)
	}
	if s := kmCompare(v, "a", "b", "one", "one", g, g); !strings.Contains(s, "not comparable") {
		t.Errorf("n = 1 compared: %s", s)
	}
}
