package experiments

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/internal/cells"
	"github.com/gosimclr/gosimclr/losses"
)

// The persistence sweeps of issue 24 (effective-step, full-length, temperature, kernel, unequal, particles)
// share one resumable runner: each cell is one run (particles or a network) on clustered points in R² with its
// latent points on S¹, no augmentation (the particles' loss), full-batch SGD, the silhouette logged every
// LogEvery steps with the loss, the output norm and the effective step (effstep_measure.go). A cell stores its
// series; every outcome (persistence at any threshold, clusters created, the cumulative effective step) is
// computed from the series by the report, so a sweep can be analysed again without running anything.

// sweepBase holds what every cell of a sweep shares. Every value is ours.
type sweepBase struct {
	Clusters   int     `json:"clusters"`
	PerCluster int     `json:"per-cluster"`
	Radius     float64 `json:"radius"`
	Scale      float64 `json:"scale"`
	Activation string  `json:"activation"`
	Steps      int     `json:"steps"`
	LogEvery   int     `json:"log-every"`
	// ParticleLogEvery is the particles' logging interval up to step ParticleDenseUntil (0: LogEvery throughout;
	// ParticleDenseUntil 0: ParticleLogEvery throughout): particle descent at lr·N finishes in a few hundred steps.
	ParticleLogEvery   int    `json:"particle-log-every,omitempty"`
	ParticleDenseUntil int    `json:"particle-dense-until,omitempty"`
	Window             int    `json:"window"`
	Stop               bool   `json:"stop"` // end a run once its persistence event is decided (the stop rule)
	Seeds              int    `json:"seeds"`
	FirstSeed          uint64 `json:"first-seed"`
	// For and ReportOnly steer one sitting only (not compared when resuming).
	For        time.Duration `json:"-"`
	ReportOnly bool          `json:"-"`
}

// sweepSpec is one cell: what is trained, on which data, with which loss and step.
type sweepSpec struct {
	Depth       int     `json:"depth"` // 0: particles
	Width       int     `json:"width,omitempty"`
	Scaling     string  `json:"scaling,omitempty"`
	Rule        string  `json:"rule"` // "fixed": LR is the learning rate (particles: LR·N); "normalised": LR is the target effective step
	LR          float64 `json:"lr"`
	Temperature float64 `json:"temperature"`
	Kernel      string  `json:"kernel"`
	Sizes       []int   `json:"sizes,omitempty"` // points per cluster; nil: PerCluster each
	Seed        uint64  `json:"seed"`            // initialisation
	DataSeed    uint64  `json:"data_seed"`       // the draw of the points
}

// key names the cell's file.
func (s sweepSpec) key() string {
	var b strings.Builder
	if s.Depth == 0 {
		b.WriteString("particles")
	} else {
		fmt.Fprintf(&b, "L%d-m%d-%s", s.Depth, s.Width, s.Scaling)
	}
	fmt.Fprintf(&b, "-%s%g-tau%g-%s", map[string]string{"fixed": "lr", "normalised": "eff"}[s.Rule], s.LR, s.Temperature, s.Kernel)
	if s.Sizes != nil {
		b.WriteString("-sizes")
		for _, n := range s.Sizes {
			fmt.Fprintf(&b, "_%d", n)
		}
	}
	fmt.Fprintf(&b, "-data%d-seed%d", s.DataSeed, s.Seed)
	return b.String()
}

// sweepCell is one stored run: its spec, the learning rate used, and its logged series.
type sweepCell struct {
	sweepSpec
	StepLR     float64   `json:"step_lr"`    // the learning rate of the run
	ProbeStep  float64   `json:"probe_step"` // normalised rule: the effective step per unit lr measured at init
	Steps      []int     `json:"steps"`      // logged steps
	Silhouette []jsonNum `json:"silhouette"` // at each logged step
	Loss       []jsonNum `json:"loss"`       // the training loss of the step's update
	OutNorm    []jsonNum `json:"out_norm"`   // mean ‖g(x)‖ before the normalisation (1 for particles)
	EffStep    []jsonNum `json:"eff_step"`   // the effective step of each logged step (null: not measured)
	Threshold  float64   `json:"threshold"`  // the silhouette threshold of these labels (SilThreshold)
	Diverged   bool      `json:"diverged"`
	Stopped    bool      `json:"stopped,omitempty"` // ended by the stop rule before Steps
	Seconds    float64   `json:"seconds"`
	cellBuild
}

