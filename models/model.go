package models

import (
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
)

// Model is what the training step needs of an encoder: its parameters, their initial values, and a forward
// pass from a batch of inputs to features (what evaluation uses) and latents (what the loss sees).
type Model interface {
	Params() []arch.Param
	Init(seed uint64) [][]float64
	// Forward maps inputs [B, …] to features [B, F] and latents z [B, k]. In training mode, layers with
	// statistics (batch normalisation) use the batch's and return their updated running averages.
	Forward(params []*graph.Node, x *graph.Node, training bool) Output
	// Project is applied to the parameters after every optimiser step (nil: nothing to do).
	Project(params []*graph.Node) []*graph.Node
}

// Output is what Model.Forward returns.
type Output struct {
	Features, Z *graph.Node
	// Stats maps the index (in Params order) of a non-trainable statistic, such as a batch-norm running mean,
	// to its new value after a training-mode pass; the training step stores it after the optimiser update.
	Stats map[int]*graph.Node
}

// Encoder is the MLP of arch with an optional projection head (Head.Out == 0: none).
type Encoder struct {
	MLP  arch.MLP
	Head arch.Head
}

// Params lists the MLP's parameters followed by the head's.
func (e Encoder) Params() []arch.Param {
	ps := e.MLP.Params()
	if e.Head.Out > 0 {
		ps = append(ps, e.Head.Params()...)
	}
	return ps
}

// Init draws the MLP's and head's initial values from seed.
func (e Encoder) Init(seed uint64) [][]float64 {
	vs := e.MLP.Init(seed)
	if e.Head.Out > 0 {
		vs = append(vs, e.Head.Init(seed+1)...)
	}
	return vs
}

// Forward returns the MLP's output as features, and the head's output (or the features again) as z.
func (e Encoder) Forward(params []*graph.Node, x *graph.Node, _ bool) Output {
	nm := len(e.MLP.Params())
	features := MLP(e.MLP, params[:nm], x)
	if e.Head.Out == 0 {
		return Output{Features: features, Z: features}
	}
	return Output{Features: features, Z: Head(e.Head, params[nm:], features)}
}

// Project does nothing for a network.
func (e Encoder) Project(params []*graph.Node) []*graph.Node { return params }

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

// Flat feeds images [B, H, W, C] to a model that reads vectors, flattened to [B, H·W·C].
type Flat struct{ Model }

// Forward flattens x beyond its first axis and calls the wrapped model.
func (f Flat) Forward(params []*graph.Node, x *graph.Node, training bool) Output {
	if x.Rank() > 2 {
		x = graph.Reshape(x, x.Shape().Dimensions[0], -1)
	}
	return f.Model.Forward(params, x, training)
}
