package hostmath

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestParallel checks that both loops visit every index of [0, n) exactly once, in blocks of the promised
// sizes, with one and with four goroutines.
func TestParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 4} {
		runtime.GOMAXPROCS(procs)
		for _, c := range []struct{ n, grain int }{{0, 1}, {1, 1}, {7, 3}, {100, 1}, {100, 30}, {1000, 0}} {
			t.Run(fmt.Sprintf("procs=%d/n=%d/grain=%d", procs, c.n, c.grain), func(t *testing.T) {
				seen := make([]atomic.Int32, c.n)
				var calls atomic.Int32
				visit := func(lo, hi int) {
					calls.Add(1)
					for i := lo; i < hi; i++ {
						seen[i].Add(1)
					}
				}
				ParallelBlocks(c.n, c.grain, func(lo, hi int) {
					if hi-lo > max(c.grain, 1) || (hi < c.n && hi-lo != max(c.grain, 1)) {
						t.Errorf("ParallelBlocks: block [%d, %d)", lo, hi)
					}
					visit(lo, hi)
				})
				ParallelFor(c.n, c.grain, func(lo, hi int) {
					if c.n >= 2*max(c.grain, 1) && hi-lo < max(c.grain, 1) {
						t.Errorf("ParallelFor: chunk [%d, %d) shorter than grain", lo, hi)
					}
					visit(lo, hi)
				})
				for i := range seen {
					if v := seen[i].Load(); v != 2 {
						t.Fatalf("index %d visited %d times, want once per loop", i, v)
					}
				}
				if n := int(calls.Load()); n > (c.n+max(c.grain, 1)-1)/max(c.grain, 1)+procs {
					t.Errorf("%d calls", n)
				}
			})
		}
	}
}
