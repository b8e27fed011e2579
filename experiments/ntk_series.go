package experiments

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// readNTKRuns reads the runs of ntk or mean-field back from their raw files in dir: drift.csv (every cell, seed
// and logged step) and, with kernel set (ntk), locality.csv, velocity.csv and pairs.csv (init and final). The
// values are those of the files, 6 significant digits. Seeds are numbered from c.FirstSeed, in order.
func readNTKRuns(dir string, c NTKConfig, cells []ntkCell, kernel bool) (map[ntkCell][]ntkSeed, error) {
	runs := map[ntkCell][]ntkSeed{}
	for _, cl := range cells {
		runs[cl] = make([]ntkSeed, c.Seeds)
	}
	type where struct {
		cl   ntkCell
		seed int
	}
	find := func(r map[string]string, file string) (where, error) {
		depth, e1 := strconv.Atoi(r["depth"])
		width, e2 := strconv.Atoi(r["width"])
		seed, e3 := strconv.Atoi(r["seed"])
		if e1 != nil || e2 != nil || e3 != nil {
			return where{}, fmt.Errorf("experiments: %s: bad row %v", file, r)
		}
		for _, cl := range cells {
			if cl.scaling == r["scaling"] && cl.depth == depth && cl.width == width {
				if i := seed - int(c.FirstSeed); i >= 0 && i < c.Seeds {
					return where{cl, i}, nil
				}
			}
		}
		return where{}, fmt.Errorf("experiments: %s: a row of no cell or seed of these settings: %v", file, r)
	}
	rows, err := csvRows(filepath.Join(dir, "drift.csv"))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		w, err := find(r, "drift.csv")
		if err != nil {
			return nil, err
		}
		s := &runs[w.cl][w.seed]
		step, _ := strconv.Atoi(r["step"])
		s.steps = append(s.steps, step)
		s.norm, s.outNorm = append(s.norm, csvFloat(r["theta_norm"])), append(s.outNorm, csvFloat(r["out_norm"]))
		s.drift, s.align = append(s.drift, csvFloat(r["scale_free_drift"])), append(s.align, csvFloat(r["alignment"]))
	}
	if !kernel {
		return runs, checkNTKRuns(runs)
	}
	when := map[string]int{"init": 0, "final": 1}
	if rows, err = csvRows(filepath.Join(dir, "locality.csv")); err != nil {
		return nil, err
	}
	for _, r := range rows {
		w, err := find(r, "locality.csv")
		if err != nil {
			return nil, err
		}
		runs[w.cl][w.seed].loc[when[r["when"]]] = locality{Within: csvFloat(r["within"]), Self: csvFloat(r["self"]), Ratio: csvFloat(r["ratio"])}
	}
	for _, f := range []string{"velocity.csv", "pairs.csv"} {
		if rows, err = csvRows(filepath.Join(dir, f)); err != nil {
			return nil, err
		}
		for _, r := range rows {
			w, err := find(r, f)
			if err != nil {
				return nil, err
			}
			vl := &runs[w.cl][w.seed].vel[when[r["when"]]]
			meas, pred := &vl.meas, &vl.pred
			if f == "pairs.csv" {
				meas, pred = &vl.sepMeas, &vl.sepPred
			}
			*meas = append(*meas, csvFloat(r["measured"]))
			for i, name := range predNames {
				pred[i] = append(pred[i], csvFloat(r[name]))
			}
		}
	}
	return runs, checkNTKRuns(runs)
}

// checkNTKRuns refuses runs that a file left without a logged step.
func checkNTKRuns(runs map[ntkCell][]ntkSeed) error {
	for cl, rs := range runs {
		for i, r := range rs {
			if len(r.steps) == 0 {
				return fmt.Errorf("experiments: ntk: no logged step of %s L=%d m=%d, seed index %d", cl.scaling, cl.depth, cl.width, i)
			}
		}
	}
	return nil
}
