package losses

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

// LocalLoss is Loss with local negatives: the N examples of z [2N, k] (rows i and i+N the two views of example
// i) are cut into g consecutive groups of N/g, each group's 2N/g views are contrasted only among themselves,
// and the terms are averaged over the groups:
//
//	z_G = [z_{gN/g … (g+1)N/g − 1}; z_{N + gN/g … N + (g+1)N/g − 1}],   L_local = (1/g) Σ_G Loss(z_G)
//
// With data-parallel training over g devices, group G is device G's share of the batch: what "local negatives"
// (no all-gather before the loss) computes. g = 1 is Loss. It panics unless g ≥ 1 divides N. ref.LocalLoss is
// its twin.
func LocalLoss(z *graph.Node, groups int, cfg Config) Terms {
	n := z.Shape().Dimensions[0] / 2
	if groups < 1 || z.Rank() != 2 || n%groups != 0 {
		panic(fmt.Sprintf("losses: LocalLoss wants z [2N, k] and groups dividing N, got %s and %d groups", z.Shape(), groups))
	}
	if groups == 1 {
		return Loss(z, cfg)
	}
	m := n / groups
	var sum Terms
	for g := range groups {
		zg := graph.Concatenate([]*graph.Node{
			graph.SliceAxis(z, 0, graph.AxisRange(g*m, (g+1)*m)),
			graph.SliceAxis(z, 0, graph.AxisRange(n+g*m, n+(g+1)*m)),
		}, 0) // [2N/g, k]
		t := Loss(zg, cfg)
		if g == 0 {
			sum = t
			continue
		}
		sum = Terms{Loss: graph.Add(sum.Loss, t.Loss), Align: graph.Add(sum.Align, t.Align), Unif: graph.Add(sum.Unif, t.Unif)}
	}
	inv := 1 / float64(groups)
	return Terms{Loss: graph.MulScalar(sum.Loss, inv), Align: graph.MulScalar(sum.Align, inv), Unif: graph.MulScalar(sum.Unif, inv)}
}
