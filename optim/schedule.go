package optim

import (
	"fmt"
	"math"
	"slices"
)

// Names of the learning-rate schedules.
const (
	Constant = "constant"
	Cosine   = "cosine"
)

// Schedules lists the valid schedule names.
var Schedules = []string{Constant, Cosine}

// Schedule scales the learning rate by step. Steps are counted from 1 (the first update) to Total:
//
//	warm-up, t ≤ Warmup:   f(t) = t / (Warmup+1)
//	constant, t > Warmup:  f(t) = 1
//	cosine, t > Warmup:    f(t) = ½ (1 + cos(π (t−Warmup−1) / (Total−Warmup)))
//
// so the cosine schedule starts its decay at 1 on the first step after the warm-up and ends just above 0 on
// step Total (SGDR's cosine annealing, Loshchilov & Hutter 2017, without restarts; the linear warm-up of Goyal
// et al. 2017). The factor multiplies the optimiser's learning rate inside the step graph.
type Schedule struct {
	Name   string
	Warmup int // steps of linear warm-up (0: none)
	Total  int // steps of the run
}

// Validate reports an unknown name, a negative warm-up or a warm-up that leaves no step.
func (s Schedule) Validate() error {
	if !slices.Contains(Schedules, s.Name) {
		return fmt.Errorf("optim: schedule must be one of %v, got %q", Schedules, s.Name)
	}
	if s.Warmup < 0 || (s.Total > 0 && s.Warmup >= s.Total) {
		return fmt.Errorf("optim: warm-up must be ≥ 0 and below the %d steps, got %d", s.Total, s.Warmup)
	}
	return nil
}

// Factor is the learning-rate multiplier of step t (1-based).
func (s Schedule) Factor(t int) float64 {
	if t <= s.Warmup {
		return float64(t) / float64(s.Warmup+1)
	}
	if s.Name != Cosine || s.Total <= s.Warmup {
		return 1
	}
	frac := float64(t-s.Warmup-1) / float64(s.Total-s.Warmup)
	return 0.5 * (1 + math.Cos(math.Pi*min(frac, 1)))
}