// series returns the cell's silhouette, loss and effective steps as float64.
func (c sweepCell) series() (sil, loss, eff []float64) {
	for i := range c.Steps {
		sil, loss, eff = append(sil, float64(c.Silhouette[i])), append(loss, float64(c.Loss[i])), append(eff, float64(c.EffStep[i]))
	}
	return sil, loss, eff
}

// lastStep is where the cell's run is censored: Steps, or the last logged step of a run that diverged.
func (c sweepCell) lastStep(steps int) int {
	if c.Diverged {
		return c.Steps[len(c.Steps)-1]
	}
	return steps
}

// sweepData draws the points of a spec: Gaussian clusters of PerCluster points (or Sizes) on a circle, shuffled.
// Unequal sizes are the first Sizes[c] points of each cluster of a draw with max(Sizes) per cluster.
func sweepData(b sweepBase, s sweepSpec) (datasets.Points, error) {
	per := b.PerCluster
	if s.Sizes != nil {
		per = slices.Max(s.Sizes)
	}
	d, err := pointData(b.Clusters, per, b.Radius, b.Scale, s.DataSeed)
	if err != nil || s.Sizes == nil {
		return d, err
	}
	if len(s.Sizes) != d.K {
		return d, fmt.Errorf("experiments: %d cluster sizes for %d clusters", len(s.Sizes), d.K)
	}
	out := datasets.Points{D: d.D, K: d.K, Name: d.Name}
	kept := make([]int, d.K)
	for i := range d.N {
		if l := d.Labels[i]; kept[l] < s.Sizes[l] {
			kept[l]++
			out.X, out.Labels = append(out.X, d.Row(i)...), append(out.Labels, l)
		}
	}
	out.N = len(out.Labels)
	return out, nil
}

// runSweepCell trains the cell of spec s.
func runSweepCell(be compute.Backend, b sweepBase, s sweepSpec) (sweepCell, error) {
	d, err := sweepData(b, s)
	if err != nil {
		return sweepCell{}, err
	}
	cl := sweepCell{sweepSpec: s, Threshold: SilThreshold(d.Labels, d.K, 2)}
	loss := losses.Config{Kernel: s.Kernel, Temperature: s.Temperature}
	a := arch.MLP{In: 2, Width: s.Width, Depth: max(s.Depth, 1), Out: 2, Activation: b.Activation, Scaling: s.Scaling,
		Trainable: arch.TrainBoth, Normalize: true}
	m := method{s.key(), s.Depth}
	if s.Depth == 0 { // the particles start from the embedding of a one-hidden-layer NTK network of the same seed
		a.Width, a.Scaling = 256, arch.ScalingNTK
	}
	logEvery, denseUntil, denseEvery := b.LogEvery, 0, 0
	if s.Depth == 0 && b.ParticleLogEvery > 0 {
		if b.ParticleDenseUntil > 0 {
			denseUntil, denseEvery = b.ParticleDenseUntil, b.ParticleLogEvery
		} else {
			logEvery = b.ParticleLogEvery
		}
	}
	lr := s.LR
	switch {
	case s.Rule == "normalised":
		// One probe step at the target's size in lr units measures e/lr at init; the run takes lr = target·lr/e.
		probe := runCfg{steps: 1, logEvery: 1, loss: loss, seed: s.Seed, labels: d.Labels, classes: d.K, k: 2, sphere: true, effStep: true}
		tj, err := pointRun(be, d, m, a, augment.VectorSpec{}, probeLR, probeLR*float64(d.N), probe)
		if err != nil {
			return sweepCell{}, err
		}
		cl.ProbeStep = tj.eff[0] / probeLR
		if s.Depth == 0 {
			cl.ProbeStep = tj.eff[0] / (probeLR * float64(d.N))
		}
		if !(cl.ProbeStep > 0) {
			return sweepCell{}, fmt.Errorf("experiments: %s: the probe step moved the points %g per unit lr", s.key(), cl.ProbeStep)
		}
		lr = s.LR / cl.ProbeStep
	case s.Depth == 0:
		lr = s.LR * float64(d.N)
	}
	cl.StepLR = lr
	rc := runCfg{steps: b.Steps, logEvery: logEvery, denseUntil: denseUntil, denseEvery: denseEvery, loss: loss, seed: s.Seed,
		labels: d.Labels, classes: d.K, k: 2, sphere: true, effStep: true, silOnly: true}
	if b.Stop {
		rc.stop = func(steps []int, rows []Geometry) bool { return belowWindow(rows, cl.Threshold, b.Window) }
	}
	tj, err := pointRun(be, d, m, a, augment.VectorSpec{}, lr, lr, rc)
	cl.Diverged = errors.Is(err, errNotFinite)
	if err != nil && !cl.Diverged {
		return sweepCell{}, err
	}
	cl.Seconds = tj.seconds
	for i, t := range tj.steps {
		g := tj.rows[i]
		cl.Steps = append(cl.Steps, t)
		cl.Silhouette, cl.Loss = append(cl.Silhouette, jsonNum(g.Silhouette)), append(cl.Loss, jsonNum(g.Loss))
		cl.OutNorm, cl.EffStep = append(cl.OutNorm, jsonNum(g.OutNorm)), append(cl.EffStep, jsonNum(tj.eff[i]))
	}
	cl.Stopped = !cl.Diverged && cl.Steps[len(cl.Steps)-1] < b.Steps
	return cl, nil
}

