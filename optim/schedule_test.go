package optim

import (
	"math"
	"testing"
)

func TestScheduleFactor(t *testing.T) {
	cases := []struct {
		s    Schedule
		t    int
		want float64
	}{
		{Schedule{Name: Constant}, 1, 1},
		{Schedule{Name: Constant, Warmup: 3, Total: 10}, 1, 0.25},
		{Schedule{Name: Constant, Warmup: 3, Total: 10}, 3, 0.75},
		{Schedule{Name: Constant, Warmup: 3, Total: 10}, 4, 1},
		{Schedule{Name: Cosine, Total: 4}, 1, 1},
		{Schedule{Name: Cosine, Total: 4}, 2, 0.5 * (1 + math.Cos(math.Pi/4))},
		{Schedule{Name: Cosine, Total: 4}, 3, 0.5},
		{Schedule{Name: Cosine, Total: 4}, 4, 0.5 * (1 + math.Cos(3*math.Pi/4))},
		{Schedule{Name: Cosine, Warmup: 1, Total: 5}, 1, 0.5},
		{Schedule{Name: Cosine, Warmup: 1, Total: 5}, 2, 1},
		{Schedule{Name: Cosine, Warmup: 1, Total: 5}, 4, 0.5},
		{Schedule{Name: Cosine, Total: 4}, 9, 0}, // past the end (a resumed run with more steps is validated away)
	}
	for _, c := range cases {
		if got := c.s.Factor(c.t); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%+v.Factor(%d) = %.17g, want %.17g", c.s, c.t, got, c.want)
		}
	}
}

func TestScheduleCosineIsMonotoneAndPositive(t *testing.T) {
	s := Schedule{Name: Cosine, Warmup: 10, Total: 1000}
	prev := 0.0
	for step := 1; step <= s.Total; step++ {
		f := s.Factor(step)
		if !(f > 0 && f <= 1) {
			t.Fatalf("step %d: factor %g outside (0, 1]", step, f)
		}
		if step <= s.Warmup+1 && f <= prev || step > s.Warmup+1 && f >= prev {
			t.Fatalf("step %d: factor %g after %g is not rising in the warm-up and falling after it", step, f, prev)
		}
		prev = f
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, s := range []Schedule{{Name: "linear"}, {Name: Cosine, Warmup: -1}, {Name: Cosine, Warmup: 5, Total: 5}} {
		if s.Validate() == nil {
			t.Errorf("%+v: want an error", s)
		}
	}
	if err := (Schedule{Name: Cosine, Warmup: 4, Total: 5}).Validate(); err != nil {
		t.Error(err)
	}
}
