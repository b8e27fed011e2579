package ops

import (
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestRNGState: after a draw, the state's first two words are the generator's and, on the Go backend, the third
// is the previous state's (there the generator leaves it as its pooled buffer held it); on XLA the state is the
// generator's own, all three words.
func TestRNGState(t *testing.T) {
	const marker = 0x0123456789abcdef
	prev := tensors.FromFlatDataAndDimensions([]uint64{7, 11, marker}, 3)
	draw := func(fix bool) []uint64 {
		e, err := graph.NewExec(testBackend, func(rng *graph.Node) *graph.Node {
			next, _ := graph.RandomUniform(rng, shapes.Make(dtypes.Float32, 64))
			if fix {
				next = RNGState(rng, next)
			}
			return next
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Call(prev)
		if err != nil {
			t.Fatal(err)
		}
		v, err := tensors.CopyFlatData[uint64](out[0])
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	raw, fixed := draw(false), draw(true)
	if raw[0] != fixed[0] || raw[1] != fixed[1] || (raw[0] == 7 && raw[1] == 11) {
		t.Fatalf("first two words: generator %x, RNGState %x (previous 7, 11)", raw[:2], fixed[:2])
	}
	onGo := strings.HasPrefix(strings.ToLower(testBackend.Name()), "go")
	if onGo && fixed[2] != marker {
		t.Errorf("Go backend: third word %x, want the previous state's %x (the generator left %x)", fixed[2], uint64(marker), raw[2])
	}
	if !onGo && fixed[2] != raw[2] {
		t.Errorf("%s: RNGState changed the third word %x -> %x", testBackend.Name(), raw[2], fixed[2])
	}
}
