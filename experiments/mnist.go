package experiments

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/internal/cells"
	"github.com/gosimclr/gosimclr/internal/survival"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/gosimclr/gosimclr/train"
	"github.com/spf13/pflag"
)

// MNISTConfig sets mnist-012 at the authors' settings (test-mnist.py, paper.md §6.2; issue 14): digits {0, 1, 2},
// the first PerClass training images of each (N = 900), the deeper MLP 784-100-100-100-1 and a one-hidden-layer
// 784-100-1 network, a 1-D unnormalised code and the Gaussian-kernel loss (paper.md §3.4), τ = 0.1, full-batch
// SGD lr 1e-3, 20 000 steps. Fields without a tag [C] are ours.
type MNISTConfig struct {
	DataDir     string  `json:"data-dir"`
	PerClass    int     `json:"per-class"`   // [C] 300
	Augment     string  `json:"augment"`     // image preset; "mnist" follows the authors' blur + rescale [C]
	Width       int     `json:"width"`       // [C] 100
	DeepDepth   int     `json:"deep-depth"`  // [C] 3
	Activation  string  `json:"activation"`  // [C] LeakyReLU(0.2)
	Temperature float64 `json:"temperature"` // [C] 0.1, Gaussian kernel
	LR          float64 `json:"lr"`          // [C] SGD 1e-3
	Steps       int     `json:"steps"`       // [C] 20 000
	LogEvery    int     `json:"log-every"`
	Window      int     `json:"window"` // logged points below the threshold that end persistence
	Seeds       int     `json:"seeds"`
	FirstSeed   uint64  `json:"first-seed"`
	// Draws is the number of data draws: draw d takes images (d−1)·PerClass … d·PerClass − 1 of each digit (draw 1
	// the authors' first PerClass). Seeds and Draws may grow between sittings: the runs already stored stay valid.
	Draws int `json:"draws,omitempty"`
	// This sitting only (not compared when resuming): no new run starts after For (0: none); ReportOnly runs
	// nothing and writes the files of the runs stored.
	For        time.Duration `json:"-"`
	ReportOnly bool          `json:"-"`
}

// DefaultMNIST returns the full (or quick) settings.
func DefaultMNIST(quick bool) MNISTConfig {
	c := MNISTConfig{PerClass: 300, Augment: "mnist", Width: 100, DeepDepth: 3, Activation: arch.LeakyReLU, Temperature: 0.1, LR: 1e-3,
		Steps: 20000, LogEvery: 100, Window: 5, Seeds: 8, FirstSeed: 1, Draws: 2}
	if quick {
		c.PerClass, c.Steps, c.LogEvery, c.Window, c.Seeds, c.Draws = 50, 300, 15, 3, 1, 1
	}
	return c
}

func bindMNIST(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
	c := DefaultMNIST(quick)
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "folder of the MNIST IDX files (default: datasets.Load's places)")
	fs.IntVar(&c.PerClass, "per-class", c.PerClass, "first training images of each digit 0, 1, 2 (authors: 300)")
	fs.StringVar(&c.Augment, "augment", c.Augment, "image augmentation preset (mnist: the authors' rescale + blur)")
	fs.IntVar(&c.Width, "width", c.Width, "hidden width (authors: 100)")
	fs.IntVar(&c.DeepDepth, "deep-depth", c.DeepDepth, "hidden layers of the deep network (authors: 3)")
	fs.StringVar(&c.Activation, "activation", c.Activation, "activation (authors: leaky_relu)")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "τ of the Gaussian-kernel loss (authors: 0.1)")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate of both networks (authors: 1e-3)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "full-batch steps (authors: 20000)")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "measure every this many steps")
	fs.IntVar(&c.Window, "window", c.Window, "persistence ends at the first of this many consecutive measurements below the threshold")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "seeds (initialisation and augmentation)")
	fs.Uint64Var(&c.FirstSeed, "first-seed", c.FirstSeed, "first seed")
	fs.IntVar(&c.Draws, "draws", c.Draws, "data draws: draw d takes the d-th block of per-class images of each digit")
	fs.DurationVar(&c.For, "for", 0, "start no new run (network, seed) after this long (e.g. 2h; 0: run to the end); run again to resume")
	fs.BoolVar(&c.ReportOnly, "report-only", false, "run nothing: write the tables, figures and summary of the runs already stored")
	return func(cm Common) (*Result, error) { return RunMNIST(c, cm) }
}

