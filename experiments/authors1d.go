package experiments

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute"
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
	LogEvery    int     `json:"log-every"`   // [C] the authors store the codes every 10 steps; we do so up to EarlyUntil
	EarlyUntil  int     `json:"early-until"` // ours: log every 10 steps up to here (the groups form within ~30 steps)
	PerDisk     int     `json:"per-disk"`    // [C] 400; fewer: the first of each disk in the shuffled order
	Seeds       int     `json:"seeds"`       // ours: ≥ 3 runs, seeds FirstSeed, FirstSeed+1, …
	FirstSeed   uint64  `json:"first-seed"`  // seed s draws the data, θ0, the offsets b and the augmentation
}

// DefaultAuthors1D returns the full (or quick) settings.
func DefaultAuthors1D(quick bool) Authors1DConfig {
	c := Authors1DConfig{Augment: "shift:1", Temperature: 0.1, Width: 100, Activation: arch.LeakyReLU, OffsetStd: 0.02, LR: 1e-3,
		Steps: 20000, LogEvery: 100, EarlyUntil: 300, PerDisk: 400, Seeds: 3, FirstSeed: 1}
	if quick {
		c.Steps, c.LogEvery, c.EarlyUntil, c.PerDisk, c.Seeds = 1000, 50, 100, 100, 2
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
	fs.IntVar(&c.EarlyUntil, "early-until", c.EarlyUntil, "also record them every 10 steps up to this step")
	fs.IntVar(&c.PerDisk, "per-disk", c.PerDisk, "points per disk, ≤ 400 (authors: 400)")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "number of runs (seeds first-seed, first-seed+1, …)")
	fs.Uint64Var(&c.FirstSeed, "first-seed", c.FirstSeed, "seed of the first run: data, initialisation, offsets and augmentation")
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

// RunAuthors1D runs the experiment from c.Seeds seeds and writes its files.
func RunAuthors1D(c Authors1DConfig, cm Common) (*Result, error) {
	start := time.Now()
	if c.Seeds < 1 || c.PerDisk < 2 || c.PerDisk > 400 || c.Steps < 1 || c.LogEvery < 1 {
		return nil, fmt.Errorf("experiments: authors-1d: --seeds, --steps and --log-every must be ≥ 1 and --per-disk in [2, 400], got %d, %d, %d and %d",
			c.Seeds, c.Steps, c.LogEvery, c.PerDisk)
	}
	dir := filepath.Join(cm.OutDir, "authors-1d")
	if err := writeConfig(dir, "authors-1d", cm, c); err != nil {
		return nil, err
	}
	spec, err := augment.ParseVectorSpec(c.Augment)
	if err != nil {
		return nil, err
	}
	b, err := backend.New(backend.Spec(cm.Backend))
	if err != nil {
		return nil, err
	}
	series := newTable("seed", "step", "silhouette_3", "overlap_3", "gap_3", "probe_3", "formed_3", "silhouette_4", "probe_4", "spread_4",
		"loss", "mean_0", "mean_1", "mean_2", "mean_3")
	var runs []a1dSeed
	for si := range c.Seeds {
		r, err := authors1DSeed(b, c, spec, c.FirstSeed+uint64(si))
		if err != nil {
			return nil, err
		}
		cm.logf("authors-1d: seed %d: %.1f s, three groups from step %s\n", r.seed, r.tj.seconds, stepOrNever(r.onset))
		for i, t := range r.tj.steps {
			g, q, m := r.g[i], r.tj.rows[i], clusterMeans1D(r.tj.latents[t], r.d)
			series.add(int(r.seed), t, g.Silhouette, g.Overlap, g.Gap, g.Probe, formed3(g), q.Silhouette, q.Probe, q.Spread, q.Loss,
				m[0], m[1], m[2], m[3])
		}
		runs = append(runs, r)
	}
	if err := series.write(filepath.Join(dir, "timeseries.csv")); err != nil {
		return nil, err
	}
	if err := a1dFigures(dir, c, runs); err != nil {
		return nil, err
	}
	res := &Result{Name: "authors-1d", Dir: dir, Title: "The authors' later 1-D setting (four disks, diagonal shift, Gaussian kernel)",
		Figures: []string{"trajectory.png", "timeseries.png"}}
	res.Numbers, res.Verdict = a1dFindings(c, runs)
	res.Ours = "Authors' [C]: data, augmentation, loss, τ, width, activation, T = f − f0 + b, offsets' std, SGD lr and full-batch steps. " +
		"Ours: the three-group criterion (silhouette ≥ 0.5 and overlap ≤ 0.05 on the groups of paper.md §6.2's invariance argument), " +
		"He-normal instead of PyTorch's uniform initialisation, no output bias (the loss is shift-invariant, so it would not move), " +
		"the codes measured and plotted are of the clean points (the authors plot view 1), float32, the seeds (each draws its own data)"
	if c.PerDisk < 400 || c.Steps != 20000 {
		res.Ours += fmt.Sprintf(", and in this run %d points per disk (authors: 400) and %d steps (authors: 20 000)", c.PerDisk, c.Steps)
	}
	res.Ours += "."
	res.Seconds = time.Since(start).Seconds()
	return res, writeSummary(res, cm, res.Numbers+"\n")
}

// The three groups (paper.md §6.2): a map invariant to the diagonal shift x + ξ(1,1) depends on x only through
// u = x₁ − x₂, and the disks (−1,−1) and (1,1) both have u ≈ 0, so no invariant code can tell labels 0 and 3 apart
// (the four-label probe's ceiling is 3/4); (−1,1) at u ≈ −2 and (1,−1) at u ≈ +2 stay distinct.
var (
	diskName  = []string{"(−1,−1)", "(−1,1)", "(1,−1)", "(1,1)"}
	diskGroup = []int{0, 1, 2, 0} // label → group
	groupName = []string{"(−1,−1)∪(1,1)", "(−1,1)", "(1,−1)"}
)

// Thresholds of the three-group criterion (ours).
const (
	sil3Threshold    = 0.5  // three-group silhouette of the 1-D codes
	overlapThreshold = 0.05 // fraction of points on the wrong side of the best two cuts
)

// groups3 holds the three-group metrics of N 1-D codes z.
//
//	Silhouette: mean silhouette by group, 1-D Euclidean distance |z_i − z_j| (Rousseeuw 1987)
//	Overlap:    1 − the accuracy of the best split of the line by two cuts into three intervals, one per group,
//	            over the 3! orders of the groups (exact): the fraction of points no interval code can place
//	Gap:        smallest gap between the ranges [min, max] of groups adjacent in the order of their means, over
//	            the range of all codes; < 0 when the ranges overlap
//	Probe:      accuracy of the linear probe (ProbeAccuracy, softmax regression) on the three groups
type groups3 struct{ Silhouette, Overlap, Gap, Probe float64 }

// formed3 is the criterion: three groups formed.
func formed3(g groups3) bool { return g.Silhouette >= sil3Threshold && g.Overlap <= overlapThreshold }

// measure3 measures the codes z [N] of points with four-disk labels by their three groups.
func measure3(z []float64, labels []int) groups3 {
	g := make([]int, len(labels))
	for i, l := range labels {
		g[i] = diskGroup[l]
	}
	s := latentSet{Z: z, N: len(z), K: 1, Labels: g, C: 3}
	return groups3{Silhouette: Silhouette(s), Overlap: 1 - intervalAccuracy(z, g), Gap: groupGap(z, g), Probe: ProbeAccuracy(s)}
}

// intervalAccuracy is the accuracy of the best rule "group π₀ below c₁ ≤ group π₁ below c₂ ≤ group π₂" over cuts
// c₁ ≤ c₂ between distinct codes and orders π of the groups 0, 1, 2. For a fixed order and upper cut j (in sorted
// order) the best lower cut i ≤ j maximises P₀(i) − P₁(i), Pₖ(i) = #{group πₖ among the i smallest}: O(N) per order.
func intervalAccuracy(z []float64, g []int) float64 {
	n := len(z)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return z[idx[a]] < z[idx[b]] })
	cut := func(k int) bool { return k == 0 || k == n || z[idx[k-1]] < z[idx[k]] } // no cut between equal codes
	best := 0
	for _, p := range [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		var cnt [3]int // Pₖ(j), by group
		total2 := 0
		for _, v := range g {
			if v == p[2] {
				total2++
			}
		}
		bestLow := math.MinInt // max over valid i ≤ j of P₀(i) − P₁(i)
		for j := 0; j <= n; j++ {
			if cut(j) {
				bestLow = max(bestLow, cnt[p[0]]-cnt[p[1]])
				best = max(best, bestLow+cnt[p[1]]+total2-cnt[p[2]])
			}
			if j < n {
				cnt[g[idx[j]]]++
			}
		}
	}
	return float64(best) / float64(n)
}

