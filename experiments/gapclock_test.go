package experiments

import (
	"math"
	"testing"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// TestArcFamilyEnds: at w = 0 the family is the K-point configuration (its gap is lossOfKPoints' less the
// regular N-gon's, a closed form); at the largest w it is the regular N-gon with contiguous clusters (gap 0,
// silhouette TrivialSilhouette); between them the silhouette falls and the gap shrinks.
func TestArcFamilyEnds(t *testing.T) {
	const k, n, tau = 4, 8, 0.5
	w, sil, gap := arcFamily(k, n, tau, 41)
	if want := lossOfKPoints(k*n, k, tau) - lossOfRegularPolygon(k*n, tau); math.Abs(gap[0]-want) > 1e-12 || w[0] != 0 {
		t.Errorf("w = 0: gap %.15g, want the K-point gap %.15g", gap[0], want)
	}
	labels := make([]int, k*n)
	for i := range labels {
		labels[i] = i / n
	}
	if last := len(w) - 1; math.Abs(gap[last]) > 1e-12 || math.Abs(sil[last]-TrivialSilhouette(labels, k, 2)) > 1e-12 {
		t.Errorf("largest w: gap %g, silhouette %g; want 0 and %g", gap[last], sil[last], TrivialSilhouette(labels, k, 2))
	}
	if sil[0] != 1 {
		t.Errorf("collapsed clusters: silhouette %g, want 1", sil[0])
	}
	for j := 1; j < len(w); j++ {
		if !(sil[j] < sil[j-1]) || !(gap[j] < gap[j-1]) {
			t.Fatalf("not monotone at w = %g: silhouette %g → %g, gap %g → %g", w[j], sil[j-1], sil[j], gap[j-1], gap[j])
		}
	}
	g, hw := gapAtSilhouette(w, sil, gap, (1+sil[len(sil)-1])/2)
	if !(g > 0 && g < gap[0] && hw > 0 && hw < w[len(w)-1]) {
		t.Errorf("gap at the threshold %g at w = %g: not inside the family", g, hw)
	}
}

// TestEquivalence: identical samples are equivalent (Δ = 0 inside a narrow interval); samples whose event times
// on the gap clock differ by log 3 (a factor 3 in the gap) are different; a sample whose median is not reached
// is not testable; a few censored runs open an end of the interval.
func TestEquivalence(t *testing.T) {
	ev := func(us ...float64) []survival.Obs {
		var o []survival.Obs
		for _, u := range us {
			o = append(o, survival.Obs{Time: u, Event: true})
		}
		return o
	}
	a := ev(3.00, 3.02, 3.04, 3.06, 3.08, 3.10, 3.12, 3.14)
	if e := equivalenceTest(a, a, 1); e.Verdict() != "equivalent" || e.Delta != 0 || !(e.Lo <= 0 && e.Hi >= 0) {
		t.Errorf("same sample: %+v %s", e, e.Verdict())
	}
	b := ev(3+math.Log(3), 3.02+math.Log(3), 3.04+math.Log(3), 3.06+math.Log(3), 3.08+math.Log(3), 3.10+math.Log(3), 3.12+math.Log(3), 3.14+math.Log(3))
	if e := equivalenceTest(b, a, 1); e.Verdict() != "different" || math.Abs(e.Delta+math.Log(3)) > 1e-12 {
		t.Errorf("b's gaps a third of a's: %+v %s, want Δ = −log 3, different", e, e.Verdict())
	}
	cens := []survival.Obs{{Time: 9}, {Time: 9}, {Time: 9}, {Time: 9}, {Time: 9}}
	if e := equivalenceTest(append(ev(3, 3.1, 3.2), cens...), a, 1); e.Verdict() != "not testable" {
		t.Errorf("median not reached: %+v %s", e, e.Verdict())
	}
	if e := equivalenceTest(append(ev(3, 3.02, 3.04, 3.06, 3.08), cens[:3]...), a, 1); e.Testable && !math.IsInf(e.Lo, -1) {
		t.Errorf("3 of 8 censored: %+v, want the lower end open", e)
	}
}

// TestPeakDrop: the time from the peak to the first window of points at or below the level; censored at the end
// of the run when there is none; the first of equal peaks.
func TestPeakDrop(t *testing.T) {
	steps := []int{0, 10, 20, 30, 40, 50, 60}
	p, o := peakDrop(steps, []float64{0.2, 0.8, 0.8, 0.5, 0.4, 0.3, 0.3}, halfOfPeak, 2, 60)
	if p != 1 || o != (survival.Obs{Time: 30, Event: true}) {
		t.Errorf("peak %d, %+v; want 1 and an event 30 steps after it (steps 40, 50 at or below 0.4)", p, o)
	}
	if p, o = peakDrop(steps, []float64{0.2, 0.8, 0.5, 0.41, 0.6, 0.5, 0.41}, halfOfPeak, 2, 100); p != 1 || o != (survival.Obs{Time: 90}) {
		t.Errorf("never down: peak %d, %+v; want censored 90 after the peak", p, o)
	}
	if lv := halfwayToChance(1); math.Abs(lv-2.0/3) > 1e-15 {
		t.Errorf("halfway from 1 to chance: %g", lv)
	}
}

// TestHeldOutProbe: codes that separate the digits perfectly score 1 on held-out images; codes unrelated to the
// labels score about chance.
func TestHeldOutProbe(t *testing.T) {
	var z []float64
	var labels []int
	for i := range 90 {
		labels = append(labels, i%3)
		z = append(z, float64(i%3)*10+float64(i%7)*0.1)
	}
	if a := heldOutProbe(z, labels, 3); a != 1 {
		t.Errorf("separated codes: held-out accuracy %g, want 1", a)
	}
	for i := range z {
		z[i] = float64(i % 2)
	}
	if a := heldOutProbe(z, labels, 3); a > 0.6 {
		t.Errorf("codes unrelated to the labels: held-out accuracy %g, want about 1/3", a)
	}
}