// mnistSubset returns training images skip … skip+per−1 of each of the digits 0, 1, 2 (in file order) as pixels in
// [0, 1] [n, 784] and labels.
func mnistSubset(dir string, skip, per int) (px []float32, labels []int, h, w int, err error) {
	tr, _, err := datasets.Load("mnist", dir)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	cnt := [3]int{}
	var idx []int
	for i, y := range tr.Labels {
		if y < 0 || y >= 3 {
			continue
		}
		if cnt[y]++; cnt[y] > skip && cnt[y] <= skip+per {
			idx = append(idx, i)
			labels = append(labels, y)
		}
	}
	px = make([]float32, len(idx)*tr.ExampleSize())
	tr.Batch(idx, px)
	return px, labels, tr.H, tr.W, nil
}

// mnistRun is one network's run from one seed.
type mnistRun struct {
	method              string
	seed                uint64
	draw                int // 1, 2, …
	tj                  *trajectory
	codeStd             []float64 // std of the N codes at each logged step
	diverged, collapsed bool
	sil, probe          survival.Obs
	silNever, prbNever  bool
	labels              []int // the digit of each code
	// Peak-relative persistence of the silhouette (to half of its peak) and of the probe (halfway to chance), and
	// the held-out probe at the probe's peak and at the last step.
	silPeak, probePeak peakObs
	heldPeak, heldLast float64
}

// peakObs is a peak-relative persistence: the index of the peak and the time from it.
type peakObs struct {
	i int
	o survival.Obs
}

// collapseStd is the collapse criterion (ours): the N codes' standard deviation below this fraction of the
// kernel width √τ, where every kernel value is ≈ 1 and the loss ≈ log 2, its value when all codes are equal.
const collapseStd = 0.01

// mnistMethods are the two networks, shallow first.
func mnistMethods(c MNISTConfig) []method {
	return []method{{"1 hidden layer", 1}, {fmt.Sprintf("%d hidden layers", c.DeepDepth), c.DeepDepth}}
}

// mnistKey names the cell of one network's run from one seed on one data draw (draw 1 keeps the name of the
// cells stored before there were draws).
func mnistKey(depth, draw int, seed uint64) string {
	if draw <= 1 {
		return fmt.Sprintf("L%d-seed%d", depth, seed)
	}
	return fmt.Sprintf("L%d-draw%d-seed%d", depth, draw, seed)
}

// mnistCellDone, if not nil, is called after each run in RunMNIST (tests: spend a sitting's budget at a known
// point).
var mnistCellDone func(key string)

// mnistData is what the runs share: the images, their views, the labels and the backend. RunMNIST makes it at
// the first run of a sitting, so that --report-only needs neither the data nor a backend.
type mnistData struct {
	b      compute.Backend
	images *tensors.Tensor
	views  train.ViewsFn
	labels []int
	h, w   int
}

func loadMNISTData(c MNISTConfig, cm Common, draw int) (*mnistData, error) {
	px, labels, h, w, err := mnistSubset(c.DataDir, (draw-1)*c.PerClass, c.PerClass)
	if err != nil {
		return nil, err
	}
	pl, err := augment.Preset(c.Augment)
	if err != nil {
		return nil, err
	}
	b, err := backend.New(backend.Spec(cm.Backend))
	if err != nil {
		return nil, err
	}
	views := func(rng, x *graph.Node) (*graph.Node, *graph.Node) {
		rng, v1, v2 := pl.Views(rng, x)
		return rng, graph.Concatenate([]*graph.Node{v1, v2}, 0)
	}
	images := tensors.FromFlatDataAndDimensions(px, len(labels), h, w, 1)
	return &mnistData{b: b, images: images, views: views, labels: labels, h: h, w: w}, nil
}

