package ref

import (
	"math"
	"testing"
)

// TestAlignmentUniformity checks configurations with known values, to 1e-10: u = z/(‖z‖+1e-12) is a unit
// vector only to ~1e-12/‖z‖.
func TestAlignmentUniformity(t *testing.T) {
	// Two views of one example at a right angle: A = ‖u_1 − u_2‖² = 2, U = log exp(−2·2) = −4.
	z := []float64{3, 0, 0, 0.5}
	if a := Alignment(z, 2, 2); math.Abs(a-2) > 1e-10 {
		t.Errorf("Alignment = %g, want 2", a)
	}
	if u := Uniformity(z, 2, 2); math.Abs(u+4) > 1e-10 {
		t.Errorf("Uniformity = %g, want −4", u)
	}
	// Collinear rows: A = 0, U = log 1 = 0.
	z = []float64{1, 2, 2, 4, 0.5, 1, 3, 6}
	if a, u := Alignment(z, 4, 2), Uniformity(z, 4, 2); math.Abs(a) > 1e-12 || math.Abs(u) > 1e-10 {
		t.Errorf("collinear: Alignment %g, Uniformity %g, want 0, 0", a, u)
	}
	// Antipodal views: A = 4. Four points at the corners of a square (±x, ±y): the 12 ordered pairs are
	// 8 at ‖Δ‖² = 2 and 4 at ‖Δ‖² = 4, so U = log((8e^{−4} + 4e^{−8})/12).
	z = []float64{1, 0, 0, 1, -1, 0, 0, -1}
	if a := Alignment(z, 4, 2); math.Abs(a-4) > 1e-10 {
		t.Errorf("antipodal: Alignment = %g, want 4", a)
	}
	if u, want := Uniformity(z, 4, 2), math.Log((8*math.Exp(-4)+4*math.Exp(-8))/12); math.Abs(u-want) > 1e-10 {
		t.Errorf("square: Uniformity = %g, want %g", u, want)
	}
}
