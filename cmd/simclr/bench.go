package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/bench"
)

func runBench(args []string) error {
	fs := newFlags("bench")
	workloads := fs.String("workload", "mlp", "comma-separated workloads: "+strings.Join(bench.WorkloadNames(), ", "))
	backends := fs.String("backend", "", "comma-separated backends to time (default $GOMLX_BACKEND or go)")
	steps := fs.Int("steps", 20, "timed steps per measurement, after one warm-up step")
	noRef := fs.Bool("no-reference", false, "skip the pure-Go reference (no ratio is then reported)")
	asJSON := fs.Bool("json", false, "print one JSON object per line instead of a table")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *steps < 10 {
		return usageError{fmt.Errorf("--steps must be ≥ 10 (the median is taken over them), got %d", *steps)}
	}
	var wls []bench.Workload
	for _, name := range strings.Split(*workloads, ",") {
		w, err := bench.WorkloadByName(strings.TrimSpace(name))
		if err != nil {
			return usageError{fmt.Errorf("--workload: %w", err)}
		}
		wls = append(wls, w)
	}
	var specs []string
	for _, s := range strings.Split(backend.Spec(*backends), ",") {
		if _, err := backend.Parse(strings.TrimSpace(s)); err != nil {
			return usageError{fmt.Errorf("--backend: %w", err)}
		}
		specs = append(specs, strings.TrimSpace(s))
	}
	if !*asJSON {
		fmt.Fprintf(os.Stderr, "simd=%v; timing %d steps after 1 warm-up; ratio = ms/step over the reference's\n", backend.SIMD, *steps)
	}
	results, err := bench.Run(wls, specs, *steps, !*noRef, os.Stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Print(bench.Table(results))
	return nil
}
