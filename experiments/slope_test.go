package experiments

import (
	"math"
	"testing"
)

// TestStudentQuantile against tabulated 97.5% points of Student's t, and the incomplete beta against closed forms.
func TestStudentQuantile(t *testing.T) {
	for _, c := range []struct{ df, want float64 }{{1, 12.706204736}, {2, 4.302652730}, {5, 2.570581836}, {10, 2.228138852},
		{30, 2.042272456}, {60, 2.000297822}} {
		if got := studentQuantile(0.975, c.df); math.Abs(got-c.want) > 1e-8*c.want {
			t.Errorf("t(0.975, %g) = %.10g, want %.10g", c.df, got, c.want)
		}
	}
	// I_x(1, 1) = x; I_x(2, 1) = x²; I_x(1/2, 1/2) = (2/π) asin √x.
	for _, x := range []float64{0.1, 0.37, 0.5, 0.9} {
		for _, c := range []struct{ a, b, want float64 }{{1, 1, x}, {2, 1, x * x}, {0.5, 0.5, 2 / math.Pi * math.Asin(math.Sqrt(x))}} {
			if got := regIncBeta(x, c.a, c.b); math.Abs(got-c.want) > 1e-12 {
				t.Errorf("I_%g(%g, %g) = %.15g, want %.15g", x, c.a, c.b, got, c.want)
			}
		}
	}
}

// TestOLSSlope: a line recovered exactly (zero-width interval), and the interval of a hand-computed case.
func TestOLSSlope(t *testing.T) {
	b, lo, hi := olsSlope([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7})
	if b != 2 || lo != 2 || hi != 2 {
		t.Errorf("exact line: slope %g [%g, %g], want 2 [2, 2]", b, lo, hi)
	}
	// x = 0,1,2,3, y = 0,2,1,3: b = 4/5 = 0.8, residuals −0.3, 0.9, −0.9, 0.3 → SSE 1.8, SE = √(1.8/2/5), t(0.975, 2).
	b, lo, hi = olsSlope([]float64{0, 1, 2, 3}, []float64{0, 2, 1, 3})
	se := math.Sqrt(1.8 / 2 / 5)
	if math.Abs(b-0.8) > 1e-12 || math.Abs(lo-(0.8-4.302652730*se)) > 1e-8 || math.Abs(hi-(0.8+4.302652730*se)) > 1e-8 {
		t.Errorf("slope %g [%g, %g], want 0.8 ± %g", b, lo, hi, 4.302652730*se)
	}
}