// groupGap is the Gap of groups3.
func groupGap(z []float64, g []int) float64 {
	lo, hi := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}, [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	var mean [3]float64
	var cnt [3]int
	for i, v := range z {
		lo[g[i]], hi[g[i]] = min(lo[g[i]], v), max(hi[g[i]], v)
		mean[g[i]] += v
		cnt[g[i]]++
	}
	order := []int{0, 1, 2}
	sort.Slice(order, func(a, b int) bool {
		return mean[order[a]]/float64(cnt[order[a]]) < mean[order[b]]/float64(cnt[order[b]])
	})
	span := slices.Max(z) - slices.Min(z)
	if span == 0 {
		return 0
	}
	return min(lo[order[1]]-hi[order[0]], lo[order[2]]-hi[order[1]]) / span
}

// a1dSeed is one seed's run and its three-group measurements.
type a1dSeed struct {
	seed  uint64
	d     datasets.Points
	tj    *trajectory
	g     []groups3 // at each logged step
	ref   groups3   // of u = x₁ − x₂ itself: what an exactly invariant, linear code scores on these data
	onset int       // first logged step at which formed3 holds; −1: never (censored at the last step)
	lost  int       // first logged step after onset at which it fails; −1: never
	d03   float64   // |mean₀ − mean₃| / pooled within-label SD at the last step: the labels the invariance merges
}

