package train

import (
	"time"

	"github.com/gomlx/gomlx/core/tensors"
)

// Loop runs the training steps First…Last of a Stepper, in order: Before(t), the step on the batch Batch(t)
// with the learning-rate factor Schedule(t), then After(t, result). The batches are gathered on a goroutine of
// their own, two steps ahead, so that assembling the next batch overlaps the current step. The first error of
// a batch, a step or a hook stops the loop and is returned. simclr train (Run) and the experiments share it.
type Loop struct {
	Stepper     *Stepper
	First, Last int
	Batch       func(step int) (*tensors.Tensor, error) // called in step order, ahead of the step
	Labels      func(step int) *tensors.Tensor          // nil: none; else the batch's labels for the online probe, called after Batch
	Schedule    func(step int) float64                  // nil: a constant learning rate
	Before      func(step int) error                    // nil: nothing
	After       func(step int, r StepResult) error
	// DataWait, if not nil, is added the time each step waited for its batch (the step idle, for want of
	// data; the first step's wait includes assembling the first batch).
	DataWait *time.Duration
}

// Run runs the loop.
func (l Loop) Run() error {
	batches := prefetch(l.First, l.Last, func(step int) (fed, error) {
		x, err := l.Batch(step)
		if err != nil {
			return fed{}, err
		}
		f := fed{x: x}
		if l.Labels != nil {
			f.labels = l.Labels(step)
		}
		return f, nil
	})
	defer batches.stop()
	for step := l.First; step <= l.Last; step++ {
		if l.Before != nil {
			if err := l.Before(step); err != nil {
				return err
			}
		}
		l.Stepper.LRScale = 1
		if l.Schedule != nil {
			l.Stepper.LRScale = l.Schedule(step)
		}
		b, waited, err := batches.next()
		if l.DataWait != nil {
			*l.DataWait += waited
		}
		if err != nil {
			return err
		}
		l.Stepper.Labels = b.labels
		r, err := l.Stepper.Step(b.x)
		if err != nil {
			return err
		}
		if l.After != nil {
			if err := l.After(step, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// fed is what the prefetcher hands a step: the batch and, for the online probe, its labels.
type fed struct{ x, labels *tensors.Tensor }
