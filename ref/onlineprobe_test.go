package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestOnlineProbeGradient checks DW and DB of OnlineProbe against central finite differences of its CE, for
// several batch sizes, feature widths and class counts.
func TestOnlineProbeGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, m := range []int{1, 6, 32} {
		for _, f := range []int{1, 5, 16} {
			for _, classes := range []int{2, 3, 10} {
				t.Run(fmt.Sprintf("M=%d/F=%d/C=%d", m, f, classes), func(t *testing.T) {
					h, w, b := randSlice[float64](r, m*f), randSlice[float64](r, f*classes), randSlice[float64](r, classes)
					y := make([]int, m)
					for i := range y {
						y[i] = r.IntN(classes)
					}
					got := OnlineProbe(h, y, f, classes, w, b)
					theta := append(append([]float64(nil), w...), b...)
					ce := func(theta []float64) float64 {
						return OnlineProbe(h, y, f, classes, theta[:len(w)], theta[len(w):]).CE
					}
					fd := centralDiff(ce, theta, 1e-4)
					grad := append(append([]float64(nil), got.DW...), got.DB...)
					if e := relErrFloor(grad, fd, fdFloor(got.CE, 1e-4, len(theta))); e > 1e-6 {
						t.Errorf("relative error %.3g\n got %.6g\nwant %.6g", e, grad, fd)
					}
				})
			}
		}
	}
}

// TestOnlineProbeClosedForms: an all-zero probe gives every class the same logit, so CE = log C and the
// accuracy is 0 (a tie is a miss); a probe that reads the class off a one-hot feature is right on every row,
// with CE = log(1 + (C−1)e^{−s}) for logit margin s.
func TestOnlineProbeClosedForms(t *testing.T) {
	const classes, m = 4, 8
	h := make([]float64, m*classes)
	y := make([]int, m)
	for i := range y {
		y[i] = (3 * i) % classes
		h[i*classes+y[i]] = 1 // the feature is the one-hot label
	}
	zero := OnlineProbe(h, y, classes, classes, make([]float64, classes*classes), make([]float64, classes))
	if math.Abs(zero.CE-math.Log(classes)) > 1e-15 || zero.Accuracy != 0 {
		t.Errorf("zero probe: CE %.17g, accuracy %g; want log %d and 0", zero.CE, zero.Accuracy, classes)
	}
	const s = 2.5
	w := make([]float64, classes*classes)
	for c := range classes {
		w[c*classes+c] = s
	}
	b := []float64{0.25, 0.25, 0.25, 0.25} // a shared bias moves no softmax
	got := OnlineProbe(h, y, classes, classes, w, b)
	if want := math.Log(1 + (classes-1)*math.Exp(-s)); math.Abs(got.CE-want) > 1e-15 || got.Accuracy != 1 {
		t.Errorf("one-hot probe: CE %.17g, accuracy %g; want %.17g and 1", got.CE, got.Accuracy, want)
	}
	// Swapping two rows (with their labels) changes nothing.
	h2, y2 := append([]float64(nil), h...), append([]int(nil), y...)
	copy(h2[0:classes], h[classes:2*classes])
	copy(h2[classes:2*classes], h[0:classes])
	y2[0], y2[1] = y[1], y[0]
	if again := OnlineProbe(h2, y2, classes, classes, w, b); math.Abs(again.CE-got.CE) > 1e-15 || again.Accuracy != got.Accuracy {
		t.Errorf("rows swapped: CE %.17g accuracy %g, before %.17g %g", again.CE, again.Accuracy, got.CE, got.Accuracy)
	}
}
