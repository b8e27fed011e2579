package bench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Series is one scaling series of a sweep: one workload timed at several values of one of its sizes.
type Series struct {
	Name   string // the workload: "loss", "onehidden" or "mlp"
	Title  string // what the plot title says it is
	XName  string // the varying size: "pairs", "width" or "depth"
	XSym   string // its symbol: "N", "m" or "L"
	XLabel string // the plots' x-axis label
	Xs     []int  // its values, ascending
	FitMin int    // the power-law fit of time against x uses the points with x ≥ FitMin
	// BigSteps caps the timed steps of the sizes x ≥ BigFrom when the sweep runs with default steps
	// (0: no cap), so that the whole sweep takes minutes on two cores.
	BigFrom, BigSteps int
	Case              func(x int) Case
}

// Default sizes of the sweep's series.
var (
	SweepPairs  = []int{128, 256, 512, 1024, 2048}
	SweepWidths = []int{64, 256, 1024, 4096}
	SweepDepths = []int{1, 2, 4, 8}
)

// LossSweep is NT-Xent forward and backward alone (LossCase) at k = 128 against the number of pairs N, fitted
// over N ≥ 512 where the O(N²k) similarity matrix dominates; nil pairs: SweepPairs.
func LossSweep(pairs []int) Series {
	return Series{Name: "loss", Title: "NT-Xent forward+backward, k = 128", XName: "pairs", XSym: "N", XLabel: "N (pairs)", Xs: orSizes(pairs, SweepPairs),
		FitMin: 512, BigFrom: 1024, BigSteps: 10, Case: func(n int) Case { return LossCase(n, 128) }}
}

// WidthSweep is the one-hidden-layer step (d = 2, k = 128, SGD, NTK scaling, N = 256) against the width m;
// nil widths: SweepWidths.
func WidthSweep(widths []int) Series {
	return Series{Name: "onehidden", Title: "one hidden layer, d = 2, k = 128, SGD, NTK, N = 256", XName: "width",
		XSym: "m", XLabel: "m (hidden width)", Xs: orSizes(widths, SweepWidths), Case: func(m int) Case {
			return OneHiddenCase(m, 128, 256)
		}}
}

// DepthSweep is the MLP step (784 → 512 × L → 128, Adam, standard scaling, N = 256) against the number of
// hidden layers L; nil depths: SweepDepths.
func DepthSweep(depths []int) Series {
	return Series{Name: "mlp", Title: "MLP 784→512×L→128, Adam, N = 256", XName: "depth", XSym: "L",
		XLabel: "L (hidden layers)", Xs: orSizes(depths, SweepDepths),
		BigFrom: 8, BigSteps: 10, Case: func(l int) Case {
			return DeepMLPCase(l, 256)
		}}
}

