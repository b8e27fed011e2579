package train

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// signalWatch turns the first SIGINT or SIGTERM into a request to stop after the current step; a second
// SIGINT exits at once with status 130.
type signalWatch struct {
	ch   chan os.Signal
	mu   sync.Mutex
	sig  os.Signal
	done chan struct{}
}

func watchSignals() *signalWatch {
	w := &signalWatch{ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(w.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		for {
			select {
			case s := <-w.ch:
				w.mu.Lock()
				first := w.sig == nil
				if first {
					w.sig = s
				}
				w.mu.Unlock()
				if first {
					fmt.Fprintf(os.Stderr, "\nreceived %v: finishing the current step and writing a checkpoint (press Ctrl-C again to quit at once)\n", s)
				} else if s == os.Interrupt {
					fmt.Fprintln(os.Stderr, "second interrupt: exiting now without a checkpoint")
					os.Exit(130)
				}
			case <-w.done:
				return
			}
		}
	}()
	return w
}

// received returns the first signal, or nil.
func (w *signalWatch) received() os.Signal {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sig
}

func (w *signalWatch) close() {
	signal.Stop(w.ch)
	close(w.done)
}
