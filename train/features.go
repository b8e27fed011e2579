package train

import (
	"fmt"
	"io"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/models"
)

// featureChunk is how many examples one evaluation-mode forward pass takes at most; the last chunk is
// padded (its last example repeated) so that a single graph serves every chunk. chunkFor takes fewer of
// large images.
const featureChunk = 1024

// featureValues bounds the input values of one chunk (16 MB of float32): a chunk of large images holds fewer
// of them, so that the forward pass's activations (the input times the first layer's channels, and more) stay
// in the hundreds of MB (1024 images of 96×96 through 32 channels would be 1.2 GB for one layer). Each
// example's features do not depend on the chunk (evaluation mode).
const featureValues = 1 << 22

// chunkFor returns the chunk for examples of size values: featureChunk, halved while the chunk exceeds
// featureValues, and at least 16.
func chunkFor(size int) int {
	c := featureChunk
	for c > 16 && c*size > featureValues {
		c /= 2
	}
	return c
}

// Featurizer runs a model's encoder in evaluation mode (batch-norm running averages, no views) with the
// parameter tensors it was given: a batch at a time (Latents) or over whole splits (run). It builds no
// training step. Setup.Featurizer makes one.
type Featurizer struct {
	progress io.Writer // if not nil, run reports its progress with an estimate of the time left
	input    models.Input
	dt       dtypes.DType
	params   []*tensors.Tensor
	exec     *graph.Exec
}

func newFeaturizer(b compute.Backend, m models.Model, in models.Input, dt dtypes.DType, params []*tensors.Tensor) *Featurizer {
	f := &Featurizer{input: in, dt: dt, params: params}
	f.exec = graph.MustNewExec(b, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		out := m.Forward(in[1:], in[0], false)
		return []*graph.Node{out.Features, out.Z}
	}).WithName("features")
	return f
}

// Latents returns the features [n, F] and latents [n, k] of the batch x (as the model reads it: values
// [n, dims…] or, for a model of indices, int32 indices [n]), as float64 rows.
func (f *Featurizer) Latents(x *tensors.Tensor) (features, z []float64, err error) {
	args := []any{x}
	for _, p := range f.params {
		args = append(args, p)
	}
	outs, err := f.exec.Call(args...)
	if err != nil {
		return nil, nil, fmt.Errorf("train: features: %w", err)
	}
	return flat64(outs[0]), flat64(outs[1]), nil
}

// run returns the features [n, F] and latents [n, k] of every example of data, as float32 rows.
func (f *Featurizer) run(data *dataset) (features, z []float32, fdim, zdim int, err error) {
	t0, next := time.Now(), 0.25
	chunk := chunkFor(data.size())
	for start := 0; start < data.n; start += chunk {
		if done := float64(start) / float64(data.n); f.progress != nil && start > 0 && done >= next {
			el := time.Since(t0).Seconds()
			fmt.Fprintf(f.progress, "  features of %d examples: %.0f%%, %.1f s, about %.0f s left\n", data.n, 100*done, el, el/done*(1-done))
			next += 0.25
		}
		idx := make([]int, chunk)
		m := min(chunk, data.n-start)
		for i := range idx {
			idx[i] = start + min(i, m-1) // pad by repeating the last example
		}
		x, err := batchTensor(f.input, data, idx, f.dt)
		if err != nil {
			return nil, nil, 0, 0, err
		}
		fv, zv, err := f.Latents(x)
		if err != nil {
			return nil, nil, 0, 0, err
		}
		fdim, zdim = len(fv)/chunk, len(zv)/chunk
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
