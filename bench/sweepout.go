package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gosimclr/gosimclr/internal/plotstyle"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SweepReport is a finished sweep: the machine, the measurements and the fitted power laws. Its JSON is the
// format of sweep.json.
type SweepReport struct {
	Machine Machine      `json:"machine"`
	Fits    []PowerLaw   `json:"fits"`
	Notes   []string     `json:"notes,omitempty"` // why a series and backend has no fit
	Points  []SweepPoint `json:"points"`
	Series  []Series     `json:"-"`
}

// NewSweepReport describes this machine and fits the power laws of points.
func NewSweepReport(backends []string, series []Series, points []SweepPoint) SweepReport {
	fits, notes := Fits(series, points)
	return SweepReport{Machine: ThisMachine(backends), Fits: fits, Notes: notes, Points: points, Series: series}
}

// Table renders the report as markdown (see SweepTable).
func (r SweepReport) Table() string { return SweepTable(r.Points, r.Fits, r.Notes) }

// Write creates dir and writes into it sweep.csv, sweep.json and one sweep-SERIES.png per series; it
// returns the paths written.
func (r SweepReport) Write(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: sweep output: %w", err)
	}
	var paths []string
	csvPath := filepath.Join(dir, "sweep.csv")
	if err := writeFile(csvPath, func(w io.Writer) error { return WriteSweepCSV(w, r.Points) }); err != nil {
		return nil, err
	}
	paths = append(paths, csvPath)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bench: sweep.json: %w", err)
	}
	jsonPath := filepath.Join(dir, "sweep.json")
	if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	paths = append(paths, jsonPath)
	for _, s := range r.Series {
		p, err := SweepPlot(s, r.Points, r.Fits)
		if err != nil {
			return nil, fmt.Errorf("bench: plot of the %s sweep: %w", s.Name, err)
		}
		path := filepath.Join(dir, "sweep-"+s.Name+".png")
		if err := p.Save(18*vg.Centimeter, 12*vg.Centimeter, path); err != nil {
			return nil, fmt.Errorf("bench: save %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	return nil
}

// SweepCSVHeader is the header row of sweep.csv.
var SweepCSVHeader = []string{"series", "x_name", "x", "backend", "ms_median", "ms_min", "ms_max", "gflops"}

// WriteSweepCSV writes points as CSV, one row per (series, size, backend), times in ms and GFLOP/s with
// three decimals.
func WriteSweepCSV(w io.Writer, points []SweepPoint) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SweepCSVHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	for _, pt := range points {
		row := []string{pt.Series, pt.XName, strconv.Itoa(pt.X), pt.Backend, f(pt.MsPerStep), f(pt.MinMs), f(pt.MaxMs), f(pt.GFLOPs)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SweepPlot draws one series on log–log axes: median ms per step against size, one line per backend, and
// dashed the fitted power law over its range, with the fitted exponents in the title.
func SweepPlot(s Series, points []SweepPoint, fits []PowerLaw) (*plot.Plot, error) {
	p := plotstyle.New(s.Title+"\n"+exponentsLine(s, fits), or2(s.XLabel, s.XName), "ms per step (median)", 12)
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Legend.Left = true
	var ticks plot.ConstantTicks
	for _, x := range s.Xs {
		ticks = append(ticks, plot.Tick{Value: float64(x), Label: strconv.Itoa(x)})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks, ticks125{}
	for i, b := range backendsOf(points, s.Name) {
		if err := addBackend(p, s, b, points, fits, plotstyle.Color(i)); err != nil {
			return nil, err
		}
	}
	widenDegenerate(&p.X)
	widenDegenerate(&p.Y)
	return p, nil
}

// exponentsLine says the fitted exponents of a series, e.g. "time ≈ c·N^p over N ≥ 512: go p = 2.01".
func exponentsLine(s Series, fits []PowerLaw) string {
	var parts []string
	for _, f := range fits {
		if f.Series == s.Name {
			parts = append(parts, fmt.Sprintf("%s p = %.2f", f.Backend, f.Exponent))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("(no power-law fit: fewer than 2 sizes in %s)", s.fitRange())
	}
	return fmt.Sprintf("time ≈ c·%s^p over %s: %s", s.XSym, s.fitRange(), strings.Join(parts, ", "))
}

// addBackend draws one backend's points of series s as a line with dots, and its fit dashed.
func addBackend(p *plot.Plot, s Series, b string, points []SweepPoint, fits []PowerLaw, c color.RGBA) error {
	var pts plotter.XYs
	for _, pt := range points {
		if pt.Series == s.Name && pt.Backend == b && pt.MsPerStep > 0 {
			pts = append(pts, plotter.XY{X: float64(pt.X), Y: pt.MsPerStep})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	l, sc, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color, l.Width = c, vg.Points(1.5)
	sc.Color, sc.Radius, sc.Shape = c, vg.Points(2.5), draw.CircleGlyph{}
	p.Add(l, sc)
	p.Legend.Add(b, l, sc)
	for _, f := range fits {
		if f.Series != s.Name || f.Backend != b {
			continue
		}
		fit := plotter.NewFunction(func(x float64) float64 { return f.Coefficient * math.Pow(x, f.Exponent) })
		fit.XMin, fit.XMax, fit.Samples = float64(f.From), float64(f.To), 20
		fit.Color, fit.Width, fit.Dashes = c, vg.Points(1), []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(fit)
	}
	return nil
}

// widenDegenerate gives a log axis whose data span a single value a range around it (a log scale cannot
// draw an empty range).
func widenDegenerate(a *plot.Axis) {
	if a.Min == a.Max && a.Min > 0 {
		a.Min, a.Max = a.Min/2, a.Max*2
	}
}

// or2 returns s, or def when s is empty.
func or2(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// ticks125 marks a log axis at every digit times a power of ten, labelling 1, 2 and 5 times the powers of
// ten, or every mark when that would label fewer than three (a range under a decade).
type ticks125 struct{}

// Ticks implements plot.Ticker.
func (ticks125) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) {
		return nil
	}
	var ts []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for d := 1; d <= 9; d++ {
			v := float64(d) * math.Pow(10, e)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if d == 1 || d == 2 || d == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 4, 64)
				labelled++
			}
			ts = append(ts, t)
		}
	}
	if labelled < 3 {
		for i := range ts {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 4, 64)
		}
	}
	return ts
}
