package experiments

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// readPVNSeries reads particle-vs-network's timeseries.csv back into the runs of methods, in seed order: every
// metric at every logged step, the loss as lmin plus the stored loss gap (the gap is stored to 6 significant
// digits, the loss itself only to 6 of its own). A file without a diverged column (older runs) has no divergence.
func readPVNSeries(path string, methods []method, lmin float64) (map[string][]pvnRun, error) {
	rows, err := csvRows(path)
	if err != nil {
		return nil, err
	}
	runs := map[string][]pvnRun{}
	idx := map[string]int{} // method|seed → index in runs[method]
	for _, r := range rows {
		name := r["method"]
		if !slices.ContainsFunc(methods, func(m method) bool { return m.name == name }) {
			return nil, fmt.Errorf("experiments: %s: unknown method %q", path, name)
		}
		seed, err1 := strconv.ParseUint(r["seed"], 10, 64)
		step, err2 := strconv.Atoi(r["step"])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("experiments: %s: bad seed or step %q, %q", path, r["seed"], r["step"])
		}
		key := fmt.Sprintf("%s|%d", name, seed)
		i, ok := idx[key]
		if !ok {
			i = len(runs[name])
			idx[key] = i
			runs[name] = append(runs[name], pvnRun{seed: seed, tj: &trajectory{latents: map[int][]float64{}}, diverged: r["diverged"] == "true"})
		}
		tj := runs[name][i].tj
		g := Geometry{Spread: csvFloat(r["spread"]), MinSep: csvFloat(r["min_sep"]), Silhouette: csvFloat(r["silhouette"]),
			Probe: csvFloat(r["probe_acc"]), Uniformity: csvFloat(r["uniformity"]), Loss: lmin + csvFloat(r["loss_gap"]),
			OutNorm: csvFloat(r["out_norm"])}
		if math.IsNaN(g.Loss) {
			g.Loss = csvFloat(r["loss"])
		}
		tj.steps, tj.rows = append(tj.steps, step), append(tj.rows, g)
	}
	for _, m := range methods {
		if len(runs[m.name]) == 0 {
			return nil, fmt.Errorf("experiments: %s: no run of %s", path, m.name)
		}
		slices.SortFunc(runs[m.name], func(a, b pvnRun) int { return int(a.seed) - int(b.seed) })
	}
	return runs, nil
}
