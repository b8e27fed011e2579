package ops

import (
	"strings"

	"github.com/gomlx/gomlx/core/graph"
)

// RNGState returns next, the RNG state [3]uint64 after drawing from prev, with its last word made
// deterministic on the Go backend. There, compute v0.1.2's RngBitGenerator (gobackend/ops/rngbitgenerator.go)
// seeds a PCG from the first two words, writes the new two back and, when the state buffer is not donated,
// leaves the third word of its freshly pooled output buffer as it found it: whatever the pool held. Nothing
// reads that word on the Go backend, but it is saved in checkpoints, so two identical runs could write
// different bytes. Here it is copied from prev. On XLA, whose bit generator uses the whole state, next is
// returned unchanged.
//
// This is a bug workaround, not a substitute for speed: it is decided by the backend itself, not by
// Substitute (ForceSubstitutes must not change XLA's random stream).
func RNGState(prev, next *graph.Node) *graph.Node {
	if !strings.HasPrefix(strings.ToLower(next.Graph().Backend().Name()), "go") {
		return next
	}
	n := next.Shape().Dimensions[0]
	if n < 3 {
		return next
	}
	return graph.Concatenate([]*graph.Node{
		graph.Slice(next, graph.AxisRange(0, 2)),
		graph.Slice(prev, graph.AxisRange(2, n)),
	}, 0)
}
