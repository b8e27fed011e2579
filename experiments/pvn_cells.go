package experiments

import (
	"fmt"
	"slices"
)

// pvCell is one (method, seed) run of particle-vs-network as stored (OUT/particle-vs-network/cells/L<d>-seed<S>.json):
// the metrics at every logged step and, for the first seed, the latent points at the snapshot steps (panels.png).
type pvCell struct {
	Method     string    `json:"method"`
	Depth      int       `json:"depth"` // 0: particles
	Seed       uint64    `json:"seed"`
	Steps      []int     `json:"steps"`
	Spread     []jsonNum `json:"spread"`
	MinSep     []jsonNum `json:"min_sep"`
	Silhouette []jsonNum `json:"silhouette"`
	Probe      []jsonNum `json:"probe_acc"`
	Uniformity []jsonNum `json:"uniformity"`
	Loss       []jsonNum `json:"loss"`
	OutNorm    []jsonNum `json:"out_norm"`
	Diverged   bool      `json:"diverged"`
	SnapSteps  []int     `json:"snap_steps,omitempty"` // steps whose latents Codes holds
	Codes      string    `json:"codes,omitempty"`      // latents [N·2] at SnapSteps, float32 little-endian, base64
	Seconds    float64   `json:"seconds"`
	cellBuild
}

// pvCellOf stores a run; with snaps, its latents at the snapshot steps too.
func pvCellOf(m method, seed uint64, tj *trajectory, diverged bool, n int, snaps bool) pvCell {
	cl := pvCell{Method: m.name, Depth: m.depth, Seed: seed, Steps: tj.steps, Diverged: diverged, Seconds: tj.seconds}
	for _, g := range tj.rows {
		cl.Spread, cl.MinSep = append(cl.Spread, jsonNum(g.Spread)), append(cl.MinSep, jsonNum(g.MinSep))
		cl.Silhouette, cl.Probe = append(cl.Silhouette, jsonNum(g.Silhouette)), append(cl.Probe, jsonNum(g.Probe))
		cl.Uniformity, cl.Loss = append(cl.Uniformity, jsonNum(g.Uniformity)), append(cl.Loss, jsonNum(g.Loss))
		cl.OutNorm = append(cl.OutNorm, jsonNum(g.OutNorm))
	}
	if snaps {
		for t := range tj.latents {
			cl.SnapSteps = append(cl.SnapSteps, t)
		}
		slices.Sort(cl.SnapSteps)
		cl.Codes = encodeCodes(cl.SnapSteps, tj.latents, 2*n)
	}
	return cl
}

// run rebuilds the run of the cell (n points).
func (cl pvCell) run(n int) (pvnRun, error) {
	s := len(cl.Steps)
	for _, l := range [][]jsonNum{cl.Spread, cl.MinSep, cl.Silhouette, cl.Probe, cl.Uniformity, cl.Loss, cl.OutNorm} {
		if len(l) != s {
			return pvnRun{}, fmt.Errorf("experiments: particle-vs-network: %s seed %d: a series has %d values for %d steps", cl.Method, cl.Seed, len(l), s)
		}
	}
	tj := &trajectory{steps: cl.Steps, latents: map[int][]float64{}, seconds: cl.Seconds}
	for i := range cl.Steps {
		tj.rows = append(tj.rows, Geometry{Spread: float64(cl.Spread[i]), MinSep: float64(cl.MinSep[i]), Silhouette: float64(cl.Silhouette[i]),
			Probe: float64(cl.Probe[i]), Uniformity: float64(cl.Uniformity[i]), Loss: float64(cl.Loss[i]), OutNorm: float64(cl.OutNorm[i])})
	}
	if cl.Codes != "" {
		z, err := decodeCodes(cl.Codes, cl.SnapSteps, 2*n)
		if err != nil {
			return pvnRun{}, fmt.Errorf("experiments: particle-vs-network: %s seed %d: %w", cl.Method, cl.Seed, err)
		}
		tj.latents = z
	}
	return pvnRun{seed: cl.Seed, tj: tj, diverged: cl.Diverged}, nil
}