// authors1DSeed trains the authors' network from seed and measures it.
func authors1DSeed(b compute.Backend, c Authors1DConfig, spec augment.VectorSpec, seed uint64) (a1dSeed, error) {
	d := datasets.FourDisks(seed)
	if c.PerDisk < 400 {
		x, y := subset(d, c.PerDisk)
		d = datasets.Points{X: x, N: len(y), D: 2, Labels: y, K: 4, Name: d.Name}
	}
	// PyTorch-like standard parameterisation (He-normal hidden weights; PyTorch's default is uniform, ours differs).
	a := arch.MLP{In: 2, Width: c.Width, Depth: 1, Out: 1, Activation: c.Activation, Scaling: arch.ScalingStandard,
		Trainable: arch.TrainBoth, StandardHidden: true}
	x := pointsTensor(d.X, d.N, 2)
	tr := trainee{name: "authors-1d", model: Offset{MLP: a, N: d.N, OffsetStd: c.OffsetStd}, input: x, clean: x, views: vectorViews(spec),
		opt: optim.Optimizer{Name: optim.SGD, LR: c.LR}}
	var early []int
	for t := 10; t < c.EarlyUntil; t += 10 {
		early = append(early, t)
	}
	rc := runCfg{steps: c.Steps, logEvery: c.LogEvery, loss: losses.Config{Kernel: losses.KernelGaussian, Temperature: c.Temperature},
		seed: seed, snapshots: early, keepAll: true, labels: d.Labels, classes: d.K, k: 1, metrics: true}
	tj, err := run(b, tr, rc)
	if err != nil {
		return a1dSeed{}, err
	}
	r := a1dSeed{seed: seed, d: d, tj: tj, onset: -1, lost: -1}
	u := make([]float64, d.N)
	for i := range u {
		u[i] = d.X[2*i] - d.X[2*i+1]
	}
	r.ref = measure3(u, d.Labels)
	for _, t := range tj.steps {
		g := measure3(tj.latents[t], d.Labels)
		r.g = append(r.g, g)
		if f := formed3(g); f && r.onset < 0 {
			r.onset = t
		} else if !f && r.onset >= 0 && r.lost < 0 {
			r.lost = t
		}
	}
	r.d03 = pairEffect(tj.latents[tj.steps[len(tj.steps)-1]], d.Labels, 0, 3)
	return r, nil
}

