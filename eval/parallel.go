package eval

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelRange calls body(lo, hi) on the consecutive blocks [0, grain), [grain, 2·grain), … of [0, n) from
// up to runtime.GOMAXPROCS(0) goroutines taking blocks from a shared counter (so a core shared with other
// work does not hold the rest back), and returns when all are done. The blocks do not depend on the number
// of goroutines, so neither does any result body writes per block.
func parallelRange(n, grain int, body func(lo, hi int)) {
	grain = max(grain, 1)
	blocks := (n + grain - 1) / grain
	workers := min(runtime.GOMAXPROCS(0), blocks)
	if workers <= 1 {
		for lo := 0; lo < n; lo += grain {
			body(lo, min(lo+grain, n))
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for b := int(next.Add(1) - 1); b < blocks; b = int(next.Add(1) - 1) {
			body(b*grain, min((b+1)*grain, n))
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