// orSizes returns xs sorted without repeats, or def when xs is empty.
func orSizes(xs, def []int) []int {
	if len(xs) == 0 {
		xs = def
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return slices.Compact(xs)
}

// SweepSizes overrides the sizes of the series (nil: the defaults).
type SweepSizes struct{ Pairs, Widths, Depths []int }

// sweepEntry names a workload's sweep series.
type sweepEntry struct {
	name   string
	series func(SweepSizes) Series
}

// sweeps lists each workload that has a sweep series, in order.
var sweeps = []sweepEntry{
	{"loss", func(z SweepSizes) Series { return LossSweep(z.Pairs) }},
	{"onehidden", func(z SweepSizes) Series { return WidthSweep(z.Widths) }},
	{"mlp", func(z SweepSizes) Series { return DepthSweep(z.Depths) }},
}

// SweepNames lists the workloads that have a sweep series, in order.
func SweepNames() []string {
	names := make([]string, len(sweeps))
	for i, s := range sweeps {
		names[i] = s.name
	}
	return names
}

// SweepOf returns the series of the named workloads at sizes.
func SweepOf(names []string, sizes SweepSizes) ([]Series, error) {
	var out []Series
	for _, name := range names {
		i := slices.IndexFunc(sweeps, func(s sweepEntry) bool { return s.name == name })
		if i < 0 {
			return nil, fmt.Errorf("no sweep for workload %q, want one of %v", name, SweepNames())
		}
		out = append(out, sweeps[i].series(sizes))
	}
	return out, nil
}

// SweepPoint is one measurement of a sweep: a series at one size on one backend (or the reference).
type SweepPoint struct {
	Series string `json:"series"`
	XName  string `json:"x_name"`
	X      int    `json:"x"`
	Result
}

// SweepSteps is the default number of timed steps of a sweep's sizes below their series' BigFrom.
const SweepSteps = 20

// steps returns the timed steps of size x: steps, or with steps = 0 the sweep's default for x.
func (s Series) steps(x, steps int) int {
	switch {
	case steps > 0:
		return steps
	case s.BigSteps > 0 && x >= s.BigFrom:
		return s.BigSteps
	}
	return SweepSteps
}

// SweepStepsNote says the default timed steps of series, e.g. "20 timed steps (10 for loss at N ≥ 1024)".
func SweepStepsNote(series []Series) string {
	var big []string
	for _, s := range series {
		if s.BigSteps > 0 && slices.ContainsFunc(s.Xs, func(x int) bool { return x >= s.BigFrom }) {
			big = append(big, fmt.Sprintf("%d for %s at %s ≥ %d", s.BigSteps, s.Name, s.XSym, s.BigFrom))
		}
	}
	note := fmt.Sprintf("%d timed steps", SweepSteps)
	if len(big) > 0 {
		note += " (" + strings.Join(big, ", ") + ")"
	}
	return note
}

// Sweep times every series at each of its sizes with Run (no peak probes). opts.Steps = 0 means the
// sweep's defaults: SweepSteps timed steps, and each series' BigSteps for its large sizes.
func Sweep(series []Series, opts Options, log io.Writer) ([]SweepPoint, error) {
	opts.Peak = false
	var out []SweepPoint
	for _, s := range series {
		for _, x := range s.Xs {
			o := opts
			o.Steps = s.steps(x, opts.Steps)
			rs, err := Run([]Case{s.Case(x)}, o, log)
			if err != nil {
				return nil, fmt.Errorf("bench: sweep %s at %s = %d: %w", s.Name, s.XName, x, err)
			}
			for _, r := range rs {
				out = append(out, SweepPoint{Series: s.Name, XName: s.XName, X: x, Result: r})
			}
		}
	}
	return out, nil
}

// PowerLaw is a fitted t ≈ Coefficient·x^Exponent of one series on one backend (t in ms per step).
type PowerLaw struct {
	Series      string  `json:"series"`
	Backend     string  `json:"backend"`
	XName       string  `json:"x_name"`
	From        int     `json:"from"` // smallest and largest x of the fitted points
	To          int     `json:"to"`
	Points      int     `json:"points"`
	Exponent    float64 `json:"exponent"`
	Coefficient float64 `json:"coefficient_ms"`
}

// FitPowerLaw fits t = c·x^p by least squares of log t on log x and returns p and c. It needs at least two
// points, with positive x and t, and two distinct x.
func FitPowerLaw(x, t []float64) (p, c float64, err error) {
	if len(x) != len(t) {
		return 0, 0, fmt.Errorf("power-law fit: %d x for %d t", len(x), len(t))
	}
	if len(x) < 2 {
		return 0, 0, fmt.Errorf("power-law fit: %d points, need at least 2", len(x))
	}
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		if !(x[i] > 0) || !(t[i] > 0) || math.IsInf(x[i], 0) || math.IsInf(t[i], 0) {
			return 0, 0, fmt.Errorf("power-law fit: point (%g, %g) is not positive and finite", x[i], t[i])
		}
		mx += math.Log(x[i]) / n
		my += math.Log(t[i]) / n
	}
	var sxy, sxx float64
	for i := range x {
		dx := math.Log(x[i]) - mx
		sxy += dx * (math.Log(t[i]) - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0, 0, errors.New("power-law fit: all x are equal")
	}
	p = sxy / sxx
	return p, math.Exp(my - p*mx), nil
}

// Fits fits a power law to each series on each backend over its points with x ≥ FitMin. A series and
// backend without enough such points gets no fit but a note saying why.
func Fits(series []Series, points []SweepPoint) (fits []PowerLaw, notes []string) {
	for _, s := range series {
		for _, b := range backendsOf(points, s.Name) {
			var xs, ts []float64
			f := PowerLaw{Series: s.Name, Backend: b, XName: s.XName}
			for _, pt := range points {
				if pt.Series == s.Name && pt.Backend == b && pt.X >= s.FitMin {
					if len(xs) == 0 {
						f.From = pt.X
					}
					xs, ts = append(xs, float64(pt.X)), append(ts, pt.MsPerStep)
					f.To = pt.X
				}
			}
			if len(xs) < 2 {
				notes = append(notes, fmt.Sprintf("%s on %s: %d of the sizes in %s, need 2", s.Name, b, len(xs), s.fitRange()))
				continue
			}
			var err error
			if f.Exponent, f.Coefficient, err = FitPowerLaw(xs, ts); err != nil {
				notes = append(notes, fmt.Sprintf("%s on %s: %v", s.Name, b, err))
				continue
			}
			f.Points = len(xs)
			fits = append(fits, f)
		}
	}
	return fits, notes
}

// fitRange says which sizes the fit uses: "all sizes" or e.g. "N ≥ 512".
func (s Series) fitRange() string {
	if s.FitMin > 0 {
		return fmt.Sprintf("%s ≥ %d", s.XSym, s.FitMin)
	}
	return "all sizes"
}

// backendsOf lists the backends measured in the named series, in the order first seen.
func backendsOf(points []SweepPoint, series string) []string {
	var bs []string
	for _, pt := range points {
		if (series == "" || pt.Series == series) && !slices.Contains(bs, pt.Backend) {
			bs = append(bs, pt.Backend)
		}
	}
	return bs
}

// SweepTable renders the sweep as markdown: per series and size, each backend's median ms (min–max) and
// GFLOP/s, then the fitted exponents and the notes on fits that could not be made.
func SweepTable(points []SweepPoint, fits []PowerLaw, notes []string) string {
	var sb strings.Builder
	bs := backendsOf(points, "")
	sb.WriteString("| series | size |")
	for _, b := range bs {
		fmt.Fprintf(&sb, " %s ms (min–max) | %s GFLOP/s |", b, b)
	}
	sb.WriteString("\n|---|---|" + strings.Repeat("---:|---:|", len(bs)) + "\n")
	type key struct {
		series, xname string
		x             int
	}
	var rows []key
	cells := map[key]map[string]Result{}
	for _, pt := range points {
		k := key{pt.Series, pt.XName, pt.X}
		if cells[k] == nil {
			rows, cells[k] = append(rows, k), map[string]Result{}
		}
		cells[k][pt.Backend] = pt.Result
	}
	for _, k := range rows {
		fmt.Fprintf(&sb, "| %s | %s = %d |", k.series, k.xname, k.x)
		for _, b := range bs {
			r, ok := cells[k][b]
			if !ok {
				sb.WriteString(" — | — |")
				continue
			}
			fmt.Fprintf(&sb, " %.2f (%.2f–%.2f) | %.1f |", r.MsPerStep, r.MinMs, r.MaxMs, r.GFLOPs)
		}
		sb.WriteString("\n")
	}
	if len(fits) > 0 {
		sb.WriteString("\n| series | backend | fitted over | p in time ≈ c·size^p |\n|---|---|---|---:|\n")
		for _, f := range fits {
			fmt.Fprintf(&sb, "| %s | %s | %s %d–%d (%d points) | %.2f |\n", f.Series, f.Backend, f.XName, f.From, f.To, f.Points, f.Exponent)
		}
	}
	if len(notes) > 0 {
		sb.WriteString("\nNo power-law fit:\n\n")
		for _, n := range notes {
			sb.WriteString("- " + n + "\n")
		}
	}
	return sb.String()
}
