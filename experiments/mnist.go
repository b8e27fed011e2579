package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/spf13/pflag"
)

// MNISTConfig sets mnist-012: digits {0, 1, 2}, the first PerClass training images of each (authors: 300, so
// N = 900; paper.md §6.2), the authors' deeper MLP 784-100-100-100 and a one-hidden-layer 784-100 network, both
// with our 2-D normalised output and NT-Xent (the authors use a 1-D code and the Gaussian kernel; see authors-1d).
type MNISTConfig struct {
	DataDir     string  `json:"data-dir"`
	PerClass    int     `json:"per-class"`
	Augment     string  `json:"augment"` // image preset; "mnist" follows the authors' blur + rescale
	Width       int     `json:"width"`
	DeepDepth   int     `json:"deep-depth"`
	Activation  string  `json:"activation"`
	Temperature float64 `json:"temperature"`
	LR          float64 `json:"lr"`
	ParticleLR  float64 `json:"particle-lr"`
	Steps       int     `json:"steps"`
	LogEvery    int     `json:"log-every"`
	Snapshots   []int   `json:"snapshots"`
	Seeds       int     `json:"seeds"`
	FirstSeed   uint64  `json:"first-seed"`
}

// DefaultMNIST returns the full (or quick) settings.
func DefaultMNIST(quick bool) MNISTConfig {
	c := MNISTConfig{PerClass: 300, Augment: "mnist", Width: 100, DeepDepth: 3, Activation: arch.LeakyReLU, Temperature: 0.5, LR: 0.05,
		Steps: 2000, LogEvery: 25, Snapshots: []int{0, 100, 500, 2000}, Seeds: 3, FirstSeed: 1}
	if quick {
		c.PerClass, c.Steps, c.LogEvery, c.Snapshots, c.Seeds = 100, 300, 15, []int{0, 30, 100, 300}, 2
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
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "τ of NT-Xent")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate of the networks")
	fs.Float64Var(&c.ParticleLR, "particle-lr", c.ParticleLR, "SGD learning rate of the particles (0: lr·N)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "full-batch steps")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "measure every this many steps")
	fs.IntSliceVar(&c.Snapshots, "snapshots", c.Snapshots, "steps drawn as panels")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "seeds")
	fs.Uint64Var(&c.FirstSeed, "first-seed", c.FirstSeed, "first seed")
	return func(cm Common) (*Result, error) { return RunMNIST(c, cm) }
}

// mnistSubset returns the first per training images of digits 0, 1, 2 as pixels in [0, 1] [n, 784] and labels.
func mnistSubset(dir string, per int) (px []float32, labels []int, h, w int, err error) {
	tr, _, err := datasets.Load("mnist", dir)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	cnt := [3]int{}
	var idx []int
	for i, y := range tr.Labels {
		if y >= 0 && y < 3 && cnt[y] < per {
			cnt[y]++
			idx = append(idx, i)
			labels = append(labels, y)
		}
	}
	px = make([]float32, len(idx)*tr.ExampleSize())
	tr.Batch(idx, px)
	return px, labels, tr.H, tr.W, nil
}

