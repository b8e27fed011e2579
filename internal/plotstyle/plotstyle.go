// Package plotstyle is the one look of gosimclr's PNG figures (experiments and benchmark sweeps): matplotlib's
// tab10 colours, readable font sizes and a grid.
package plotstyle

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Palette is matplotlib's tab10: distinct at a glance.
var Palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
	{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255},
}

// Color returns Palette[i mod 10] (also for negative i).
func Color(i int) color.RGBA { return Palette[((i%10)+10)%10] }

// New returns a plot with title, axis labels, font sizes (title titleSize points, labels 11, ticks and legend
// 10), the legend at the top and a grid.
func New(title, xlab, ylab string, titleSize float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(titleSize)
	p.X.Label.Text, p.Y.Label.Text = xlab, ylab
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(11)
		a.Tick.Label.Font.Size = vg.Points(10)
	}
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// SaveGrid writes a grid of plots (rows × columns; nil cells stay blank) as one PNG, each panel wcm × hcm.
func SaveGrid(plots [][]*plot.Plot, path string, wcm, hcm float64) error {
	rows, cols := len(plots), 0
	for _, r := range plots {
		cols = max(cols, len(r))
	}
	img := vgimg.NewWith(vgimg.UseWH(vg.Length(wcm*float64(cols))*vg.Centimeter, vg.Length(hcm*float64(rows))*vg.Centimeter),
		vgimg.UseDPI(110))
	dc := draw.New(img)
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 3, PadY: vg.Millimeter * 3,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	full := make([][]*plot.Plot, rows)
	for i := range rows {
		full[i] = make([]*plot.Plot, cols)
		copy(full[i], plots[i])
	}
	canvases := plot.Align(full, t, dc)
	for i := range rows {
		for j := range cols {
			if full[i][j] != nil {
				full[i][j].Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
