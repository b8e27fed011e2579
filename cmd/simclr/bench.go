package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/bench"
	"github.com/gosimclr/gosimclr/scripts"
)

func runBench(args []string) error {
	fs := newFlags("bench")
	workloads := fs.String("workload", bench.DefaultWorkloads, "comma-separated workloads: "+strings.Join(bench.WorkloadNames(), ", ")+", or all (the default leaves out resnet18: minutes per step on 2 cores)")
	backends := fs.StringArray("backend", nil, "backend to time; repeat the flag for several, e.g. --backend go --backend xla:cuda,tf32=false (default $GOMLX_BACKEND or go)")
	steps := fs.Int("steps", 20, "timed steps per measurement, after one warm-up step (resnet18: at most 3 on CPU)")
	pairs := fs.Int("pairs", 0, "replace every workload's number of pairs N (0: the standard sizes)")
	noRef := fs.Bool("no-reference", false, "skip the pure-Go reference (no ratio is then reported)")
	noPeak := fs.Bool("no-peak", false, "skip the matmul peak probes")
	asJSON := fs.Bool("json", false, "print one JSON object per line instead of a table")
	save := fs.String("save", "", "also write the machine description and results as JSON to this file")
	peer := fs.String("peer", "", "also time the same steps in this peer framework in the same run: pytorch (needs Python with torch)")
	python := fs.String("python", "", "Python for --peer pytorch (default /usr/bin/python3, else python3 on PATH)")
	from := fs.StringSlice("from", nil, "print the markdown report of saved result files instead of measuring")
	sw := addSweepFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := sw.check(fs); err != nil {
		return err
	}
	if sw.on {
		specs, err := backendSpecs(*backends)
		if err != nil {
			return err
		}
		return runSweep(sw, *workloads, specs, *steps, fs.Changed("steps"), !*noRef)
	}
	if len(*from) > 0 {
		var runs []bench.Saved
		for _, f := range *from {
			s, err := bench.Load(f)
			if err != nil {
				return err
			}
			runs = append(runs, s)
		}
		fmt.Print(bench.Report(runs, *from))
		return nil
	}
	if *pairs < 0 {
		return usageError{fmt.Errorf("--pairs must be ≥ 0, got %d", *pairs)}
	}
	if *steps < 10 {
		return usageError{fmt.Errorf("--steps must be ≥ 10 (the median is taken over them), got %d", *steps)}
	}
	names := strings.Split(*workloads, ",")
	if *workloads == "all" {
		names = bench.WorkloadNames()
	}
	var cases []bench.Case
	for _, name := range names {
		cs, err := bench.CasesOf(strings.TrimSpace(name), *pairs)
		if err != nil {
			return usageError{fmt.Errorf("--workload: %w", err)}
		}
		cases = append(cases, cs...)
	}
	specs, err := backendSpecs(*backends)
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(os.Stderr, "simd=%v; %d timed steps after 1 warm-up; \"vs reference\" = ms/step over the reference's\n", backend.SIMD, *steps)
	}
	if *peer != "" && *peer != "pytorch" {
		return usageError{fmt.Errorf("--peer: only pytorch is known, got %q", *peer)}
	}
	results, err := bench.Run(cases, bench.Options{Backends: specs, Steps: *steps, Reference: !*noRef, Peak: !*noPeak}, os.Stderr)
	if err != nil {
		return err
	}
	if *peer == "pytorch" {
		py, err := bench.FindPython(*python)
		if err != nil {
			return fmt.Errorf("--peer pytorch: no Python found (%v); give one with --python", err)
		}
		_, peerResults, err := bench.Peer(py, scripts.PeerPyTorch, cases, *steps, os.Stderr)
		if err != nil {
			return fmt.Errorf("--peer pytorch: %w", err)
		}
		bench.AddPeerRatios(results, peerResults)
		results = append(results, peerResults...)
	}
	if *save != "" {
		if err := bench.Save(*save, specs, results); err != nil {
			return err
		}
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

// backendSpecs returns the --backend values, or the default backend when there are none, checking each.
func backendSpecs(flag []string) ([]string, error) {
	specs := flag
	if len(specs) == 0 {
		specs = []string{backend.Spec("")}
	}
	for i, s := range specs {
		if _, err := backend.Parse(s); err != nil {
			return nil, usageError{fmt.Errorf("--backend: %w", err)}
		}
		var err error
		if specs[i], err = backend.Resolve(s); err != nil {
			return nil, err
		}
	}
	return specs, nil
}
