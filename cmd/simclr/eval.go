package main

import (
	"fmt"
	"os"

	"github.com/gosimclr/gosimclr/train"
)

// runEval evaluates a finished (or checkpointed) run: kNN and linear probe on its encoder's features and on
// the raw inputs, written to DIR/eval.json.
func runEval(args []string) error {
	fs := newFlags("eval")
	dir := fs.String("run", "", "run directory (holding config.json and checkpoints)")
	spec := fs.String("backend", "", "compute backend (default: the run's, else $GOMLX_BACKEND or go)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usageError{fmt.Errorf("--run DIR is required")}
	}
	_, err := train.EvaluateRun(*dir, *spec, os.Stderr)
	return err
}
