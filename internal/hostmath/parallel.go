package hostmath

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ParallelBlocks calls body(lo, hi) on the consecutive blocks [0, block), [block, 2·block), … of [0, n) from
// up to runtime.GOMAXPROCS(0) goroutines taking blocks from a shared counter (so a core shared with other
// work does not hold the rest back), and returns when all are done. The blocks do not depend on the number
// of goroutines, so neither does any result body writes per block.
func ParallelBlocks(n, block int, body func(lo, hi int)) {
	block = max(block, 1)
	blocks := (n + block - 1) / block
	workers := min(runtime.GOMAXPROCS(0), blocks)
	if workers <= 1 {
		for lo := 0; lo < n; lo += block {
			body(lo, min(lo+block, n))
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for b := int(next.Add(1) - 1); b < blocks; b = int(next.Add(1) - 1) {
			body(b*block, min((b+1)*block, n))
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// ParallelFor calls body(lo, hi) on at most runtime.GOMAXPROCS(0) consecutive chunks of [0, n), each of at
// least grain indices (one chunk when n < 2·grain), and returns when all are done: ParallelBlocks with
// blocks of ⌈n/workers⌉, for bodies that set up scratch once per call. body must only write what its chunk
// owns; results then do not depend on the number of goroutines.
func ParallelFor(n, grain int, body func(lo, hi int)) {
	workers := max(1, min(runtime.GOMAXPROCS(0), n/max(grain, 1)))
	ParallelBlocks(n, ceilDiv(n, workers), body)
}
