package experiments

import (
	"fmt"
	"image/color"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
	"github.com/spf13/pflag"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Authors1DConfig sets the authors' later 1-D setting (paper.md §6.2, from test-artificial-data.py): values
// marked [C] are the authors', the rest ours.
type Authors1DConfig struct {
	Augment     string  `json:"augment"`     // [C] diagonal shift ξ(1,1), ξ ~ N(0,1)
	Temperature float64 `json:"temperature"` // [C] 0.1, Gaussian kernel
	Width       int     `json:"width"`       // [C] 100
	Activation  string  `json:"activation"`  // [C] LeakyReLU(0.2)
	OffsetStd   float64 `json:"offset-std"`  // [C] b ~ 0.02·N(0,1)
	LR          float64 `json:"lr"`          // [C] SGD 1e-3
	Steps       int     `json:"steps"`       // [C] 20 000
	LogEvery    int     `json:"log-every"`
	PerDisk     int     `json:"per-disk"` // [C] 400; fewer (the first of each disk in the shuffled order) in quick mode
	Seed        uint64  `json:"seed"`
}

// DefaultAuthors1D returns the full (or quick) settings.
func DefaultAuthors1D(quick bool) Authors1DConfig {
	c := Authors1DConfig{Augment: "shift:1", Temperature: 0.1, Width: 100, Activation: arch.LeakyReLU, OffsetStd: 0.02, LR: 1e-3,
		Steps: 20000, LogEvery: 100, PerDisk: 400, Seed: 1}
	if quick {
		c.Steps, c.LogEvery, c.PerDisk = 3000, 30, 100
	}
	return c
}

func bindAuthors1D(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
	c := DefaultAuthors1D(quick)
	fs.StringVar(&c.Augment, "augment", c.Augment, "vector augmentation (authors: shift:1 along the diagonal)")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "τ of the Gaussian-kernel loss (authors: 0.1)")
	fs.IntVar(&c.Width, "width", c.Width, "hidden width (authors: 100)")
	fs.StringVar(&c.Activation, "activation", c.Activation, "activation (authors: leaky_relu)")
	fs.Float64Var(&c.OffsetStd, "offset-std", c.OffsetStd, "std of the per-sample offsets b (authors: 0.02)")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate (authors: 1e-3)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "full-batch SGD steps (authors: 20000)")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "record the codes every this many steps")
	fs.IntVar(&c.PerDisk, "per-disk", c.PerDisk, "points per disk, ≤ 400 (authors: 400)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of data, initialisation, offsets and augmentation")
	return func(cm Common) (*Result, error) { return RunAuthors1D(c, cm) }
}

// Offset is the authors' construction T(x_i) = f_θ(x_i) − f_θ0(x_i) + b_i (paper.md §5): the MLP f with trainable θ,
// a frozen copy θ0 of its initial parameters, and fixed per-sample offsets b [N, k]. It needs the whole data set in
// a fixed order as its batch (rows i and N+i are the two views of sample i), as the authors' full-batch code has.
type Offset struct {
	MLP       arch.MLP
	N         int
	OffsetStd float64
}

// Params lists θ (trainable), θ0 (frozen) and the offsets (frozen).
func (o Offset) Params() []arch.Param {
	ps := o.MLP.Params()
	for _, p := range o.MLP.Params() {
		ps = append(ps, arch.Param{Name: "frozen/" + p.Name, Dims: p.Dims})
	}
	return append(ps, arch.Param{Name: "offsets", Dims: []int{o.N, o.MLP.Out}})
}

// Init draws θ from seed, copies it into θ0 and draws b ~ OffsetStd·N(0,1).
func (o Offset) Init(seed uint64) [][]float64 {
	theta := o.MLP.Init(seed)
	out := append([][]float64{}, theta...)
	for _, v := range theta {
		out = append(out, append([]float64(nil), v...))
	}
	return append(out, arch.Normal(rand.New(rand.NewPCG(seed, 0x0ff5e7)), o.N*o.MLP.Out, o.OffsetStd))
}

