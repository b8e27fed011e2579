package experiments

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/cells"
	"github.com/gosimclr/gosimclr/internal/survival"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/spf13/pflag"
)

// DepthWidthConfig sets the depth × width × parameterisation sweep of cluster persistence (issue 14 item 3):
// networks and particles on the same clusters, minimising the same loss (no augmentation: both views equal).
// Every value is ours.
type DepthWidthConfig struct {
	Clusters    int           `json:"clusters"`
	PerCluster  int           `json:"per-cluster"`
	Radius      float64       `json:"radius"`
	Scale       float64       `json:"scale"`
	Augment     string        `json:"augment"`
	Depths      []int         `json:"depths"`
	Widths      []int         `json:"widths"`
	Scalings    []string      `json:"scalings"`
	Temperature float64       `json:"temperature"`
	Activation  string        `json:"activation"`
	LR          float64       `json:"lr"`
	ParticleLR  float64       `json:"particle-lr"` // 0 = LR·N
	Steps       int           `json:"steps"`
	LogEvery    int           `json:"log-every"`
	Window      int           `json:"window"` // logged points below the threshold that end persistence
	Seeds       int           `json:"seeds"`
	FirstSeed   uint64        `json:"first-seed"`
	For         time.Duration `json:"-"` // this sitting's budget: no new cell starts after it (0: none)
	ReportOnly  bool          `json:"-"` // run no cell: only the report of the cells stored
}

// DefaultDepthWidth returns the full (or quick) settings.
func DefaultDepthWidth(quick bool) DepthWidthConfig {
	c := DepthWidthConfig{Clusters: 4, PerCluster: 32, Radius: 0.15, Scale: 2, Augment: "none", Depths: []int{1, 2, 4, 8},
		Widths: []int{64, 256, 1024}, Scalings: []string{arch.ScalingStandard, arch.ScalingNTK}, Temperature: 0.5,
		Activation: arch.LeakyReLU, LR: 0.05, Steps: 20000, LogEvery: 100, Window: 5, Seeds: 8, FirstSeed: 1}
	if quick {
		c.PerCluster, c.Depths, c.Widths, c.Steps, c.LogEvery, c.Window, c.Seeds = 16, []int{1, 2}, []int{32, 64}, 200, 10, 3, 2
	}
	return c
}

func bindDepthWidth(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
	c := DefaultDepthWidth(quick)
	bindPointFlags(fs, &c.Clusters, &c.PerCluster, &c.Radius, &c.Scale, &c.Augment)
	fs.IntSliceVar(&c.Depths, "depths", c.Depths, "hidden layers L")
	fs.IntSliceVar(&c.Widths, "widths", c.Widths, "hidden widths m")
	fs.StringSliceVar(&c.Scalings, "scalings", c.Scalings, "parameterisations: standard (α_m = 1), ntk (1/√m), mean-field (1/m)")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "loss temperature τ")
	fs.StringVar(&c.Activation, "activation", c.Activation, "activation σ")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate of the networks")
	fs.Float64Var(&c.ParticleLR, "particle-lr", c.ParticleLR, "SGD learning rate of the particles (0: lr·N)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "full-batch steps per run: the censoring time T")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "measure every this many steps")
	fs.IntVar(&c.Window, "window", c.Window, "persistence ends at the first of this many consecutive measurements below the threshold")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "seeds per cell")
	fs.Uint64Var(&c.FirstSeed, "first-seed", c.FirstSeed, "first seed (the data are drawn from it)")
	fs.DurationVar(&c.For, "for", 0, "stop starting new cells after this long (e.g. 2h; 0: run to the end); run again to resume")
	fs.BoolVar(&c.ReportOnly, "report-only", false, "run no cell: write the tables, figures and summary of the cells already stored")
	return func(cm Common) (*Result, error) { return RunDepthWidth(c, cm) }
}

