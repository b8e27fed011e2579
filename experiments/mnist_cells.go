package experiments

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// mnCell is one network's run from one seed as stored (OUT/mnist-012/cells/L<depth>-seed<S>.json): everything
// the summary, timeseries.csv and the figures need, so that a run stopped between cells resumes after the
// stored ones and --report-only rebuilds every file from them. The codes are those of the clean images at each
// logged step, as float32 (the network computes in float32, so storing them so loses nothing), little-endian,
// base64: at the authors' size (900 images, 201 logged steps) about 0.96 MB of a cell's ~1.0 MB.
type mnCell struct {
	Network string `json:"network"` // "1 hidden layer", "3 hidden layers"
	Depth   int    `json:"depth"`   // hidden layers
	Seed    uint64 `json:"seed"`
	Draw    int    `json:"draw,omitempty"` // the data draw (absent: 1, cells stored before there were draws)
	Points  int    `json:"points"`
	Labels  []int  `json:"labels"` // digit of each image, in the order of the codes
	Steps   []int  `json:"steps"`  // the logged steps (a diverged run's stop where it stopped being finite)
	// At each logged step: the metrics of the codes (Geometry), the loss of the step's update and the codes' std.
	Spread     []jsonNum `json:"spread"`
	MinSep     []jsonNum `json:"min_sep"`
	Silhouette []jsonNum `json:"silhouette"`
	Probe      []jsonNum `json:"probe_acc"`
	Uniformity []jsonNum `json:"uniformity"`
	Loss       []jsonNum `json:"loss"`
	CodeStd    []jsonNum `json:"code_std"`
	Diverged   bool      `json:"diverged"`
	Collapsed  bool      `json:"collapsed"`
	// Persistence of the digit clusters by the silhouette and by the probe; *Never: never reached the threshold.
	SilPersistence   survival.Obs `json:"silhouette_persistence"`
	SilNever         bool         `json:"silhouette_never_visible"`
	ProbePersistence survival.Obs `json:"probe_persistence"`
	ProbeNever       bool         `json:"probe_never_visible"`
	// Codes: the 1-D codes, float32 little-endian, base64; step-major: code of image i at Steps[j] is number
	// j·Points + i.
	Codes   string  `json:"codes"`
	Seconds float64 `json:"seconds"` // wall time of the run (training and measuring); not compared on resume
	// cellBuild is the build and host that ran the cell (commit only, or nothing, in cells stored before cells
	// recorded them).
	cellBuild
}

// mnCellOf stores the run r of the network with depth hidden layers on the images with these labels.
func mnCellOf(r mnistRun, depth int, labels []int) mnCell {
	n := len(labels)
	cl := mnCell{Network: r.method, Depth: depth, Seed: r.seed, Draw: r.draw, Points: n, Labels: labels, Steps: r.tj.steps,
		Diverged: r.diverged, Collapsed: r.collapsed, SilPersistence: r.sil, SilNever: r.silNever, ProbePersistence: r.probe,
		ProbeNever: r.prbNever, Seconds: r.tj.seconds}
	for i := range r.tj.steps {
		g := r.tj.rows[i]
		cl.Spread, cl.MinSep = append(cl.Spread, jsonNum(g.Spread)), append(cl.MinSep, jsonNum(g.MinSep))
		cl.Silhouette, cl.Probe = append(cl.Silhouette, jsonNum(g.Silhouette)), append(cl.Probe, jsonNum(g.Probe))
		cl.Uniformity, cl.Loss = append(cl.Uniformity, jsonNum(g.Uniformity)), append(cl.Loss, jsonNum(g.Loss))
		cl.CodeStd = append(cl.CodeStd, jsonNum(r.codeStd[i]))
	}
	cl.Codes = encodeCodes(r.tj.steps, r.tj.latents, n)
	return cl
}

// run rebuilds the run that the report reads (mnistNumbers, mnistVerdict, mnistFigures, timeseries.csv) from
// the stored cell under the settings c: the trajectory holds the logged steps, their metrics and codes; the
// peak-relative measures are computed from them.
func (cl mnCell) run(c MNISTConfig) (mnistRun, error) {
	n, s := cl.Points, len(cl.Steps)
	for _, l := range [][]jsonNum{cl.Spread, cl.MinSep, cl.Silhouette, cl.Probe, cl.Uniformity, cl.Loss, cl.CodeStd} {
		if len(l) != s {
			return mnistRun{}, fmt.Errorf("experiments: mnist-012: %s seed %d: a series has %d values for %d steps", cl.Network, cl.Seed, len(l), s)
		}
	}
	if s == 0 || n < 1 || len(cl.Labels) != n {
		return mnistRun{}, fmt.Errorf("experiments: mnist-012: %s seed %d: %d labels for %d images at %d steps", cl.Network, cl.Seed, len(cl.Labels), n, s)
	}
	latents, err := decodeCodes(cl.Codes, cl.Steps, n)
	if err != nil {
		return mnistRun{}, fmt.Errorf("experiments: mnist-012: %s seed %d: %w", cl.Network, cl.Seed, err)
	}
	r := mnistRun{method: cl.Network, seed: cl.Seed, draw: max(cl.Draw, 1), diverged: cl.Diverged, collapsed: cl.Collapsed, sil: cl.SilPersistence,
		silNever: cl.SilNever, probe: cl.ProbePersistence, prbNever: cl.ProbeNever, labels: cl.Labels,
		tj: &trajectory{steps: cl.Steps, latents: latents, seconds: cl.Seconds}}
	for j := range cl.Steps {
		r.tj.rows = append(r.tj.rows, Geometry{Spread: float64(cl.Spread[j]), MinSep: float64(cl.MinSep[j]),
			Silhouette: float64(cl.Silhouette[j]), Probe: float64(cl.Probe[j]), Uniformity: float64(cl.Uniformity[j]),
			Loss: float64(cl.Loss[j]), OutNorm: math.NaN()})
		r.codeStd = append(r.codeStd, float64(cl.CodeStd[j]))
	}
	last := c.Steps
	if cl.Diverged {
		last = cl.Steps[len(cl.Steps)-1]
	}
	r.peaks(c.Window, last)
	return r, nil
}