// Forward returns T = f_θ(x) − f_θ0(x) + b for x of N rows (the data) or 2N rows (both views).
func (o Offset) Forward(params []*graph.Node, x *graph.Node, _ bool) models.Output {
	np := len(o.MLP.Params())
	f := models.MLP(o.MLP, params[:np], x)
	f0 := graph.StopGradient(models.MLP(o.MLP, params[np:2*np], x))
	b := params[2*np]
	if x.Shape().Dimensions[0] == 2*o.N {
		b = graph.Concatenate([]*graph.Node{b, b}, 0)
	}
	z := graph.Add(graph.Sub(f, f0), b)
	return models.Output{Features: z, Z: z}
}

// Project does nothing.
func (o Offset) Project(params []*graph.Node) []*graph.Node { return params }

// RunAuthors1D runs the experiment and writes its files.
func RunAuthors1D(c Authors1DConfig, cm Common) (*Result, error) {
	start := time.Now()
	dir := filepath.Join(cm.OutDir, "authors-1d")
	if err := writeConfig(dir, "authors-1d", cm, c); err != nil {
		return nil, err
	}
	spec, err := augment.ParseVectorSpec(c.Augment)
	if err != nil {
		return nil, err
	}
	d := datasets.FourDisks(c.Seed)
	if c.PerDisk < 400 {
		x, y := subset(d, c.PerDisk)
		d = datasets.Points{X: x, N: len(y), D: 2, Labels: y, K: 4, Name: d.Name}
	}
	b, err := backend.New(backend.Spec(cm.Backend))
	if err != nil {
		return nil, err
	}
	// PyTorch-like standard parameterisation (He-normal hidden weights; PyTorch's default is uniform, ours differs).
	a := arch.MLP{In: 2, Width: c.Width, Depth: 1, Out: 1, Activation: c.Activation, Scaling: arch.ScalingStandard,
		Trainable: arch.TrainBoth, StandardHidden: true}
	m := Offset{MLP: a, N: d.N, OffsetStd: c.OffsetStd}
	x := pointsTensor(d.X, d.N, 2)
	tr := trainee{name: "authors-1d", model: m, input: x, clean: x, views: vectorViews(spec), opt: optim.Optimizer{Name: optim.SGD, LR: c.LR}}
	rc := runCfg{steps: c.Steps, logEvery: c.LogEvery, loss: losses.Config{Kernel: losses.KernelGaussian, Temperature: c.Temperature},
		seed: c.Seed, keepAll: true, labels: d.Labels, classes: d.K, k: 1, metrics: true}
	tj, err := run(b, tr, rc)
	if err != nil {
		return nil, err
	}
	tab := newTable("step", "spread", "min_sep", "silhouette", "probe_acc", "loss", "mean_0", "mean_1", "mean_2", "mean_3")
	for i, t := range tj.steps {
		g := tj.rows[i]
		means := clusterMeans1D(tj.latents[t], d)
		tab.add(t, g.Spread, g.MinSep, g.Silhouette, g.Probe, g.Loss, means[0], means[1], means[2], means[3])
	}
	if err := tab.write(filepath.Join(dir, "timeseries.csv")); err != nil {
		return nil, err
	}
	if err := trajectoryPlot(filepath.Join(dir, "trajectory.png"), d, tj, fmt.Sprintf("authors' 1-D setting: codes of all %d points", d.N)); err != nil {
		return nil, err
	}
	meth := []method{{"2-100-1 network, T = f − f0 + b", 1}}
	if err := seriesGrid(dir, "timeseries.png", "authors-1d", meth, map[string]*trajectory{meth[0].name: tj}); err != nil {
		return nil, err
	}
	res := &Result{Name: "authors-1d", Dir: dir, Title: "The authors' later 1-D setting (four disks, diagonal shift, Gaussian kernel)",
		Figures: []string{"trajectory.png", "timeseries.png"}}
	first, last := tj.rows[0], tj.rows[len(tj.rows)-1]
	onset := -1
	for i, g := range tj.rows {
		if g.Silhouette >= 0.5 {
			onset = tj.steps[i]
			break
		}
	}
	means := clusterMeans1D(tj.latents[tj.steps[len(tj.steps)-1]], d)
	order := []int{0, 1, 2, 3}
	sort.Slice(order, func(i, j int) bool { return means[order[i]] < means[order[j]] })
	var ord []string
	for _, c := range order {
		ord = append(ord, fmt.Sprintf("%d %s: %.4f", c, diskName[c], means[c]))
	}
	res.Numbers = fmt.Sprintf("Step 0: silhouette %.3f, probe %.3f, spread %.4f. Step %d: silhouette %.3f, probe %.3f, spread %.4f, smallest "+
		"gap between cluster means %.4f. First logged step with silhouette ≥ 0.5 (clusters formed): %s. Final cluster means, sorted: %s.",
		first.Silhouette, first.Probe, first.Spread, tj.steps[len(tj.steps)-1], last.Silhouette, last.Probe, last.Spread, last.MinSep,
		stepOrNever(onset), strings.Join(ord, " < "))
	verdict := "The codes start as noise unrelated to x (silhouette %.2f) and "
	if onset >= 0 {
		verdict += "training clustered them by label (silhouette ≥ 0.5 from step %d; final probe accuracy %.3f), as the follow-up's abstract says early training does."
		res.Verdict = fmt.Sprintf(verdict, first.Silhouette, onset, last.Probe)
	} else {
		verdict += "within %d steps training did not cluster them by label (final silhouette %.2f, probe %.3f)."
		res.Verdict = fmt.Sprintf(verdict, first.Silhouette, c.Steps, last.Silhouette, last.Probe)
	}
	res.Verdict += fmt.Sprintf(" Clusters (−1,−1) and (1,1), which a diagonal-shift-invariant map cannot tell apart, end %.4f apart (other gaps in timeseries.csv).",
		abs(means[0]-means[3]))
	res.Ours = "Authors' [C]: data, augmentation, loss, τ, widths, activation, T = f − f0 + b, offsets' std, SGD lr and (full mode) step count. " +
		"Ours: He-normal instead of PyTorch's uniform initialisation, no output bias (the loss is shift-invariant, so it would not move), " +
		"the codes plotted are of the clean points (the authors plot view 1), float32, the seed"
	if cm.Quick {
		res.Ours += fmt.Sprintf(", and in quick mode %d points per disk instead of 400 and %d steps instead of 20 000.", c.PerDisk, c.Steps)
	} else {
		res.Ours += "."
	}
	res.Seconds = time.Since(start).Seconds()
	return res, writeSummary(res, cm, res.Numbers+"\n")
}

