package datasets

import (
	"errors"
	"sync"
	"sync/atomic"
)

// LoaderOptions are the batches a Loader assembles.
type LoaderOptions struct {
	First, Last int                  // the steps, in order, inclusive
	Indices     func(step int) []int // the examples of a step; called in step order on the loader's goroutine
	Seed        uint64               // the run's seed (Stream.Views)
	Ahead       int                  // at most this many batches assembled (or being assembled) ahead of Next; < 1 means 1
}

// Loader assembles the training batches of a Stream (Stream.Views) on a goroutine of its own, in step order,
// at most Ahead batches ahead of the consumer: memory holds at most Ahead batches besides the one in use,
// never the data set. Each batch is decoded on the stream's pool of Workers goroutines.
type Loader struct {
	out     chan loaded
	slots   chan struct{} // one token per batch started and not yet handed out by Next
	done    chan struct{}
	closing sync.Once
	ahead   atomic.Int64 // batches started and not yet handed out
	most    atomic.Int64 // the largest value ahead reached (tests)
}

type loaded struct {
	step  int
	views []float32
	err   error
}

// ErrLoaderDone is what Loader.Next returns after the last step or Close.
var ErrLoaderDone = errors.New("datasets: no more batches (past the last step, or closed)")

// Loader starts assembling the batches of o.First … o.Last; Close it when done with it.
func (s *Stream) Loader(o LoaderOptions) *Loader {
	ahead := max(o.Ahead, 1)
	l := &Loader{out: make(chan loaded, ahead), slots: make(chan struct{}, ahead), done: make(chan struct{})}
	go func() {
		defer close(l.out)
		for step := o.First; step <= o.Last; step++ {
			select {
			case l.slots <- struct{}{}:
			case <-l.done:
				return
			}
			n := l.ahead.Add(1)
			for m := l.most.Load(); n > m && !l.most.CompareAndSwap(m, n); m = l.most.Load() {
			}
			idx := o.Indices(step)
			b := loaded{step: step, views: make([]float32, 2*len(idx)*s.ExampleSize())}
			b.err = s.Views(step, o.Seed, idx, b.views)
			select {
			case l.out <- b:
			case <-l.done:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return l
}

// Next returns the next step and its views [N, 2, H, W, C] (Stream.Views), blocking until they are ready;
// after the last step, or after Close, it returns ErrLoaderDone.
func (l *Loader) Next() (step int, views []float32, err error) {
	b, ok := <-l.out
	if !ok {
		return 0, nil, ErrLoaderDone
	}
	l.ahead.Add(-1)
	<-l.slots
	return b.step, b.views, b.err
}

// Close stops the loader's goroutine (after the batch it is assembling, if any).
func (l *Loader) Close() { l.closing.Do(func() { close(l.done) }) }
