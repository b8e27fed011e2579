package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gosimclr/gosimclr/experiments"
)

// runExperiment runs `simclr experiment NAME [flags]`: one experiment of package experiments, or all of them.
// --quick is read before the flags are bound, so that --help shows the defaults of the mode asked for.
func runExperiment(args []string) error {
	var names []string
	for _, e := range experiments.Experiments {
		names = append(names, e.Name)
	}
	names = append(names, "all", "report")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		w := helpOut(asksHelp(args))
		fmt.Fprintf(w, "usage: simclr experiment NAME [--quick] [flags]\n\nexperiments:\n")
		for _, e := range experiments.Experiments {
			fmt.Fprintf(w, "  %-20s %s\n", e.Name, e.Summary)
		}
		fmt.Fprintf(w, "  %-20s every experiment in turn, then OUT-DIR/REPORT.md\n"+
			"  %-20s assemble OUT-DIR/REPORT.md from the summaries already in OUT-DIR (runs nothing)\n\n"+
			"simclr experiment NAME --help lists NAME's flags (with --quick: its quick defaults). Each writes\n"+
			"OUT-DIR/NAME/: config.json, CSV time series, PNG figures, summary.md.\n", "all", "report")
		if asksHelp(args) {
			return nil
		}
		return usageError{fmt.Errorf("experiment: want a NAME first, one of %s", strings.Join(names, ", "))}
	}
	name, rest := args[0], args[1:]
	quick := slices.Contains(rest, "--quick") || slices.Contains(rest, "--quick=true")
	fs := newFlags("experiment " + name)
	cm := experiments.Common{Log: os.Stderr}
	fs.BoolVar(&cm.Quick, "quick", false, "run the reduced version (under 2 minutes on 2 cores); its defaults are shown with --quick --help")
	fs.StringVarP(&cm.OutDir, "out-dir", "o", "results", "parent folder: the experiment writes OUT-DIR/NAME/ (all: also OUT-DIR/REPORT.md)")
	fs.StringVar(&cm.Backend, "backend", "", "compute backend (default $GOMLX_BACKEND or auto: xla:cuda, xla:cpu or go, the first that works)")
	switch name {
	case "all", "report":
		if err := parse(fs, rest); err != nil {
			return err
		}
		if name == "report" {
			return experiments.Report(cm.OutDir)
		}
		return experiments.All(cm)
	}
	e, ok := experiments.Find(name)
	if !ok {
		return usageError{fmt.Errorf("experiment: unknown NAME %q, want one of %s", name, strings.Join(names, ", "))}
	}
	runFn := e.Bind(fs, quick)
	if err := parse(fs, rest); err != nil {
		return err
	}
	r, err := runFn(cm)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: done in %.1f s; results in %s\n%s\n", name, r.Seconds, r.Dir, r.VerdictText())
	return nil
}
