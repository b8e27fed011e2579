package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// peakSize is the side of the square float32 matrices of the peak probes: large enough for every kernel to
// reach its best rate, small enough to take well under a second per product on two cores.
const peakSize = 1024

// RefPeak is the best float32 GFLOP/s of ref.MatMul (hostmath.MatMul) on peakSize² matrices over about a
// second.
func RefPeak() float64 { return hostmath.PeakGFLOPS[float32](peakSize, time.Second) }

// GoMLXPeak is the best float32 GFLOP/s of a graph MatMul on backend b over about a second (compilation and
// the first run excluded).
func GoMLXPeak(b compute.Backend) (float64, error) {
	e, err := graph.NewExec(b, func(x, y *graph.Node) *graph.Node { return graph.MatMul(x, y) })
	if err != nil {
		return 0, err
	}
	defer e.Finalize()
	x := tensors.FromFlatDataAndDimensions(uniform(8, peakSize*peakSize), peakSize, peakSize)
	y := tensors.FromFlatDataAndDimensions(uniform(9, peakSize*peakSize), peakSize, peakSize)
	flops := 2 * float64(peakSize) * peakSize * peakSize
	best := 0.0
	deadline := time.Now().Add(time.Second)
	for i := 0; i < 3 || time.Now().Before(deadline); i++ {
		t0 := time.Now()
		outs, err := e.Call(x, y)
		if err != nil {
			return 0, fmt.Errorf("bench: peak probe: %w", err)
		}
		_ = outs[0].Value()
		if i > 0 {
			best = max(best, flops/time.Since(t0).Seconds()/1e9)
		}
		outs[0].FinalizeAll()
	}
	return best, nil
}

func refDevice() string { return fmt.Sprintf("pure Go, %d goroutines", runtime.GOMAXPROCS(0)) }
