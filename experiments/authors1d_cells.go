package experiments

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/datasets"
)

// a1dCell is one seed's run as stored (OUT/authors-1d/cells/seedS.json): everything the summary, timeseries.csv
// and the figures need, so that a sweep stopped between seeds resumes after the stored ones and --report-only
// rebuilds every file from them. The codes are those of the clean points at each logged step, as float32 (the
// network computes in float32, so storing them so loses nothing), little-endian, base64: at the authors' size
// (1600 points, 228 logged steps) about 1.9 MB of a cell's ~2 MB.
type a1dCell struct {
	Seed   uint64 `json:"seed"`
	Points int    `json:"points"`
	Labels []int  `json:"labels"` // four-disk label of each point, in the order of the codes
	Steps  []int  `json:"steps"`  // the logged steps
	// At each logged step: the three-group metrics of the codes (groups3) and the four-label ones (Geometry).
	Silhouette3 []jsonNum `json:"silhouette_3"`
	Overlap3    []jsonNum `json:"overlap_3"`
	Gap3        []jsonNum `json:"gap_3"`
	Probe3      []jsonNum `json:"probe_3"`
	Silhouette4 []jsonNum `json:"silhouette_4"`
	Probe4      []jsonNum `json:"probe_4"`
	Spread4     []jsonNum `json:"spread_4"`
	Loss        []jsonNum `json:"loss"`
	// Ref: the three-group metrics of u = x₁ − x₂ on the same points (silhouette, overlap, gap, probe).
	Ref [4]jsonNum `json:"ref_u"`
	// D03: Cohen's d between the codes of labels 0 and 3 at the last step.
	D03 jsonNum `json:"d_0_3"`
	// Codes: the 1-D codes, float32 little-endian, base64; step-major: code of point i at Steps[j] is number
	// j·Points + i.
	Codes   string  `json:"codes"`
	Seconds float64 `json:"seconds"` // wall time of the seed (training and measuring); not compared on resume
	// cellBuild is the build and host that ran the cell (empty in cells stored before cells recorded them).
	cellBuild
}

// a1dCellOf stores the run r.
func a1dCellOf(r a1dSeed) a1dCell {
	cl := a1dCell{Seed: r.seed, Points: r.d.N, Labels: r.d.Labels, Steps: r.tj.steps,
		Ref: [4]jsonNum{jsonNum(r.ref.Silhouette), jsonNum(r.ref.Overlap), jsonNum(r.ref.Gap), jsonNum(r.ref.Probe)}, D03: jsonNum(r.d03)}
	for i := range r.tj.steps {
		g, q := r.g[i], r.tj.rows[i]
		cl.Silhouette3, cl.Overlap3 = append(cl.Silhouette3, jsonNum(g.Silhouette)), append(cl.Overlap3, jsonNum(g.Overlap))
		cl.Gap3, cl.Probe3 = append(cl.Gap3, jsonNum(g.Gap)), append(cl.Probe3, jsonNum(g.Probe))
		cl.Silhouette4, cl.Probe4 = append(cl.Silhouette4, jsonNum(q.Silhouette)), append(cl.Probe4, jsonNum(q.Probe))
		cl.Spread4, cl.Loss = append(cl.Spread4, jsonNum(q.Spread)), append(cl.Loss, jsonNum(q.Loss))
	}
	cl.Codes = encodeCodes(r.tj.steps, r.tj.latents, r.d.N)
	return cl
}

// run rebuilds the run that the report reads (a1dFindings, a1dFigures, timeseries.csv) from the stored cell:
// the trajectory holds the logged steps, their metrics and codes; the data hold the labels only.
func (cl a1dCell) run() (a1dSeed, error) {
	n, s := cl.Points, len(cl.Steps)
	for _, l := range [][]jsonNum{cl.Silhouette3, cl.Overlap3, cl.Gap3, cl.Probe3, cl.Silhouette4, cl.Probe4, cl.Spread4, cl.Loss} {
		if len(l) != s {
			return a1dSeed{}, fmt.Errorf("experiments: authors-1d: seed %d: a series has %d values for %d steps", cl.Seed, len(l), s)
		}
	}
	if s == 0 || n < 1 || len(cl.Labels) != n {
		return a1dSeed{}, fmt.Errorf("experiments: authors-1d: seed %d: %d labels for %d points at %d steps", cl.Seed, len(cl.Labels), n, s)
	}
	latents, err := decodeCodes(cl.Codes, cl.Steps, n)
	if err != nil {
		return a1dSeed{}, fmt.Errorf("experiments: authors-1d: seed %d: %w", cl.Seed, err)
	}
	r := a1dSeed{seed: cl.Seed, d: datasets.Points{N: n, D: 2, Labels: cl.Labels, K: 4, Name: "four-disks"},
		tj:  &trajectory{steps: cl.Steps, latents: latents, seconds: cl.Seconds},
		ref: groups3{float64(cl.Ref[0]), float64(cl.Ref[1]), float64(cl.Ref[2]), float64(cl.Ref[3])}, d03: float64(cl.D03)}
	for j := range cl.Steps {
		r.g = append(r.g, groups3{float64(cl.Silhouette3[j]), float64(cl.Overlap3[j]), float64(cl.Gap3[j]), float64(cl.Probe3[j])})
		r.tj.rows = append(r.tj.rows, Geometry{Silhouette: float64(cl.Silhouette4[j]), Probe: float64(cl.Probe4[j]),
			Spread: float64(cl.Spread4[j]), Loss: float64(cl.Loss[j]), MinSep: math.NaN(), Uniformity: math.NaN(), OutNorm: math.NaN()})
	}
	r.onset, r.lost = onsetLost(r.tj.steps, r.g)
	return r, nil
}

// onsetLost returns the first logged step at which the three groups are formed and the first one after it at
// which they are not (−1: never).
func onsetLost(steps []int, g []groups3) (onset, lost int) {
	onset, lost = -1, -1
	for i, t := range steps {
		if f := formed3(g[i]); f && onset < 0 {
			onset = t
		} else if !f && onset >= 0 && lost < 0 {
			lost = t
		}
	}
	return onset, lost
}
