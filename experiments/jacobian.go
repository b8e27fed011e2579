package experiments

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/hostmath"
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

// kernel returns Θ = J Jᵀ [p·k, p·k] of the p examples x [p, In], J from g.Jacobian: block (a, b) is the k×k
// empirical NTK Θ(x_a, x_b) = J_θT(x_a) J_θT(x_b)ᵀ.
func kernel(g *mlpGraphs, params [][]float64, x []float64, p int) ([]float64, error) {
	j, err := g.Jacobian(params, x, p)
	if err != nil {
		return nil, err
	}
	rows := p * g.a.Out
	return hostmath.MatMul(nil, j, j, rows, len(j)/rows, rows, false, true), nil
}

func frob(x []float64) float64 { return math.Sqrt(hostmath.Dot(x, x)) }

// scaleFreeDrift returns the drift of the kernel's shape and its alignment with the initial kernel,
//
//	D = ‖Θ_t/‖Θ_t‖_F − Θ_0/‖Θ_0‖_F‖_F,   A = ⟨Θ_t, Θ_0⟩_F/(‖Θ_t‖_F ‖Θ_0‖_F),   D² = 2 − 2A,
//
// (A is the kernel alignment of Cristianini et al. 2002). Both ignore a change of scale: Θ_t = cΘ_0 with c > 0
// gives D = 0, A = 1, whereas the relative drift ‖Θ_t − Θ_0‖/‖Θ_0‖ is |c − 1|.
func scaleFreeDrift(theta, theta0 []float64) (d, align float64) {
	n, n0 := frob(theta), frob(theta0)
	var s float64
	for i := range theta {
		e := theta[i]/n - theta0[i]/n0
		s += e * e
	}
	return math.Sqrt(s), hostmath.Dot(theta, theta0) / (n * n0)
}

// locality splits the kernel's mass ‖Θ‖²_F = Σ_ab ‖Θ_ab‖²_F over its k×k blocks Θ_ab:
//
//	Within = Σ_{c(a)=c(b)} ‖Θ_ab‖²_F / ‖Θ‖²_F   (pairs in one cluster, a = b included)
//	Self   = Σ_a ‖Θ_aa‖²_F / ‖Θ‖²_F             (each point with itself)
//	Ratio  = mean_{c(a)=c(b), a≠b} ‖Θ_ab‖_F / mean_{c(a)≠c(b)} ‖Θ_ab‖_F
//
// The particles' kernel Θ = δ_ab I is perfectly local (Within = Self = 1); a kernel constant over the points has
// Within = Σ_c n_c²/n² and Self = 1/n.
type locality struct{ Within, Self, Ratio float64 }

// kernelLocality returns the locality of Θ [n·k, n·k] of the n points with labels.
func kernelLocality(theta []float64, labels []int, k int) locality {
	n := len(labels)
	var tot, within, self, sameSum, diffSum float64
	var sameN, diffN int
	for a := range n {
		for b := range n {
			var m float64
			for i := range k {
				row := theta[(a*k+i)*n*k+b*k : (a*k+i)*n*k+b*k+k]
				m += hostmath.Dot(row, row)
			}
			tot += m
			switch {
			case a == b:
				self += m
				within += m
			case labels[a] == labels[b]:
				within += m
				sameSum, sameN = sameSum+math.Sqrt(m), sameN+1
			default:
				diffSum, diffN = diffSum+math.Sqrt(m), diffN+1
			}
		}
	}
	return locality{Within: within / tot, Self: self / tot, Ratio: (sameSum / float64(sameN)) / (diffSum / float64(diffN))}
}

