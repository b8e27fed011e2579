package experiments

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
)

// mlpGraphs runs the MLP a (models.Encoder with an MLPBody, no head) on a backend in float64 for the NTK
// experiment: its latents, the per-example Jacobians of its output with respect to every parameter, and the
// gradients of a loss. Each graph is compiled on first use (and again only for a new input shape). The
// parameters are [][]float64 in the order of a.Params(); ref.MLPForward and ref.MLPBackward compute the same.
// Everything is float64: the one-step check compares changes of the latents of order lr·‖∇L‖, which float32
// would resolve to only a few digits at lr = 1e-3.
type mlpGraphs struct {
	b     compute.Backend
	a     arch.MLP
	enc   models.Encoder
	loss  losses.Config
	n     int // number of parameter scalars
	jac   *graph.Exec
	grads *graph.Exec
}

func newMLPGraphs(b compute.Backend, a arch.MLP, loss losses.Config) *mlpGraphs {
	m := &mlpGraphs{b: b, a: a, enc: models.Encoder{Body: models.MLPBody{MLP: a}}, loss: loss}
	for _, p := range a.Params() {
		m.n += p.Size()
	}
	return m
}

// args returns x [rows, In] followed by the parameter tensors, in float64.
func (m *mlpGraphs) args(params [][]float64, x []float64, rows int) []any {
	ps := m.a.Params()
	if len(params) != len(ps) {
		panic(fmt.Sprintf("experiments: mlpGraphs wants %d parameter arrays, got %d", len(ps), len(params)))
	}
	args := []any{tensors.FromFlatDataAndDimensions(append([]float64(nil), x[:rows*m.a.In]...), rows, m.a.In)}
	for i, p := range ps {
		args = append(args, tensors.FromFlatDataAndDimensions(append([]float64(nil), params[i]...), p.Dims...))
	}
	return args
}

// Jacobian returns J [p·k, #params] for the p examples x [p, In]: row a·k+j is ∂T_j(x_a)/∂θ, the gradients
// with respect to all parameters flattened and concatenated in a.Params() order. One compiled graph takes one
// example x_a [1, In] and computes graph.Gradient of each output coordinate T_j(x_a), so the p·k rows cost p
// calls; examples never share a batch (which would sum their gradients).
func (m *mlpGraphs) Jacobian(params [][]float64, x []float64, p int) ([]float64, error) {
	if m.jac == nil {
		e, err := graph.NewExec(m.b, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			in[0].AssertDims(1, m.a.In)
			z := m.enc.Forward(in[1:], in[0], false).Z // [1, k]
			rows := make([]*graph.Node, m.a.Out)
			for j := range rows {
				zj := graph.ReduceAllSum(graph.SliceAxis(z, 1, graph.AxisElem(j))) // T_j(x_a), a scalar
				flat := make([]*graph.Node, len(in)-1)
				for i, gr := range graph.Gradient(zj, in[1:]...) {
					flat[i] = graph.Reshape(gr, -1)
				}
				rows[j] = graph.Concatenate(flat, 0) // [#params]
			}
			return []*graph.Node{graph.Stack(rows, 0)} // [k, #params]
		})
		if err != nil {
			return nil, fmt.Errorf("experiments: jacobian graph: %w", err)
		}
		m.jac = e.WithName("ntk_jacobian")
	}
	k, in := m.a.Out, m.a.In
	j := make([]float64, p*k*m.n)
	for i := range p {
		outs, err := m.jac.Call(m.args(params, x[i*in:(i+1)*in], 1)...)
		if err != nil {
			return nil, fmt.Errorf("experiments: jacobian of example %d: %w", i, err)
		}
		err = tensors.ConstFlatData(outs[0], func(v []float64) { copy(j[i*k*m.n:(i+1)*k*m.n], v) })
		if err != nil {
			return nil, err
		}
	}
	return j, nil
}

// LossGrad returns, for the views v [2P, In], their latents z [2P, k], the loss gradient ∂L/∂z [2P, k] and
// ∂L/∂θ (one slice per parameter, in a.Params() order), where L = losses.Loss(z, m.loss).Loss.
func (m *mlpGraphs) LossGrad(params [][]float64, v []float64, p2 int) (z, dz []float64, dp [][]float64, err error) {
	if m.grads == nil {
		e, err := graph.NewExec(m.b, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			z := m.enc.Forward(in[1:], in[0], false).Z // [2P, k]
			l := losses.Loss(z, m.loss).Loss
			return append([]*graph.Node{z}, graph.Gradient(l, append([]*graph.Node{z}, in[1:]...)...)...)
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("experiments: loss gradient graph: %w", err)
		}
		m.grads = e.WithName("ntk_loss_gradient")
	}
	outs, err := m.grads.Call(m.args(params, v, p2)...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("experiments: loss gradient: %w", err)
	}
	flat := make([][]float64, len(outs))
	for i, t := range outs {
		if flat[i], err = tensors.CopyFlatData[float64](t); err != nil {
			return nil, nil, nil, err
		}
	}
	return flat[0], flat[1], flat[2:], nil
}