// probeLR is the learning rate of the normalised rule's probe step (networks; particles ·N): small enough that
// e is linear in it.
const probeLR = 1e-3

// runSweep runs the cells of specs not yet stored in dir/cells (all of them, or as many as b.For allows; none
// with b.ReportOnly) in the order of specs (the caller's plan: seed by seed, so that a sweep cut short holds
// whole seeds), and returns every stored cell, in the same order.
func runSweep(name string, cm Common, settings any, b sweepBase, specs []sweepSpec, sameAs func(configPath string) error) (dir string, done []sweepCell, err error) {
	start := time.Now()
	dir = filepath.Join(cm.OutDir, name)
	if err := sameAs(filepath.Join(dir, "config.json")); err != nil {
		return "", nil, err
	}
	if !b.ReportOnly {
		if err := writeConfig(dir, name, cm, settings); err != nil {
			return "", nil, err
		}
	}
	store, err := cells.Open(dir)
	if err != nil {
		return "", nil, err
	}
	byKey := map[string]sweepSpec{}
	var keys []string
	for _, s := range specs {
		if _, dup := byKey[s.key()]; dup {
			return "", nil, fmt.Errorf("experiments: %s: two cells named %s", name, s.key())
		}
		byKey[s.key()] = s
		keys = append(keys, s.key())
	}
	var be compute.Backend
	work := func(key string) (any, error) {
		if be == nil {
			if be, err = backend.New(backend.Spec(cm.Backend)); err != nil {
				return nil, err
			}
		}
		cl, err := runSweepCell(be, b, byKey[key])
		if err != nil {
			return nil, err
		}
		cl.cellBuild = thisBuild(be)
		return cl, nil
	}
	if _, err := cells.RunUntil(store, keys, work, cm.Log, sittingDeadline(start, b.For, b.ReportOnly)); err != nil {
		return "", nil, err
	}
	for _, s := range specs {
		var cl sweepCell
		if store.Load(s.key(), &cl) == nil {
			done = append(done, cl)
		}
	}
	return dir, done, nil
}

// sweepSeconds is the wall time of a sweep: its stored cells' times.
func sweepSeconds(done []sweepCell) float64 {
	var s float64
	for _, c := range done {
		s += c.Seconds
	}
	return s
}

// sweepBuilds lists the build of each stored cell.
func sweepBuilds(done []sweepCell) []cellBuild {
	b := make([]cellBuild, len(done))
	for i, c := range done {
		b[i] = c.cellBuild
	}
	return b
}

// nanOr is x, or def when x is NaN.
func nanOr(x, def float64) float64 {
	if math.IsNaN(x) {
		return def
	}
	return x
}
