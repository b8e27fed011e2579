package train

import (
	"fmt"
	"io"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// featureChunk is how many examples one evaluation-mode forward pass takes; the last chunk is zero-padded so
// that a single graph serves every chunk.
const featureChunk = 1024

// featurizer runs the encoder in evaluation mode (batch-norm running averages) over whole splits.
type featurizer struct {
	progress io.Writer // if not nil, run reports its progress with an estimate of the time left
	st       *Stepper
	dt       dtypes.DType
	exec     *graph.Exec
}

func newFeaturizer(b compute.Backend, st *Stepper, dt dtypes.DType) *featurizer {
	f := &featurizer{st: st, dt: dt}
	f.exec = graph.MustNewExec(b, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		out := st.Model.Forward(in[1:], in[0], false)
		return []*graph.Node{out.Features, out.Z}
	}).WithName("features")
	return f
}

// run returns the features [n, F] and latents [n, k] of every example of data, as float32 rows.
func (f *featurizer) run(model string, data *dataset) (features, z []float32, fdim, zdim int, err error) {
	t0, next := time.Now(), 0.25
	for start := 0; start < data.n; start += featureChunk {
		if done := float64(start) / float64(data.n); f.progress != nil && start > 0 && done >= next {
			el := time.Since(t0).Seconds()
			fmt.Fprintf(f.progress, "  features of %d examples: %.0f%%, %.1f s, about %.0f s left\n", data.n, 100*done, el, el/done*(1-done))
			next += 0.25
		}
		idx := make([]int, featureChunk)
		m := min(featureChunk, data.n-start)
		for i := range idx {
			idx[i] = start + min(i, m-1) // pad by repeating the last example
		}
		x := batchTensor(inputOf(model), data, idx, f.dt)
		args := []any{x}
		for _, p := range f.st.Params {
			args = append(args, p)
		}
		outs, err := f.exec.Call(args...)
		if err != nil {
			return nil, nil, 0, 0, fmt.Errorf("train: features: %w", err)
		}
		fv, zv := flat64(outs[0]), flat64(outs[1])
		fdim, zdim = len(fv)/featureChunk, len(zv)/featureChunk
		for _, v := range fv[:m*fdim] {
			features = append(features, float32(v))
		}
		for _, v := range zv[:m*zdim] {
			z = append(z, float32(v))
		}
	}
	if f.progress != nil {
		fmt.Fprintf(f.progress, "  features of %d examples: done in %.1f s\n", data.n, time.Since(t0).Seconds())
	}
	return features, z, fdim, zdim, nil
}
