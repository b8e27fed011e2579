// Package avx guards against the AVX→SSE transition penalty.
//
// On some Intel CPUs (seen on our 2-core Xeon hosts with AVX-512; absent on AMD EPYC), once an AVX or AVX-512
// instruction leaves the upper halves of the vector registers dirty, code that mixes legacy-SSE and VEX
// instructions runs far slower on that thread until VZEROUPPER runs. Go's math.Exp is such code on amd64 (its
// assembly interleaves SSE2 with VFMADD213SD when the CPU has FMA): measured ~860 ns per call instead of
// 6.5 ns. simd/archsimd code, ours and GoMLX's matrix kernels alike, does not clear the upper bits on return.
//
// The rules this project follows (doc/avx-transition.md has the reproducer and the upstream report):
//   - every SIMD kernel of ours ends with Clean;
//   - host loops that call math.Exp (or anything built on it: Tanh, Erf, Pow) call Clean first, once per
//     row or chunk, since a goroutine may run on a thread that a GoMLX kernel dirtied;
//   - graphs for GoMLX's Go backend never use its Exp, Logistic, Tanh or Erf ops (package ops substitutes them).
package avx

import (
	"math"
	"runtime"
	"time"
)

// Probe is the measured cost of math.Exp on one thread: clean, right after an AVX instruction, and after Clean.
type Probe struct {
	CleanNs, DirtyNs, AfterCleanNs float64 // ns per math.Exp
	Dirtied                        bool    // an AVX instruction could be run (simd build on an AVX CPU)
}

// Penalty is DirtyNs/CleanNs: about 1 where the CPU has no transition penalty, 100 or more where it does.
func (p Probe) Penalty() float64 { return p.DirtyNs / p.CleanNs }

// Measure runs the probe with n math.Exp calls per measurement (the best of three), on one locked OS thread.
func Measure(n int) Probe {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var p Probe
	Clean()
	p.CleanNs = ExpCost(n)
	p.Dirtied = Dirty()
	p.DirtyNs = ExpCost(n)
	Dirty()
	Clean()
	p.AfterCleanNs = ExpCost(n)
	return p
}

// ExpCost is the best of three timings of n math.Exp calls on the calling thread, in ns per call. It runs no
// SIMD code of its own and leaves the thread's vector state as it found it, so it measures that state.
func ExpCost(n int) float64 {
	best := math.Inf(1)
	for range 3 {
		s := 0.0
		t := time.Now()
		for i := range n {
			s += math.Exp(-float64(i%50) * 0.1)
		}
		d := float64(time.Since(t).Nanoseconds()) / float64(n)
		if s < 0 { // keeps the loop; never true
			d = -d
		}
		best = min(best, d)
	}
	return best
}

// CostAfter times math.Exp on a clean thread and right after run, on one locked OS thread, n calls per
// timing; of three tries it returns the one with the smallest ratio after/clean, so that a stray context
// switch does not pass for a penalty (which is ~100×, not noise).
func CostAfter(run func(), n int) (clean, after float64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for range 3 {
		Clean()
		c := ExpCost(n)
		run()
		a := ExpCost(n)
		if clean == 0 || a/c < after/clean {
			clean, after = c, a
		}
	}
	Clean()
	return clean, after
}
