package backend

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Smoke compiles and runs one small graph on b, [[1 2] [3 4]]·[5 6]ᵀ + exp(0), and checks the answer [18 40]: a
// plugin that loads but cannot compile or execute fails here, with the reason.
func Smoke(b compute.Backend) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("backend %s: running a test graph: %v", b.Name(), r)
		}
	}()
	x := tensors.FromValue([][]float32{{1, 2}, {3, 4}})
	y := tensors.FromValue([]float32{5, 6})
	out, err := graph.CallOnce(b, func(x, y *graph.Node) *graph.Node {
		return graph.Add(graph.Dot(x, y).Product(), graph.Exp(graph.ScalarZero(x.Graph(), x.DType())))
	}, x, y)
	if err != nil {
		return fmt.Errorf("backend %s: running a test graph: %w", b.Name(), err)
	}
	got, err := tensors.CopyFlatData[float32](out)
	if err != nil || len(got) != 2 || got[0] != 18 || got[1] != 40 {
		return fmt.Errorf("backend %s: a test graph gave %v (%v), want [18 40]", b.Name(), got, err)
	}
	return nil
}