// pairEffect is Cohen's d of the codes of labels a and b: |mean_a − mean_b| / pooled SD.
func pairEffect(z []float64, labels []int, a, b int) float64 {
	var xa, xb []float64
	for i, l := range labels {
		if l == a {
			xa = append(xa, z[i])
		} else if l == b {
			xb = append(xb, z[i])
		}
	}
	ma, sa := meanStd(xa)
	mb, sb := meanStd(xb)
	na, nb := float64(len(xa)), float64(len(xb))
	return math.Abs(ma-mb) / math.Sqrt(((na-1)*sa*sa+(nb-1)*sb*sb)/(na+nb-2))
}

// a1dFindings returns the summary's numbers (markdown) and its verdict.
func a1dFindings(c Authors1DConfig, runs []a1dSeed) (numbers, verdict string) {
	n, end := len(runs), c.Steps
	header := []string{"seed", "points", "onset (step)", "holds at end", "first lost", "silhouette₃ 0 → end", "overlap₃ end",
		"gap₃ end", "probe₃ end", "silhouette₄ end", "probe₄ end", "d(label 0, label 3) end", "u = x₁−x₂: silhouette₃ / overlap₃"}
	var rows [][]string
	var onsets []float64 // +Inf: censored
	var sil0, silEnd, ovEnd, d03 []float64
	formed, held := 0, 0
	for _, r := range runs {
		g0, gT, qT := r.g[0], r.g[len(r.g)-1], r.tj.rows[len(r.tj.rows)-1]
		on := fmt.Sprintf("> %d (censored)", end)
		if r.onset >= 0 {
			on, formed = fmt.Sprint(r.onset), formed+1
			onsets = append(onsets, float64(r.onset))
		} else {
			onsets = append(onsets, math.Inf(1))
		}
		if formed3(gT) {
			held++
		}
		lost := "never"
		if r.lost >= 0 {
			lost = fmt.Sprint(r.lost)
		}
		rows = append(rows, []string{fmt.Sprint(r.seed), fmt.Sprint(r.d.N), on, fmt.Sprint(formed3(gT)), lost,
			f4(g0.Silhouette) + " → " + f4(gT.Silhouette), f4(gT.Overlap), f4(gT.Gap), f4(gT.Probe), f4(qT.Silhouette), f4(qT.Probe),
			f4(r.d03), f4(r.ref.Silhouette) + " / " + f4(r.ref.Overlap)})
		sil0, silEnd, ovEnd, d03 = append(sil0, g0.Silhouette), append(silEnd, gT.Silhouette), append(ovEnd, gT.Overlap), append(d03, r.d03)
	}
	slices.Sort(onsets)
	median := fmt.Sprintf("> %d (censored)", end)
	if m := onsets[(n-1)/2]; !math.IsInf(m, 1) {
		median = fmt.Sprint(m)
	}
	ms := func(xs []float64) string { m, s := meanStd(xs); return fmt.Sprintf("%.3f ± %.3f", m, s) }
	numbers = fmt.Sprintf("Groups (paper.md §6.2): a code invariant to the diagonal shift depends on x only through u = x₁ − x₂, and "+
		"disks %s and %s both have u ≈ 0, so labels 0 and 3 form one group; %s (u ≈ −2) and %s (u ≈ +2) are the other two. "+
		"Three groups count as formed at a logged step when the three-group silhouette of the 1-D codes is ≥ %.2f and at most %.0f%% of "+
		"the points fall outside the best split of the line into three intervals (overlap₃; criterion ours). Codes are logged every 10 "+
		"steps up to step %d, then every %d. n = %d seeds (each draws its own data), %d points each.\n\n%s\n"+
		"Onset, survival-style: formed in %d of %d seeds by step %d (onsets %v; censored seeds: > %d); median onset %s. "+
		"Still formed at step %d in %d of %d. Across seeds (mean ± SD, n = %d): silhouette₃ %s at step 0, %s at step %d; overlap₃ at step %d %s; "+
		"Cohen's d between the codes of labels 0 and 3 at step %d %s. The last column is what the invariant coordinate u itself scores on "+
		"the same points (disks of radius 0.8 overlap in u, so even an exactly invariant linear code has overlap₃ > 0).\n",
		diskName[0], diskName[3], diskName[1], diskName[2], sil3Threshold, 100*overlapThreshold, c.EarlyUntil, c.LogEvery, n, runs[0].d.N,
		markdown(header, rows), formed, n, end, onsetList(runs), end, median, end, held, formed, n, ms(sil0), ms(silEnd), end, end, ms(ovEnd),
		end, ms(d03))
	switch {
	case formed == n:
		verdict = fmt.Sprintf("As predicted (follow-up abstract, paper.md §7 item 8), early training turns the random codes into "+
			"label-clustered ones: the three groups the augmentation allows formed in all %d seeds, median onset step %s", n, median)
	case formed > 0:
		verdict = fmt.Sprintf("Partly as predicted: the three groups formed in %d of %d seeds (median onset %s; the rest censored at %d)",
			formed, n, median, end)
	default:
		verdict = fmt.Sprintf("Not as predicted: the three groups formed in none of %d seeds within %d steps (onset > %d, censored)", n, end, end)
	}
	verdict += fmt.Sprintf(", and were still formed at step %d in %d of %d (silhouette₃ %s at step 0 → %s at the end, overlap₃ %s). "+
		"What this does not show: that four groups form (Cohen's d between labels 0 and 3 at the end is %s, so their codes %s); "+
		"anything at other widths, learning rates or data (one setting, n = %d seeds); and the thresholds 0.5 / 5%% are ours, not the authors'.",
		end, held, formed, ms(sil0), ms(silEnd), ms(ovEnd), ms(d03), overlapWords(d03), n)
	return numbers, verdict
}