// dwCell is one run of the sweep as stored (cells/KEY.json): a network (Depth ≥ 1) or the particles (Depth 0).
type dwCell struct {
	Depth       int          `json:"depth"`
	Width       int          `json:"width"`
	Scaling     string       `json:"scaling"`
	Seed        uint64       `json:"seed"`
	Steps       []int        `json:"steps"`
	Silhouette  []float64    `json:"silhouette"`
	Loss        []float64    `json:"loss"`
	OutNorm     []float64    `json:"out_norm"`
	Threshold   float64      `json:"threshold"`
	Persistence survival.Obs `json:"persistence"`
	// NeverVisible: the silhouette never reached the threshold, so there were no clusters to keep (no
	// persistence time; counted apart).
	NeverVisible bool    `json:"never_visible"`
	Diverged     bool    `json:"diverged"`
	Seconds      float64 `json:"seconds"`
	// cellBuild is the build and host that ran the cell (commit only, or nothing, in cells stored before cells
	// recorded them).
	cellBuild
}

func (d dwCell) key() string {
	if d.Depth == 0 {
		return fmt.Sprintf("particles-seed%d", d.Seed)
	}
	return fmt.Sprintf("L%d-m%d-%s-seed%d", d.Depth, d.Width, d.Scaling, d.Seed)
}

// plan lists the sweep's cells, cheapest first (the particles, then by (L−1)·m² + m), so that a sweep cut
// short by its budget has finished every cheaper cell.
func (c DepthWidthConfig) plan() []dwCell {
	var out []dwCell
	for s := range uint64(c.Seeds) {
		out = append(out, dwCell{Seed: c.FirstSeed + s})
		for _, l := range c.Depths {
			for _, m := range c.Widths {
				for _, sc := range c.Scalings {
					out = append(out, dwCell{Depth: l, Width: m, Scaling: sc, Seed: c.FirstSeed + s})
				}
			}
		}
	}
	cost := func(d dwCell) int { return d.Depth * ((d.Depth-1)*d.Width*d.Width + d.Width) }
	slices.SortStableFunc(out, func(a, b dwCell) int { return cost(a) - cost(b) })
	return out
}

// RunDepthWidth runs the cells not yet stored in OutDir/depth-width/cells (all of them, or as many as the budget
// allows), then analyses every stored cell.
func RunDepthWidth(c DepthWidthConfig, cm Common) (*Result, error) {
	start := time.Now()
	dir := filepath.Join(cm.OutDir, "depth-width")
	if err := sameSettings(filepath.Join(dir, "config.json"), c, func(s *DepthWidthConfig) { s.For, s.ReportOnly = c.For, c.ReportOnly }); err != nil {
		return nil, err
	}
	dir, spec, d, b, err := setupPoints("depth-width", cm, c, c.Augment, c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed)
	if err != nil {
		return nil, err
	}
	store, err := cells.Open(dir)
	if err != nil {
		return nil, err
	}
	plr := c.ParticleLR
	if plr == 0 {
		plr = c.LR * float64(d.N)
	}
	thr := SilThreshold(d.Labels, d.K, 2)
	plan := c.plan()
	byKey := map[string]dwCell{}
	var keys []string
	for _, cl := range plan {
		byKey[cl.key()] = cl
		keys = append(keys, cl.key())
	}
	ran := 0.0 // seconds of the cells this sitting ran
	work := func(key string) (any, error) {
		t0 := time.Now()
		defer func() { ran += time.Since(t0).Seconds() }()
		cl := byKey[key]
		a := arch.MLP{In: 2, Width: cl.Width, Depth: max(cl.Depth, 1), Out: 2, Activation: c.Activation, Scaling: cl.Scaling,
			Trainable: arch.TrainBoth, Normalize: true}
		m := method{key, cl.Depth}
		if cl.Depth == 0 { // particles start from the embedding of a one-hidden-layer NTK network of the same seed
			a.Width, a.Scaling = 256, arch.ScalingNTK
		}
		rc := runCfg{steps: c.Steps, logEvery: c.LogEvery, loss: losses.Config{Kernel: losses.KernelExp, Temperature: c.Temperature},
			seed: cl.Seed, labels: d.Labels, classes: d.K, k: 2, sphere: true, metrics: true,
			stop: func(steps []int, rows []Geometry) bool { return belowWindow(rows, thr, c.Window) }}
		tj, err := pointRun(b, d, m, a, spec, c.LR, plr, rc)
		cl.Diverged = errors.Is(err, errNotFinite)
		if err != nil && !cl.Diverged {
			return nil, err
		}
		cl.Threshold, cl.Seconds, cl.cellBuild = thr, tj.seconds, thisBuild(b)
		for i, t := range tj.steps {
			g := tj.rows[i]
			cl.Steps, cl.Silhouette = append(cl.Steps, t), append(cl.Silhouette, g.Silhouette)
			cl.Loss, cl.OutNorm = append(cl.Loss, g.Loss), append(cl.OutNorm, g.OutNorm)
		}
		last := c.Steps
		if cl.Diverged { // censored where the run stopped being finite
			last = cl.Steps[len(cl.Steps)-1]
		}
		cl.Persistence, cl.NeverVisible = persistenceOf(cl.Steps, cl.Silhouette, thr, c.Window, last)
		return cl, nil
	}
	deadline := sittingDeadline(start, c.For, c.ReportOnly)
	remaining, err := cells.RunUntil(store, keys, work, cm.Log, deadline)
	if err != nil {
		return nil, err
	}
	var done []dwCell
	for _, k := range keys {
		var cl dwCell
		if store.Load(k, &cl) == nil {
			done = append(done, cl)
		}
	}
	res, err := depthWidthReport(c, dir, done, len(keys), remaining, lossOfRegularPolygon(d.N, c.Temperature))
	if err != nil {
		return nil, err
	}
	// The wall time of the whole sweep, whichever sittings ran its cells: every stored cell's time plus this
	// sitting's time outside its cells.
	res.Seconds = time.Since(start).Seconds() - ran
	for _, cl := range done {
		res.Seconds += cl.Seconds
	}
	return res, writeSummary(res, cm, res.Numbers)
}