var diskName = []string{"(−1,−1)", "(−1,1)", "(1,−1)", "(1,1)"}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func stepOrNever(s int) string {
	if s < 0 {
		return "never"
	}
	return fmt.Sprint(s)
}

// clusterMeans1D returns the mean code of each cluster (first latent coordinate).
func clusterMeans1D(z []float64, d datasets.Points) []float64 {
	k := len(z) / d.N
	m, n := make([]float64, d.K), make([]float64, d.K)
	for i := range d.N {
		m[d.Labels[i]] += z[i*k]
		n[d.Labels[i]]++
	}
	for c := range m {
		m[c] /= n[c]
	}
	return m
}

// trajectoryPlot draws every point's first latent coordinate against the step, coloured by label.
func trajectoryPlot(path string, d datasets.Points, tj *trajectory, title string) error {
	p := newPlot(title, "iteration", "1-D code T(x)")
	k := len(tj.latents[0]) / d.N
	for c := range d.K {
		first := true
		for i := range d.N {
			if d.Labels[i] != c {
				continue
			}
			pts := make(plotter.XYs, len(tj.steps))
			for j, t := range tj.steps {
				pts[j] = plotter.XY{X: float64(t), Y: tj.latents[t][i*k]}
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			col := colorOf(c)
			l.Color, l.Width = color.NRGBA{R: col.R, G: col.G, B: col.B, A: 70}, vg.Points(0.5)
			p.Add(l)
			if first {
				legend, _ := plotter.NewLine(pts[:1])
				legend.Color, legend.Width = colorOf(c), vg.Points(3)
				name := fmt.Sprintf("label %d", c)
				if d.Name == "four-disks" {
					name += " " + diskName[c]
				}
				p.Legend.Add(name, legend)
				first = false
			}
		}
	}
	p.Legend.Top, p.Legend.Left = true, true
	return savePlotAny(p, path)
}

func savePlotAny(p *plot.Plot, path string) error { return savePlot(p, path, 20, 12) }