// onsetList lists the onsets, "never" for censored seeds.
func onsetList(runs []a1dSeed) string {
	var s []string
	for _, r := range runs {
		s = append(s, fmt.Sprintf("seed %d: %s", r.seed, stepOrNever(r.onset)))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// overlapWords says how far apart two groups with Cohen's d values ds are.
func overlapWords(ds []float64) string {
	switch {
	case slices.Max(ds) < 1:
		return "overlap (d < 1 in every seed)"
	case slices.Min(ds) >= 3:
		return "are also separated (d ≥ 3 in every seed)"
	}
	return "are partly separated in some seeds"
}

func stepOrNever(s int) string {
	if s < 0 {
		return "never"
	}
	return fmt.Sprint(s)
}

// a1dFigures draws trajectory.png (per seed: the codes over the first EarlyUntil steps and over the whole run) and
// timeseries.png (the three-group metrics against the step, one curve per seed).
func a1dFigures(dir string, c Authors1DConfig, runs []a1dSeed) error {
	var grid [][]*plot.Plot
	for _, r := range runs {
		var row []*plot.Plot
		for _, until := range []int{c.EarlyUntil, c.Steps} {
			p, err := trajectoryPanel(fmt.Sprintf("seed %d, n = %d points: steps 0–%d", r.seed, r.d.N, until), r.d, r.tj, until)
			if err != nil {
				return err
			}
			row = append(row, p)
		}
		grid = append(grid, row)
	}
	if err := saveGrid(grid, filepath.Join(dir, "trajectory.png"), 15, 10); err != nil {
		return err
	}
	type panel struct {
		label    string
		val      func(r a1dSeed, i int) float64
		thr, ref float64 // NaN: none
	}
	refMean := func(f func(groups3) float64) float64 {
		var s float64
		for _, r := range runs {
			s += f(r.ref)
		}
		return s / float64(len(runs))
	}
	nan := math.NaN()
	panels := []panel{
		{"three-group silhouette", func(r a1dSeed, i int) float64 { return r.g[i].Silhouette }, sil3Threshold,
			refMean(func(g groups3) float64 { return g.Silhouette })},
		{"three-group overlap fraction", func(r a1dSeed, i int) float64 { return r.g[i].Overlap }, overlapThreshold,
			refMean(func(g groups3) float64 { return g.Overlap })},
		{"gap between group ranges / code range", func(r a1dSeed, i int) float64 { return r.g[i].Gap }, nan,
			refMean(func(g groups3) float64 { return g.Gap })},
		{"three-group probe accuracy", func(r a1dSeed, i int) float64 { return r.g[i].Probe }, nan, refMean(func(g groups3) float64 { return g.Probe })},
		{"four-label silhouette", func(r a1dSeed, i int) float64 { return r.tj.rows[i].Silhouette }, nan, nan},
		{"training loss", func(r a1dSeed, i int) float64 { return r.tj.rows[i].Loss }, nan, nan},
	}
	var plots []*plot.Plot
	for _, pn := range panels {
		var cs []curve
		for si, r := range runs {
			xs, ys := make([]float64, len(r.tj.steps)), make([]float64, len(r.tj.steps))
			for i, t := range r.tj.steps {
				xs[i], ys[i] = float64(t+1), pn.val(r, i)
			}
			cs = append(cs, curve{Name: fmt.Sprintf("seed %d", r.seed), X: xs, Y: ys, Color: si})
		}
		span := []float64{1, float64(c.Steps + 1)}
		if !math.IsNaN(pn.thr) {
			cs = append(cs, curve{Name: "criterion (ours)", X: span, Y: []float64{pn.thr, pn.thr}, Color: len(runs), Dashed: true})
		}
		if !math.IsNaN(pn.ref) {
			cs = append(cs, curve{Name: "u = x₁−x₂ itself", X: span, Y: []float64{pn.ref, pn.ref}, Color: len(runs) + 1, Dashed: true})
		}
		title := fmt.Sprintf("%s (n = %d seeds × %d points)", pn.label, len(runs), runs[0].d.N)
		p, err := lineChart(title, "SGD step + 1 (log scale)", pn.label, cs, true)
		if err != nil {
			return err
		}
		plots = append(plots, p)
	}
	return saveGrid([][]*plot.Plot{plots[:3], plots[3:]}, filepath.Join(dir, "timeseries.png"), 13, 9)
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
	p, err := trajectoryPanel(title, d, tj, math.MaxInt)
	if err != nil {
		return err
	}
	return savePlot(p, path, 20, 12)
}

// trajectoryPanel draws every point's first latent coordinate (a code, no unit) against the logged steps ≤ until.
func trajectoryPanel(title string, d datasets.Points, tj *trajectory, until int) (*plot.Plot, error) {
	p := newPlot(title, "SGD step", "1-D code T(x)")
	k := len(tj.latents[0]) / d.N
	var steps []int
	for _, t := range tj.steps {
		if t <= until {
			steps = append(steps, t)
		}
	}
	for c := range d.K {
		first := true
		for i := range d.N {
			if d.Labels[i] != c {
				continue
			}
			pts := make(plotter.XYs, len(steps))
			for j, t := range steps {
				pts[j] = plotter.XY{X: float64(t), Y: tj.latents[t][i*k]}
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
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
	return p, nil
}
