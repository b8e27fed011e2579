package hostmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNormalizeRows checks unit norms, the ε of a zero row, the float32 result against the float64 one
// rounded, and that dst may be z.
func TestNormalizeRows(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const rows, k = 600, 5 // more than one block of rows
	z := randSlice[float64](r, rows*k)
	clear(z[7*k : 8*k])
	u := NormalizeRows[float64](nil, z, rows, k)
	u32 := NormalizeRows[float32](nil, z, rows, k)
	for i := range rows {
		if n := math.Sqrt(Dot(u[i*k:(i+1)*k], u[i*k:(i+1)*k])); i != 7 && math.Abs(n-1) > 1e-10 { // 1 − ε/‖z_i‖
			t.Fatalf("row %d: ‖u‖ = %g", i, n)
		}
		for j := range k {
			if u32[i*k+j] != float32(u[i*k+j]) {
				t.Fatalf("row %d: float32 %g ≠ float32(%g)", i, u32[i*k+j], u[i*k+j])
			}
		}
	}
	if n := Dot(u[7*k:8*k], u[7*k:8*k]); n != 0 {
		t.Errorf("zero row: ‖u‖² = %g", n)
	}
	if v := NormalizeRows([]float64{3, 4}, []float64{3, 4}, 1, 2); v[0] != 3/(5+NormEps) || v[1] != 4/(5+NormEps) {
		t.Errorf("[3, 4] → %v", v)
	}
	inPlace := append([]float64(nil), z...)
	NormalizeRows(inPlace, inPlace, rows, k)
	for i := range u {
		if inPlace[i] != u[i] {
			t.Fatalf("dst = z: element %d is %g, want %g", i, inPlace[i], u[i])
		}
	}
}

// TestUniformity checks four points at the corners of a square (±x, ±y): of the 12 ordered pairs 8 are at
// ‖Δ‖² = 2 and 4 at ‖Δ‖² = 4, so U = log((8e^{−4} + 4e^{−8})/12).
func TestUniformity(t *testing.T) {
	u := []float64{1, 0, 0, 1, -1, 0, 0, -1}
	if got, want := Uniformity(u, 4, 2), math.Log((8*math.Exp(-4)+4*math.Exp(-8))/12); math.Abs(got-want) > 1e-14 {
		t.Errorf("Uniformity = %g, want %g", got, want)
	}
}