// mnistThreshold is the silhouette threshold: halfway between 1 and the silhouette of evenly spaced codes with
// each digit on a contiguous block.
func mnistThreshold(labels []int) float64 { return (1 + trivialSilhouette1D(labels, 3)) / 2 }

// RunMNIST runs the (network, seed) runs not yet stored in OutDir/mnist-012/cells (all of them, or as many as
// c.For allows; none with c.ReportOnly), one cell per run, then writes the files of every stored run.
func RunMNIST(c MNISTConfig, cm Common) (*Result, error) {
	start := time.Now()
	if c.Seeds < 1 || c.Steps < 1 || c.LogEvery < 1 || c.DeepDepth == 1 {
		return nil, fmt.Errorf("experiments: mnist-012: want seeds, steps and log-every ≥ 1 and a deep depth other than 1 (got %d, %d, %d, %d)",
			c.Seeds, c.Steps, c.LogEvery, c.DeepDepth)
	}
	dir := filepath.Join(cm.OutDir, "mnist-012")
	store, err := cells.Open(dir)
	if err != nil {
		return nil, err
	}
	// Other settings are refused only where they would mix with stored runs: a folder without cells (an older
	// run's files, say) is simply rewritten.
	if len(store.Keys()) > 0 {
		grow := func(s *MNISTConfig) { s.For, s.ReportOnly, s.Seeds, s.Draws = c.For, c.ReportOnly, c.Seeds, c.Draws }
		if err := sameSettings(filepath.Join(dir, "config.json"), c, grow); err != nil {
			return nil, err
		}
	}
	if err := writeConfig(dir, "mnist-012", cm, c); err != nil {
		return nil, err
	}
	methods := mnistMethods(c)
	type planned struct {
		m    method
		seed uint64
		draw int
	}
	plan := map[string]planned{}
	var keys []string
	for draw := 1; draw <= max(c.Draws, 1); draw++ { // draw by draw, seed by seed, both networks of a seed together
		for si := range c.Seeds {
			seed := c.FirstSeed + uint64(si)
			for _, m := range methods {
				k := mnistKey(m.depth, draw, seed)
				plan[k], keys = planned{m, seed, draw}, append(keys, k)
			}
		}
	}
	data := map[int]*mnistData{}
	var ran float64 // seconds of the runs made in this sitting
	work := func(key string) (any, error) {
		p := plan[key]
		if data[p.draw] == nil {
			if data[p.draw], err = loadMNISTData(c, cm, p.draw); err != nil {
				return nil, err
			}
		}
		d := data[p.draw]
		t0 := time.Now()
		r, err := mnistOne(c, d, p.m, p.seed)
		if err != nil {
			return nil, err
		}
		r.draw = p.draw
		cl := mnCellOf(r, p.m.depth, d.labels)
		cl.Seconds, cl.cellBuild = time.Since(t0).Seconds(), thisBuild(d.b)
		ran += cl.Seconds
		cm.logf("mnist-012: %s seed %d: %.1f s (diverged %v, collapsed %v)\n", p.m.name, p.seed, r.tj.seconds, r.diverged, r.collapsed)
		if mnistCellDone != nil {
			mnistCellDone(key)
		}
		return cl, nil
	}
	deadline := sittingDeadline(start, c.For, c.ReportOnly)
	if _, err := cells.RunUntil(store, keys, work, cm.Log, deadline); err != nil {
		return nil, err
	}
	var runs []mnistRun
	var labels []int
	var builds []cellBuild // the build of each stored run
	stored := 0.0          // seconds of every stored run, whichever sitting made it
	for _, k := range keys {
		if !store.Done(k) {
			continue
		}
		var cl mnCell
		if err := store.Load(k, &cl); err != nil {
			return nil, err
		}
		r, err := cl.run(c)
		if err != nil {
			return nil, err
		}
		if labels == nil {
			labels = cl.Labels
		}
		runs, stored = append(runs, r), stored+cl.Seconds
		builds = append(builds, cl.cellBuild)
	}
	res, err := mnistReport(c, dir, methods, runs, labels, len(keys))
	if err != nil {
		return nil, err
	}
	res.Builds = countBuilds(builds)
	// Wall time: of the stored runs plus this sitting's own work besides them (one sitting: its wall time).
	res.Seconds = stored + time.Since(start).Seconds() - ran
	return res, writeSummary(res, cm, res.Numbers)
}

