package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
)

// landscapeMinima returns, per (k, τ), the minimum population value of each data set, and the largest gap.
func landscapeMinima(v vals, rows []LandscapeRow) ([][]string, float64) {
	type key struct {
		k   int
		tau float64
	}
	mins := map[key][]float64{}
	var keys []key
	datas := []string{}
	for _, r := range rows {
		if !slices.Contains(datas, r.Data) {
			datas = append(datas, r.Data)
		}
	}
	for _, r := range rows {
		kk := key{r.K, r.Temperature}
		if _, ok := mins[kk]; !ok {
			keys = append(keys, kk)
			mins[kk] = []float64{math.Inf(1), math.Inf(1)}
		}
		d := slices.Index(datas, r.Data)
		mins[kk][d] = min(mins[kk][d], r.Population)
	}
	var out [][]string
	gap := 0.0
	for _, kk := range keys {
		m := mins[kk]
		gap = max(gap, math.Abs(m[0]-m[1]))
		k := fmt.Sprintf("min/k%d-tau%g", kk.k, kk.tau)
		out = append(out, []string{fmt.Sprint(kk.k), fmt.Sprint(kk.tau), v.num(k+"/A", m[0], "%.6f"), v.num(k+"/B", m[1], "%.6f"),
			v.num(k+"/uniform", UniformLoss(kk.k, kk.tau), "%.6f")})
	}
	return out, gap
}

// landscapeFigures draws the loss of each configuration against τ (one panel per data set and k), and the
// embeddings of data set A on the circle at the first τ.
func landscapeFigures(c LandscapeConfig, rows []LandscapeRow, dir string) ([]string, error) {
	data, err := landscapeData(c)
	if err != nil {
		return nil, err
	}
	var grid [][]*plot.Plot
	for _, d := range data {
		var line []*plot.Plot
		for _, k := range c.Dims {
			var cs []curve
			for ci, cfg := range landscapeConfigs {
				var xs, ys []float64
				for _, r := range rows {
					if r.Data == d.Name && r.K == k && r.Config == cfg {
						xs, ys = append(xs, r.Temperature), append(ys, r.Population)
					}
				}
				cs = append(cs, curve{Name: cfg, X: xs, Y: ys, Color: ci, Dots: true})
			}
			var xs, ys []float64
			for _, tau := range c.Temperatures {
				xs, ys = append(xs, tau), append(ys, UniformLoss(k, tau))
			}
			cs = append(cs, curve{Name: "closed form L_unif", X: xs, Y: ys, Color: 7, Dashed: true})
			p, err := lineChart(fmt.Sprintf("%s, k = %d", d.Name, k), "temperature τ (log scale)", "population loss", cs, true)
			if err != nil {
				return nil, err
			}
			p.Legend.Top, p.Legend.Left = false, false
			line = append(line, p)
		}
		grid = append(grid, line)
	}
	if err := saveGrid(grid, filepath.Join(dir, "loss_vs_tau.png"), 13, 10); err != nil {
		return nil, err
	}
	var panels []*plot.Plot
	d := data[0]
	for i, cfg := range landscapeConfigs[:4] {
		z := embed(d, cfg, 2, c.ArcHalfWidth, rand.New(rand.NewPCG(c.Seed, 0x1a4d)))
		var val float64
		for _, r := range rows {
			if r.Data == d.Name && r.K == 2 && r.Temperature == c.Temperatures[0] && r.Config == cfg {
				val = r.Population
			}
		}
		p, err := circlePanel(fmt.Sprintf("%s: L = %.4f (τ=%g)", cfg, val, c.Temperatures[0]), z, d.N, 2, d.Labels, d.K, i == 0)
		if err != nil {
			return nil, err
		}
		panels = append(panels, p)
	}
	if err := saveGrid([][]*plot.Plot{panels}, filepath.Join(dir, "embeddings.png"), 9, 9); err != nil {
		return nil, err
	}
	return []string{"loss_vs_tau.png", "embeddings.png"}, nil
}
