package experiments

import (
	"fmt"
	"github.com/gosimclr/gosimclr/internal/hostmath"
	"image/color"
	"math"

	"github.com/gosimclr/gosimclr/internal/plotstyle"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func colorOf(i int) color.RGBA { return plotstyle.Color(i) }

// curve is one line of a line plot; Err, when set, draws ±Err bars at each point, or Lo and Hi, when set,
// bars from Lo to Hi (an asymmetric interval). Points with Censored set are drawn as upward triangles: a lower
// bound (e.g. a median past the end of the runs).
type curve struct {
	Name     string
	X, Y     []float64
	Err      []float64
	Lo, Hi   []float64
	Censored []bool
	Color    int
	Dashed   bool
	Dots     bool // draw markers as well
	NoLine   bool // markers only (a scatter)
}

// xyErr adapts a curve to plotter's XYer and YErrorer.
type xyErr struct{ c curve }

func (p xyErr) Len() int                    { return len(p.c.X) }
func (p xyErr) XY(i int) (float64, float64) { return p.c.X[i], p.c.Y[i] }
func (p xyErr) YError(i int) (float64, float64) {
	if p.c.Lo != nil {
		return p.c.Y[i] - p.c.Lo[i], p.c.Hi[i] - p.c.Y[i]
	}
	return p.c.Err[i], p.c.Err[i]
}

// newPlot returns a plot with title and axis labels in the project's style.
func newPlot(title, xlab, ylab string) *plot.Plot { return plotstyle.New(title, xlab, ylab, 13) }

// addCurves draws the curves on p, skipping NaN points, with a legend entry per named curve.
func addCurves(p *plot.Plot, cs []curve) error {
	for _, c := range cs {
		var pts, cens plotter.XYs
		var errs, los, his []float64
		for i := range c.X {
			if math.IsNaN(c.Y[i]) || math.IsInf(c.Y[i], 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: c.X[i], Y: c.Y[i]})
			if c.Err != nil {
				errs = append(errs, c.Err[i])
			}
			if c.Lo != nil {
				los, his = append(los, c.Lo[i]), append(his, c.Hi[i])
			}
			if c.Censored != nil && c.Censored[i] {
				cens = append(cens, pts[len(pts)-1])
			}
		}
		if len(pts) == 0 {
			continue
		}
		var thumbs []plot.Thumbnailer
		if !c.NoLine {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color, l.Width = colorOf(c.Color), vg.Points(1.5)
			if c.Dashed {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l)
			thumbs = append(thumbs, l)
		}
		if c.Dots || c.NoLine || c.Err != nil || c.Lo != nil {
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			s.Color, s.Radius, s.Shape = colorOf(c.Color), vg.Points(2.5), draw.CircleGlyph{}
			p.Add(s)
			thumbs = append(thumbs, s)
		}
		if len(cens) > 0 {
			s, err := plotter.NewScatter(cens)
			if err != nil {
				return err
			}
			s.Color, s.Radius, s.Shape = colorOf(c.Color), vg.Points(5), draw.TriangleGlyph{}
			p.Add(s)
		}
		if c.Err != nil || c.Lo != nil {
			xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
			for i, q := range pts {
				xs[i], ys[i] = q.X, q.Y
			}
			eb, err := plotter.NewYErrorBars(xyErr{curve{X: xs, Y: ys, Err: errs, Lo: los, Hi: his}})
			if err != nil {
				return err
			}
			eb.Color = colorOf(c.Color)
			p.Add(eb)
		}
		if c.Name != "" {
			p.Legend.Add(c.Name, thumbs...)
		}
	}
	return nil
}

// lineChart makes one line plot.
func lineChart(title, xlab, ylab string, cs []curve, logX bool) (*plot.Plot, error) {
	p := newPlot(title, xlab, ylab)
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return p, addCurves(p, cs)
}

// savePlot writes one plot as a PNG of the given size in centimetres.
func savePlot(p *plot.Plot, path string, wcm, hcm float64) error {
	if err := p.Save(vg.Length(wcm)*vg.Centimeter, vg.Length(hcm)*vg.Centimeter, path); err != nil {
		return fmt.Errorf("experiments: save %s: %w", path, err)
	}
	return nil
}

// saveGrid writes a grid of plots (rows × columns; nil cells stay blank) as one PNG, each panel wcm × hcm.
func saveGrid(plots [][]*plot.Plot, path string, wcm, hcm float64) error {
	if err := plotstyle.SaveGrid(plots, path, wcm, hcm); err != nil {
		return fmt.Errorf("experiments: %w", err)
	}
	return nil
}

// circleShift is how far each cluster index pushes its points out of the unit circle in circlePanel.
const circleShift = 0.04

// circlePanel draws latent points u = z/‖z‖ (the first two coordinates of z [n·k]) on the unit circle,
// coloured by label, with the circle itself in grey. Cluster c is drawn at radius 1 + circleShift·c so that
// overlapping clusters stay visible; the axis label says so.
func circlePanel(title string, z []float64, n, k int, labels []int, classes int, legend bool) (*plot.Plot, error) {
	p := newPlot(title, fmt.Sprintf("u₁ (cluster c drawn at radius 1 + %gc)", circleShift), "u₂")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -1.25, 1.25, -1.25, 1.25
	var circ plotter.XYs
	for i := 0; i <= 200; i++ {
		a := 2 * math.Pi * float64(i) / 200
		circ = append(circ, plotter.XY{X: math.Cos(a), Y: math.Sin(a)})
	}
	l, err := plotter.NewLine(circ)
	if err != nil {
		return nil, err
	}
	l.Color = color.Gray{Y: 190}
	p.Add(l)
	u := hostmath.NormalizeRows[float64](nil, z, n, k)
	for c := range classes {
		var pts plotter.XYs
		for i := range n {
			if labels[i] == c {
				r := 1 + circleShift*float64(c)
				y := 0.0
				if k > 1 {
					y = u[i*k+1]
				}
				pts = append(pts, plotter.XY{X: r * u[i*k], Y: r * y})
			}
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		s.Color, s.Radius, s.Shape = colorOf(c), vg.Points(1.8), draw.CircleGlyph{}
		p.Add(s)
		if legend {
			p.Legend.Add(fmt.Sprintf("cluster %d", c), s)
		}
	}
	return p, nil
}