// mnistOne trains one network from one seed and measures it.
func mnistOne(c MNISTConfig, d *mnistData, m method, seed uint64) (mnistRun, error) {
	// PyTorch-like standard parameterisation (He-normal weights; PyTorch's default is uniform), no output bias.
	a := arch.MLP{In: d.h * d.w, Width: c.Width, Depth: m.depth, Out: 1, Activation: c.Activation, Scaling: arch.ScalingStandard,
		Trainable: arch.TrainBoth, StandardHidden: true}
	tr := trainee{name: m.name, model: models.Encoder{Body: models.MLPBody{MLP: a}}, input: d.images, clean: d.images, views: d.views,
		opt: optim.Optimizer{Name: optim.SGD, LR: c.LR}}
	rc := runCfg{steps: c.Steps, logEvery: c.LogEvery, loss: losses.Config{Kernel: losses.KernelGaussian, Temperature: c.Temperature},
		seed: seed, keepAll: true, labels: d.labels, classes: 3, k: 1, metrics: true}
	tj, err := run(d.b, tr, rc)
	r := mnistRun{method: m.name, seed: seed, tj: tj, diverged: errors.Is(err, errNotFinite), labels: d.labels}
	if err != nil && !r.diverged {
		return mnistRun{}, err
	}
	r.measure(c, mnistThreshold(d.labels))
	return r, nil
}

// measure fills the codes' spread, divergence and collapse, and the persistence of the digit clusters.
func (r *mnistRun) measure(c MNISTConfig, thr float64) {
	tj := r.tj
	ss, ps := make([]float64, len(tj.rows)), make([]float64, len(tj.rows))
	for i, t := range tj.steps {
		_, sd := meanStd(tj.latents[t])
		r.codeStd = append(r.codeStd, sd)
		ss[i], ps[i] = tj.rows[i].Silhouette, tj.rows[i].Probe
	}
	last := c.Steps
	if r.diverged {
		last = tj.steps[len(tj.steps)-1]
	}
	sd := r.codeStd[len(r.codeStd)-1]
	r.collapsed = !r.diverged && sd < collapseStd*math.Sqrt(c.Temperature)
	r.sil, r.silNever = persistenceOf(tj.steps, ss, thr, c.Window, last)
	r.probe, r.prbNever = persistenceOf(tj.steps, ps, probeThreshold, c.Window, last)
	r.peaks(c.Window, last)
}

// peaks measures the peak-relative persistence and the held-out probe from the stored series and codes.
func (r *mnistRun) peaks(window, last int) {
	tj := r.tj
	ss, ps := make([]float64, len(tj.rows)), make([]float64, len(tj.rows))
	for i, g := range tj.rows {
		ss[i], ps[i] = g.Silhouette, g.Probe
	}
	r.silPeak.i, r.silPeak.o = peakDrop(tj.steps, ss, halfOfPeak, window, last)
	r.probePeak.i, r.probePeak.o = peakDrop(tj.steps, ps, halfwayToChance, window, last)
	r.heldPeak = heldOutProbe(tj.latents[tj.steps[r.probePeak.i]], r.labels, 3)
	r.heldLast = heldOutProbe(tj.latents[tj.steps[len(tj.steps)-1]], r.labels, 3)
}

// trivialSilhouette1D is the silhouette of n evenly spaced 1-D codes with each label on a contiguous block: the
// configuration of codes spread apart that keeps the classes only as ordered blocks (the 1-D analogue of
// TrivialSilhouette).
func trivialSilhouette1D(labels []int, classes int) float64 {
	sorted := slices.Clone(labels)
	slices.Sort(sorted)
	z := make([]float64, len(sorted))
	for i := range z {
		z[i] = float64(i)
	}
	return Silhouette(latentSet{Z: z, N: len(z), K: 1, Labels: sorted, C: classes})
}
