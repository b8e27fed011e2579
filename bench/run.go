package bench

import (
	"fmt"
	"io"
	"strings"

	"github.com/gosimclr/gosimclr/backend"
)

var workloads = []func() Workload{MLP}

// WorkloadNames lists the workloads simclr bench knows.
func WorkloadNames() []string {
	var names []string
	for _, w := range workloads {
		names = append(names, w().Name)
	}
	return names
}

// WorkloadByName returns the named workload.
func WorkloadByName(name string) (Workload, error) {
	for _, w := range workloads {
		if w().Name == name {
			return w(), nil
		}
	}
	return Workload{}, fmt.Errorf("unknown workload %q, want one of %v", name, WorkloadNames())
}

// Run measures every workload on every backend spec and, when withRef, on the reference; progress goes to log.
func Run(wls []Workload, specs []string, steps int, withRef bool, log io.Writer) ([]Result, error) {
	var out []Result
	for _, w := range wls {
		var refMs float64
		var rs []Result
		if withRef {
			fmt.Fprintf(log, "%s on the reference…\n", w.Name)
			r, err := w.RunReference(steps)
			if err != nil {
				return nil, err
			}
			refMs = r.MsPerStep
			r.RatioToReference = 1
			rs = append(rs, r)
		}
		for _, spec := range specs {
			b, err := backend.New(spec)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(log, "%s on %s…\n", w.Name, spec)
			r, err := w.RunGoMLX(b, spec, steps)
			b.Finalize()
			if err != nil {
				return nil, err
			}
			if refMs > 0 {
				r.RatioToReference = r.MsPerStep / refMs
			}
			rs = append(rs, r)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// Table renders results as a markdown table.
func Table(rs []Result) string {
	var sb strings.Builder
	sb.WriteString("| workload | backend | ms/step (median) | min–max ms | samples/s | GFLOP/s | compile ms | peak RSS MB | ratio to reference |\n")
	sb.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		ratio := "—"
		if r.Backend != "reference" && r.RatioToReference > 0 {
			ratio = fmt.Sprintf("%.3f (%.1f× %s)", r.RatioToReference, speedup(r.RatioToReference), fasterSlower(r.RatioToReference))
		}
		fmt.Fprintf(&sb, "| %s | %s | %.2f | %.2f–%.2f | %.0f | %.1f | %.0f | %.0f | %s |\n", r.Workload, r.Backend,
			r.MsPerStep, r.MinMs, r.MaxMs, r.SamplesPerSec, r.GFLOPs, r.CompileMs, r.PeakRSSMB, ratio)
	}
	return sb.String()
}

func speedup(ratio float64) float64 {
	if ratio < 1 {
		return 1 / ratio
	}
	return ratio
}

func fasterSlower(ratio float64) string {
	if ratio <= 1 {
		return "faster"
	}
	return "slower"
}
