package models

import (
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
)

// Particle is the paper's "vanilla gradient descent" (Calder & Lee 2025, Fig. 4 row 3 of the ICLR version):
// the latent points themselves are the parameters, one row per example, put back on the unit sphere after
// every step. Its input is the vector of example indices [B] (int32); both views of an example share its point.
type Particle struct {
	N, K int
	// Start, if set, gives the initial points (N×K, row-major), e.g. an untrained network's embedding;
	// otherwise they are drawn uniformly on the sphere.
	Start []float64
}

// Params is the single [N, K] matrix of points.
func (p Particle) Params() []arch.Param {
	return []arch.Param{{Name: "particles", Dims: []int{p.N, p.K}, Trainable: true}}
}

// Init returns Start, or N points uniform on S^{K−1} drawn from seed, normalised either way.
func (p Particle) Init(seed uint64) [][]float64 {
	v := p.Start
	if v == nil {
		v = arch.Normal(rand.New(rand.NewPCG(seed, 0x9a71c1e)), p.N*p.K, 1)
	} else {
		v = append([]float64(nil), v...)
	}
	for i := range p.N {
		row := v[i*p.K : (i+1)*p.K]
		var s float64
		for _, x := range row {
			s += x * x
		}
		s = math.Sqrt(s) + 1e-12
		for j := range row {
			row[j] /= s
		}
	}
	return [][]float64{v}
}

// Forward gathers the points of the indices x [B].
func (p Particle) Forward(params []*graph.Node, x *graph.Node, _ bool) Output {
	z := graph.Gather(params[0], graph.ExpandAxes(x, -1)) // [B, K]
	return Output{Features: z, Z: z}
}

// Project renormalises every point onto the sphere (projected gradient descent).
func (p Particle) Project(params []*graph.Node) []*graph.Node {
	return []*graph.Node{graph.L2NormalizeWithEpsilon(params[0], 1e-12, -1)}
}