// clusterVelocities returns the velocities of the C cluster means of the latents z [n, k] under the NTK
// linearisation ż_a = −Σ_b Θ_ab G_b, G = ∂L/∂z [n, k] (paper.md §4.4, per unit learning rate), [C·k] each, in
// the order of predNames:
//
//	full:     v_c = −(1/n_c) Σ_{a∈c} Σ_b Θ_ab G_b
//	block:    v_c = −Σ_d n_d B_cd Ḡ_d,   B_cd = mean_{a∈c, b∈d} Θ_ab (k×k),   Ḡ_d = mean_{b∈d} G_b
//	own:      v_c = −n_c B_cc Ḡ_c        (the block form without the pull of the other clusters)
//	particle: v_c = −Ḡ_c                 (Θ = δ_ab I)
//
// The block form is prediction 6(c): the kernel blocks weight the pull of cluster d on cluster c. It equals the
// full one when Θ_ab is constant over each pair of clusters or G over each cluster; own and particle are the
// baselines that say how much the cross-cluster blocks add.
func clusterVelocities(theta, g []float64, labels []int, classes, k int) [4][]float64 {
	n := len(labels)
	cnt := make([]float64, classes)
	for _, c := range labels {
		cnt[c]++
	}
	var v [4][]float64
	for i := range v {
		v[i] = make([]float64, classes*k)
	}
	tg := hostmath.MatMul(nil, theta, g, n*k, n*k, 1, false, false) // Θ G   [n·k]
	gbar := make([]float64, classes*k)
	for a, c := range labels {
		for i := range k {
			v[0][c*k+i] -= tg[a*k+i] / cnt[c]
			gbar[c*k+i] += g[a*k+i] / cnt[c]
		}
	}
	bsum := make([]float64, classes*classes*k*k) // Σ_{a∈c, b∈d} Θ_ab, row-major [c, d, i, j]
	for a := range n {
		for b := range n {
			for i := range k {
				for j := range k {
					bsum[((labels[a]*classes+labels[b])*k+i)*k+j] += theta[(a*k+i)*n*k+b*k+j]
				}
			}
		}
	}
	for c := range classes {
		for d := range classes {
			for i := range k {
				for j := range k {
					u := bsum[((c*classes+d)*k+i)*k+j] / cnt[c] * gbar[d*k+j] // n_d B_cd Ḡ_d = Σ_{a∈c,b∈d} Θ_ab Ḡ_d / n_c
					v[1][c*k+i] -= u
					if c == d {
						v[2][c*k+i] -= u
					}
				}
			}
		}
	}
	for i := range gbar {
		v[3][i] = -gbar[i]
	}
	return v
}

// predNames names the predictions of clusterVelocities, in order.
var predNames = [4]string{"full", "block", "own", "particle"}

// oneStep takes one SGD step of size lr on g's loss of the fixed views v [2P, In] (float64 graphs on g's
// backend) and returns the latents before (z) and after (z1), ∂L/∂z at the start and Θ of the views there.
func oneStep(g *mlpGraphs, params [][]float64, v []float64, p2 int, lr float64) (z, z1, dz, theta []float64, err error) {
	z, dz, dp, err := g.LossGrad(params, v, p2)
	if err != nil {
		return
	}
	next := make([][]float64, len(params))
	for i, w := range params {
		next[i] = make([]float64, len(w))
		for j := range w {
			next[i][j] = w[j] - lr*dp[i][j]
		}
	}
	if z1, _, _, err = g.LossGrad(next, v, p2); err != nil { // only the latents after the step are needed
		return
	}
	theta, err = kernel(g, params, v, p2)
	return
}

// onestepCheck returns ‖Δz_pred − Δz_obs‖/‖Δz_obs‖ for one SGD step of size lr (oneStep), Δz_pred = −lr Θ ∇_z L.
func onestepCheck(g *mlpGraphs, params [][]float64, v []float64, p2 int, lr float64) (float64, error) {
	z, z1, dz, theta, err := oneStep(g, params, v, p2, lr)
	if err != nil {
		return 0, err
	}
	pred := hostmath.MatMul(nil, theta, dz, p2*g.a.Out, p2*g.a.Out, 1, false, false) // Θ ∇_z L   [2P·k]
	var num, den float64
	for i := range z {
		obs := z1[i] - z[i]
		d := -lr*pred[i] - obs
		num += d * d
		den += obs * obs
	}
	return math.Sqrt(num / den), nil
}
