package ref

import (
	"math"
	"slices"
	"testing"
)

// TestAugmentVectorClosedForms checks the replays on cases worked by hand.
func TestAugmentVectorClosedForms(t *testing.T) {
	x := []float64{1, 0, 5, 0, 2, 7} // [2, 3]
	orig := slices.Clone(x)
	near := func(name string, got, want []float64) {
		t.Helper()
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Errorf("%s = %v, want %v", name, got, want)
				return
			}
		}
	}
	near("Rotate", Rotate(nil, x, 2, 3, []float64{math.Pi / 2, math.Pi}), []float64{0, 1, 5, 0, -2, 7})
	near("Shift diagonal", Shift(nil, x, 2, 3, []float64{1, -2}, nil), []float64{2, 1, 6, -2, 0, 5})
	near("Shift dir", Shift(nil, x, 2, 3, []float64{1, -2}, []float64{1, 0, -1}), []float64{2, 0, 4, -2, 2, 9})
	near("AddNoise", AddNoise(nil, x, []float64{1, 1, 1, 0, 0, 0}), []float64{2, 1, 6, 0, 2, 7})
	// rotation → shift → noise: (1,0) turned by π/2 is (0,1), then +1 on every coordinate, then +0.5.
	near("ApplyVector", ApplyVector(nil, x, 2, 3, []float64{math.Pi / 2, 0}, []float64{1, 0}, nil,
		[]float64{0.5, 0.5, 0.5, 0, 0, 0}), []float64{1.5, 2.5, 6.5, 0, 2, 7})
	near("ApplyVector identity", ApplyVector(nil, x, 2, 3, nil, nil, nil, nil), x)
	if !slices.Equal(x, orig) {
		t.Errorf("x was modified: %v", x)
	}
	y := slices.Clone(x) // dst may alias x
	Rotate(y, y, 2, 3, []float64{math.Pi / 2, math.Pi})
	near("Rotate in place", y, []float64{0, 1, 5, 0, -2, 7})
	y32 := ApplyVector(nil, []float32{3, 4}, 1, 2, []float32{1.234}, nil, nil, nil)
	if n := math.Hypot(float64(y32[0]), float64(y32[1])); math.Abs(n-5) > 1e-6 {
		t.Errorf("float32 rotation changed the norm 5 to %g", n)
	}
}

func TestAugmentVectorPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"Rotate d=1":   func() { Rotate(nil, []float64{1, 2}, 2, 1, []float64{0, 0}) },
		"Shift dir":    func() { Shift(nil, []float64{1, 2}, 1, 2, []float64{1}, []float64{1}) },
		"len(x)":       func() { ApplyVector(nil, []float64{1, 2, 3}, 2, 2, nil, nil, nil, nil) },
		"len(dst)":     func() { AddNoise(make([]float64, 1), []float64{1, 2}, []float64{0, 0}) },
		"len(noise)":   func() { AddNoise(nil, []float64{1, 2}, []float64{0}) },
		"len(theta)":   func() { Rotate(nil, []float64{1, 2}, 1, 2, []float64{0, 0}) },
		"xi too short": func() { Shift(nil, []float64{1, 2, 3, 4}, 2, 2, []float64{1}, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
