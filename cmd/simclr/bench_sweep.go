package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/bench"
	"github.com/spf13/pflag"
)

// sweepFlags are the flags of simclr bench --sweep.
type sweepFlags struct {
	on                    bool
	pairs, widths, depths []int
	out                   string
}

func addSweepFlags(fs *pflag.FlagSet) *sweepFlags {
	sw := &sweepFlags{}
	fs.BoolVar(&sw.on, "sweep", false, "time scaling series instead of the standard table: loss against N, onehidden against width, mlp against depth (--workload picks among them); writes CSV, JSON and PNG plots to --out")
	fs.IntSliceVar(&sw.pairs, "sweep-pairs", nil, fmt.Sprintf("numbers of pairs N of the loss sweep (default %s)", joinInts(bench.SweepPairs)))
	fs.IntSliceVar(&sw.widths, "sweep-widths", nil, fmt.Sprintf("widths m of the onehidden sweep (default %s)", joinInts(bench.SweepWidths)))
	fs.IntSliceVar(&sw.depths, "sweep-depths", nil, fmt.Sprintf("hidden layers L of the mlp sweep (default %s)", joinInts(bench.SweepDepths)))
	fs.StringVar(&sw.out, "out", "bench/sweep", "folder for the sweep's sweep.csv, sweep.json and sweep-SERIES.png")
	return sw
}

// check rejects sweep flags without --sweep, flags that do not apply to a sweep, and sizes below 1.
func (sw *sweepFlags) check(fs *pflag.FlagSet) error {
	if !sw.on {
		for _, name := range []string{"sweep-pairs", "sweep-widths", "sweep-depths", "out"} {
			if fs.Changed(name) {
				return usageError{fmt.Errorf("--%s needs --sweep", name)}
			}
		}
		return nil
	}
	for _, name := range []string{"pairs", "json", "save", "from", "no-peak"} {
		if fs.Changed(name) {
			return usageError{fmt.Errorf("--%s does not apply to --sweep", name)}
		}
	}
	for _, f := range []struct {
		name string
		xs   []int
	}{{"sweep-pairs", sw.pairs}, {"sweep-widths", sw.widths}, {"sweep-depths", sw.depths}} {
		for _, x := range f.xs {
			if x < 1 {
				return usageError{fmt.Errorf("--%s: sizes must be ≥ 1, got %d", f.name, x)}
			}
		}
	}
	if sw.out == "" {
		return usageError{fmt.Errorf("--out must name a folder")}
	}
	return nil
}

// runSweep times the sweep's series, prints its markdown summary and writes its files to sw.out. steps is
// used when stepsSet; otherwise each series' default steps apply.
func runSweep(sw *sweepFlags, workloads string, specs []string, steps int, stepsSet, reference bool) error {
	if stepsSet && steps < 10 {
		return usageError{fmt.Errorf("--steps must be ≥ 10 (the median is taken over them), got %d", steps)}
	}
	names := bench.SweepNames()
	if workloads != "all" {
		names = strings.Split(workloads, ",")
		for i := range names {
			names[i] = strings.TrimSpace(names[i])
		}
	}
	series, err := bench.SweepOf(names, bench.SweepSizes{Pairs: sw.pairs, Widths: sw.widths, Depths: sw.depths})
	if err != nil {
		return usageError{fmt.Errorf("--workload: %w", err)}
	}
	if !stepsSet {
		steps = 0
		fmt.Fprintf(os.Stderr, "simd=%v; %s after 1 warm-up\n", backend.SIMD, bench.SweepStepsNote(series))
	} else {
		fmt.Fprintf(os.Stderr, "simd=%v; %d timed steps after 1 warm-up\n", backend.SIMD, steps)
	}
	t0 := time.Now()
	points, err := bench.Sweep(series, bench.Options{Backends: specs, Steps: steps, Reference: reference}, os.Stderr)
	if err != nil {
		return err
	}
	rep := bench.NewSweepReport(specs, series, points)
	paths, err := rep.Write(sw.out)
	if err != nil {
		return err
	}
	fmt.Print(rep.Table())
	fmt.Fprintf(os.Stderr, "sweep took %s; wrote %s\n", time.Since(t0).Round(time.Second), strings.Join(paths, ", "))
	return nil
}

// joinInts writes xs comma-separated.
func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