// belowWindow reports whether the last w silhouettes are all below thr after an earlier one was at or above it
// (the persistence event is decided: the run may stop).
func belowWindow(rows []Geometry, thr float64, w int) bool {
	if len(rows) <= w {
		return false
	}
	for _, g := range rows[len(rows)-w:] {
		if g.Silhouette >= thr {
			return false
		}
	}
	return slices.ContainsFunc(rows[:len(rows)-w], func(g Geometry) bool { return g.Silhouette >= thr })
}

// lossOfRegularPolygon is the NT-Xent loss (exp kernel, temperature tau) of 2N views in N equal pairs at the
// vertices of a regular N-gon on S¹, the uniform configuration both particles and networks approach:
//
//	L = −1/τ + log(e^{1/τ} + 2 Σ_{j=1}^{N−1} e^{cos(2πj/N)/τ})
//
// (every view has its partner at angle 0 and two copies of each other vertex). The gap L(t) − L is the common
// clock on which particles and networks are compared.
func lossOfRegularPolygon(n int, tau float64) float64 {
	// log-sum-exp with the largest term, e^{1/τ}, factored out.
	s := 1.0
	for j := 1; j < n; j++ {
		s += 2 * math.Exp((math.Cos(2*math.Pi*float64(j)/float64(n))-1)/tau)
	}
	return math.Log(s)
}

// sameSettings refuses to add cells to a folder whose config.json holds other settings than c (a sweep
// resumed with other flags would mix two experiments). sitting, if not nil, copies c's fields that only steer
// this sitting (a time budget, report-only) into the stored settings before they are compared. A missing file
// is fine.
func sameSettings[T any](path string, c T, sitting func(stored *T)) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var m struct {
		Settings T `json:"settings"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("experiments: %s: %w", path, err)
	}
	if sitting != nil {
		sitting(&m.Settings)
	}
	if !reflect.DeepEqual(m.Settings, c) {
		return fmt.Errorf("experiments: %s holds the cells of other settings (%+v); resume with those flags or use another --out-dir", path, m.Settings)
	}
	return nil
}
