package train

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gosimclr/gosimclr/internal/plotstyle"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// writeCurves draws dir/metrics.csv as dir/curves.png, one panel above the other against the step: the loss;
// its alignment and uniformity parts; the accuracies, when the run measured them (the online probe's on each
// logged step's batch, the kNN's with --eval-every); the learning rate. Empty fields (a kNN not measured at that step) and non-finite values (skipped steps) are left out of
// their curve.
func writeCurves(dir string) (err error) {
	defer func() { // a figure must never stop a run: gonum/plot panics on some degenerate ranges
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing the curves: %v", r)
		}
	}()
	f, err := os.Open(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		return err
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		return fmt.Errorf("metrics.csv: %w", err)
	}
	if len(rows) < 2 {
		return nil // nothing to draw yet
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	series := func(name string) plotter.XYs {
		j, ok := col[name]
		if !ok {
			return nil
		}
		var xy plotter.XYs
		for _, r := range rows[1:] {
			x, ex := strconv.ParseFloat(r[0], 64)
			y, ey := strconv.ParseFloat(r[j], 64)
			if ex == nil && ey == nil && !math.IsNaN(y) && !math.IsInf(y, 0) { // skipped (NaN) steps leave a gap
				xy = append(xy, plotter.XY{X: x, Y: y})
			}
		}
		return xy
	}
	first, _ := strconv.ParseFloat(rows[1][0], 64)
	last, _ := strconv.ParseFloat(rows[len(rows)-1][0], 64)
	panel := func(title, ylab string, names ...string) (*plot.Plot, error) {
		p := plotstyle.New(title, "step", ylab, 12)
		p.X.Min, p.X.Max = first, max(last, first+1) // one step axis for every panel
		n := 0
		for i, name := range names {
			xy := series(name)
			if len(xy) == 0 {
				continue
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, err
			}
			l.Color = plotstyle.Color(i)
			p.Add(l)
			if len(names) > 1 {
				p.Legend.Add(name, l)
			}
			n++
		}
		if n == 0 {
			return nil, nil
		}
		if len(names) > 1 {
			var all []plotter.XYs
			for _, name := range names {
				all = append(all, series(name))
			}
			var headroom float64
			p.Legend.Top, p.Legend.Left, headroom = legendPlace(all)
			if headroom > 0 {
				p.Y.Max += headroom
			}
		}
		return p, nil
	}
	var grid [][]*plot.Plot
	for _, spec := range [][]string{{"SimCLR loss", "loss", "loss"}, {"its two parts", "loss part", "loss_align", "loss_unif"},
		{"accuracy (online_acc: the training batch; knn_accuracy: test)", "accuracy", "online_acc", "knn_accuracy"}, {"learning rate", "lr", "lr"}} {
		p, err := panel(spec[0], spec[1], spec[2:]...)
		if err != nil {
			return err
		}
		if p != nil {
			grid = append(grid, []*plot.Plot{p})
		}
	}
	return plotstyle.SaveGrid(grid, filepath.Join(dir, "curves.png"), 16, 6)
}

// legendPlace picks the corner of a panel for its legend where no point of the curves lies (a corner being
// the outer 40% of the x range by the outer 30% of the y range), in the order top right, top left, bottom
// right, bottom left, so that the legend covers no line. If every corner holds points it returns top right and
// the headroom to add above the curves' maximum that leaves the top 30% of the panel empty.
func legendPlace(curves []plotter.XYs) (top, left bool, headroom float64) {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, xy := range curves {
		for _, p := range xy {
			xmin, xmax, ymin, ymax = min(xmin, p.X), max(xmax, p.X), min(ymin, p.Y), max(ymax, p.Y)
		}
	}
	if math.IsInf(xmin, 0) || xmax == xmin || ymax == ymin {
		return true, false, 0
	}
	dx, dy := 0.4*(xmax-xmin), 0.3*(ymax-ymin)
	empty := func(top, left bool) bool {
		for _, xy := range curves {
			for _, p := range xy {
				inX := (left && p.X <= xmin+dx) || (!left && p.X >= xmax-dx)
				inY := (top && p.Y >= ymax-dy) || (!top && p.Y <= ymin+dy)
				if inX && inY {
					return false
				}
			}
		}
		return true
	}
	for _, c := range [][2]bool{{true, false}, {true, true}, {false, false}, {false, true}} {
		if empty(c[0], c[1]) {
			return c[0], c[1], 0
		}
	}
	return true, false, (ymax - ymin) * 0.3 / 0.7
}