// RunMNIST runs mnist-012 and writes its files.
func RunMNIST(c MNISTConfig, cm Common) (*Result, error) {
	start := time.Now()
	dir := filepath.Join(cm.OutDir, "mnist-012")
	if err := writeConfig(dir, "mnist-012", cm, c); err != nil {
		return nil, err
	}
	px, labels, h, w, err := mnistSubset(c.DataDir, c.PerClass)
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
	n, in := len(labels), h*w
	images := tensors.FromFlatDataAndDimensions(px, n, h, w, 1)
	views := func(rng, x *graph.Node) (*graph.Node, *graph.Node) {
		rng, v1, v2 := pl.Views(rng, x)
		return rng, graph.Concatenate([]*graph.Node{v1, v2}, 0)
	}
	plr := c.ParticleLR
	if plr == 0 {
		plr = c.LR * float64(n)
	}
	one := arch.MLP{In: in, Width: c.Width, Depth: 1, Out: 2, Activation: c.Activation, Scaling: arch.ScalingNTK,
		Trainable: arch.TrainBoth, Normalize: true}
	deep := one
	deep.Depth = c.DeepDepth
	methods := []method{{"particles", 0}, {"1 hidden layer", 1}, {fmt.Sprintf("%d hidden layers", c.DeepDepth), c.DeepDepth}}
	thr := SilThreshold(labels, 3, 2)
	series := newTable(append([]string{"method", "seed", "step"}, seriesNames...)...)
	first := map[string]*trajectory{}
	pers := map[string][]persist{}
	for si := range c.Seeds {
		seed := c.FirstSeed + uint64(si)
		for _, m := range methods {
			var tr trainee
			switch m.depth {
			case 0:
				start, err := initialLatents(b, models.Encoder{Body: models.MLPBody{MLP: one}}, images, seed)
				if err != nil {
					return nil, err
				}
				tr = particleTrainee(start, n, 2, optim.Optimizer{Name: optim.SGD, LR: plr})
			default:
				a := one
				a.Depth = m.depth
				tr = trainee{name: m.name, model: models.Encoder{Body: models.MLPBody{MLP: a}},
					input: images, clean: images, views: views, opt: optim.Optimizer{Name: optim.SGD, LR: c.LR}}
			}
			rc := runCfg{steps: c.Steps, logEvery: c.LogEvery, loss: losses.Config{Kernel: losses.KernelExp, Temperature: c.Temperature}, seed: seed,
				snapshots: c.Snapshots, labels: labels, classes: 3, k: 2, sphere: true, metrics: true}
			tj, err := run(b, tr, rc)
			if err != nil {
				return nil, err
			}
			cm.logf("mnist-012: %s seed %d: %.1f s\n", m.name, seed, tj.seconds)
			for i, t := range tj.steps {
				row := []any{m.name, int(seed), t}
				for _, v := range tj.rows[i].values() {
					row = append(row, v)
				}
				series.add(row...)
			}
			pers[m.name] = append(pers[m.name], measurePersistence(tj, thr))
			if si == 0 {
				first[m.name] = tj
			}
		}
	}
	if err := series.write(filepath.Join(dir, "timeseries.csv")); err != nil {
		return nil, err
	}
	d := datasets.Points{N: n, Labels: labels, K: 3, Name: "mnist-012"}
	if err := pvnFigures(dir, d, methods, first, ParticleVsNetworkConfig{Snapshots: c.Snapshots, FirstSeed: c.FirstSeed}); err != nil {
		return nil, err
	}
	res := &Result{Name: "mnist-012", Dir: dir, Title: "MNIST digits 0, 1, 2: particles, one-hidden-layer and the authors' deeper MLP",
		Figures: []string{"panels.png", "timeseries.png"}}
	var rows [][]string
	for _, m := range methods {
		rows = append(rows, persistRow(m.name, pers[m.name]))
	}
	var init, fin [][]string
	for _, m := range methods {
		tj := first[m.name]
		g0, g1 := tj.rows[0], tj.rows[len(tj.rows)-1]
		init = append(init, []string{m.name, f4(g0.Silhouette), f4(g0.Probe), f4(g1.Silhouette), f4(g1.Probe), f4(g1.Loss)})
	}
	_ = fin
	var notes []string
	for _, m := range methods {
		tj := first[m.name]
		if l := tj.rows[len(tj.rows)-1].Loss; l > 0.99*math.Log(float64(2*n-1)) {
			notes = append(notes, fmt.Sprintf("%s ends at loss %.4f, close to log(2N−1) = %.4f: its latent points collapsed to (nearly) one point", m.name, l, math.Log(float64(2*n-1))))
		}
	}
	res.Numbers = persistLegend(c.Steps, thr) + markdown(persistHeader, rows) + "\nSeed " + fmt.Sprint(c.FirstSeed) + ", first and last logged step:\n\n" +
		markdown([]string{"method", "silhouette at 0", "probe at 0", "silhouette at end", "probe at end", "loss at end"}, init)
	res.Verdict = pvnVerdict(methods, pers, c.Steps)
	if len(notes) > 0 {
		res.Numbers += "\nSeed " + fmt.Sprint(c.FirstSeed) + ": " + strings.Join(notes, "; ") + ".\n"
		res.Verdict += " Note: " + strings.Join(notes, "; ") + " (with our learning rate)."
	}
	res.Ours = fmt.Sprintf("Authors' [C]: digits {0,1,2}, the first images of each (authors 300; here %d), hidden width 100, the deep net's "+
		"3 hidden layers, LeakyReLU, blur + rescale augmentation (our preset draws σ per example and the area, not the factor, "+
		"uniformly). Ours: the 2-D normalised output with NT-Xent τ = %g (authors: 1-D code, Gaussian kernel τ = 0.1), NTK "+
		"parameterisation, SGD lr %g (particles %g), %d steps, %d seeds, the persistence definition.", c.PerClass, c.Temperature, c.LR, plr, c.Steps, c.Seeds)
	res.Seconds = time.Since(start).Seconds()
	return res, writeSummary(res, cm, res.Numbers)
}
