package ref

import (
	"runtime"
	"sync"
)

// parallelFor calls body(lo, hi) on consecutive chunks of [0, n) of at least grain indices each, from up to
// runtime.GOMAXPROCS(0) goroutines, and returns when all are done. body must only write what its chunk owns;
// results then do not depend on the number of goroutines.
func parallelFor(n, grain int, body func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(grain, 1))
	if workers <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		if w == workers-1 {
			body(lo, hi)
			break
		}
		wg.Go(func() { body(lo, hi) })
	}
	wg.Wait()
}
