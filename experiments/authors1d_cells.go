package experiments

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

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
	Silhouette3 []a1dNum `json:"silhouette_3"`
	Overlap3    []a1dNum `json:"overlap_3"`
	Gap3        []a1dNum `json:"gap_3"`
	Probe3      []a1dNum `json:"probe_3"`
	Silhouette4 []a1dNum `json:"silhouette_4"`
	Probe4      []a1dNum `json:"probe_4"`
	Spread4     []a1dNum `json:"spread_4"`
	Loss        []a1dNum `json:"loss"`
	// Ref: the three-group metrics of u = x₁ − x₂ on the same points (silhouette, overlap, gap, probe).
	Ref [4]a1dNum `json:"ref_u"`
	// D03: Cohen's d between the codes of labels 0 and 3 at the last step.
	D03 a1dNum `json:"d_0_3"`
	// Codes: the 1-D codes, float32 little-endian, base64; step-major: code of point i at Steps[j] is number
	// j·Points + i.
	Codes   string  `json:"codes"`
	Seconds float64 `json:"seconds"` // wall time of the seed (training and measuring); not compared on resume
}

// a1dNum is a float64 that JSON writes as null when it is not finite (encoding/json refuses NaN) and reads back
// from null as NaN; finite values round-trip exactly.
type a1dNum float64

func (x a1dNum) MarshalJSON() ([]byte, error) {
	if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(x), 'g', -1, 64), nil
}

func (x *a1dNum) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*x = a1dNum(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*x = a1dNum(f)
	return err
}

// a1dCellOf stores the run r.
func a1dCellOf(r a1dSeed) a1dCell {
	cl := a1dCell{Seed: r.seed, Points: r.d.N, Labels: r.d.Labels, Steps: r.tj.steps,
		Ref: [4]a1dNum{a1dNum(r.ref.Silhouette), a1dNum(r.ref.Overlap), a1dNum(r.ref.Gap), a1dNum(r.ref.Probe)}, D03: a1dNum(r.d03)}
	raw := make([]byte, 0, 4*len(r.tj.steps)*r.d.N)
	for i, t := range r.tj.steps {
		g, q := r.g[i], r.tj.rows[i]
		cl.Silhouette3, cl.Overlap3 = append(cl.Silhouette3, a1dNum(g.Silhouette)), append(cl.Overlap3, a1dNum(g.Overlap))
		cl.Gap3, cl.Probe3 = append(cl.Gap3, a1dNum(g.Gap)), append(cl.Probe3, a1dNum(g.Probe))
		cl.Silhouette4, cl.Probe4 = append(cl.Silhouette4, a1dNum(q.Silhouette)), append(cl.Probe4, a1dNum(q.Probe))
		cl.Spread4, cl.Loss = append(cl.Spread4, a1dNum(q.Spread)), append(cl.Loss, a1dNum(q.Loss))
		for _, v := range r.tj.latents[t][:r.d.N] {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v)))
		}
	}
	cl.Codes = base64.StdEncoding.EncodeToString(raw)
	return cl
}

// run rebuilds the run that the report reads (a1dFindings, a1dFigures, timeseries.csv) from the stored cell:
// the trajectory holds the logged steps, their metrics and codes; the data hold the labels only.
func (cl a1dCell) run() (a1dSeed, error) {
	n, s := cl.Points, len(cl.Steps)
	raw, err := base64.StdEncoding.DecodeString(cl.Codes)
	if err != nil {
		return a1dSeed{}, fmt.Errorf("experiments: authors-1d: seed %d: codes: %w", cl.Seed, err)
	}
	for _, l := range [][]a1dNum{cl.Silhouette3, cl.Overlap3, cl.Gap3, cl.Probe3, cl.Silhouette4, cl.Probe4, cl.Spread4, cl.Loss} {
		if len(l) != s {
			return a1dSeed{}, fmt.Errorf("experiments: authors-1d: seed %d: a series has %d values for %d steps", cl.Seed, len(l), s)
		}
	}
	if s == 0 || n < 1 || len(cl.Labels) != n || len(raw) != 4*n*s {
		return a1dSeed{}, fmt.Errorf("experiments: authors-1d: seed %d: %d labels and %d bytes of codes for %d points at %d steps",
			cl.Seed, len(cl.Labels), len(raw), n, s)
	}
	r := a1dSeed{seed: cl.Seed, d: datasets.Points{N: n, D: 2, Labels: cl.Labels, K: 4, Name: "four-disks"},
		tj:  &trajectory{steps: cl.Steps, latents: make(map[int][]float64, s), seconds: cl.Seconds},
		ref: groups3{float64(cl.Ref[0]), float64(cl.Ref[1]), float64(cl.Ref[2]), float64(cl.Ref[3])}, d03: float64(cl.D03)}
	for j, t := range cl.Steps {
		r.g = append(r.g, groups3{float64(cl.Silhouette3[j]), float64(cl.Overlap3[j]), float64(cl.Gap3[j]), float64(cl.Probe3[j])})
		r.tj.rows = append(r.tj.rows, Geometry{Silhouette: float64(cl.Silhouette4[j]), Probe: float64(cl.Probe4[j]),
			Spread: float64(cl.Spread4[j]), Loss: float64(cl.Loss[j]), MinSep: math.NaN(), Uniformity: math.NaN(), OutNorm: math.NaN()})
		z := make([]float64, n)
		for i := range z {
			z[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(j*n+i):])))
		}
		r.tj.latents[t] = z
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
