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
	dir, step := runFlags(fs, "evaluate")
	spec := fs.String("backend", "", "compute backend for the features (default: the run's, else $GOMLX_BACKEND or auto)")
	var o train.EvalOptions
	fs.IntVar(&o.KNNK, "knn-k", 0, "neighbours of the weighted kNN vote (default 200)")
	fs.Float64Var(&o.KNNT, "knn-t", 0, "temperature T of the kNN vote weights exp(s/T) (default 0.1; not the loss's τ)")
	fs.Float64SliceVar(&o.Lambdas, "probe-lambdas", nil, "comma-separated L2 `penalties` the linear probe chooses from on a held-out split (default 1e-1, 1e-2, …, 1e-6)")
	fs.Lookup("probe-lambdas").DefValue = "" // pflag would add "(default [])" for the nil slice that means the list above
	fs.BoolVar(&o.NoRaw, "no-raw", false, "skip the raw-input baselines (else computed once per data set and options, and cached in $GOSIMCLR_CACHE_DIR or the user cache folder)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkRunFlags(*dir, *step); err != nil {
		return err
	}
	o.Checkpoint = *step
	switch {
	case o.KNNK < 0:
		return usageError{fmt.Errorf("--knn-k must be ≥ 1, got %d", o.KNNK)}
	case o.KNNT < 0:
		return usageError{fmt.Errorf("--knn-t must be > 0, got %g", o.KNNT)}
	}
	for _, l := range o.Lambdas {
		if !(l > 0) {
			return usageError{fmt.Errorf("--probe-lambdas must all be > 0, got %v", o.Lambdas)}
		}
	}
	_, err := train.EvaluateRun(*dir, *spec, o, os.Stderr)
	return err
}
