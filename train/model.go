package train

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/models"
)

// modelSpec is the model settings of c, for n training examples.
func (c Config) modelSpec(n int) models.Spec {
	return models.Spec{Width: c.Width, Depth: c.Depth, Activation: c.Activation, Scaling: c.Scaling,
		Trainable: c.Trainable, Normalize: c.Normalize, LatentDim: c.LatentDim, HeadDim: c.HeadDim,
		HeadHidden: c.HeadHidden, Channels: c.Channels, Stem: c.Stem, Examples: n}
}

// buildModel makes the model of c, m being its entry in the registry of package models, for the data, and its
// views function: none for a model of example indices, else the vector augmentation on points or the image
// preset on images.
func buildModel(c Config, m models.Entry, data *dataset) (models.Model, ViewsFn, error) {
	model, err := m.Build(c.modelSpec(data.n), data.dims)
	if err != nil {
		return nil, nil, UsageError{err}
	}
	if m.Input == models.Indices {
		return model, nil, nil
	}
	if !data.isImages() {
		spec, err := augment.ParseVectorSpec(c.Augment)
		if err != nil {
			return nil, nil, UsageError{err}
		}
		return model, func(rng, x *graph.Node) (*graph.Node, *graph.Node) {
			bsz, d := x.Shape().Dimensions[0], x.Shape().Dimensions[1]
			rng, p1 := spec.Sample(rng, bsz, d, x.DType())
			rng, p2 := spec.Sample(rng, bsz, d, x.DType())
			return rng, graph.Concatenate([]*graph.Node{spec.Apply(x, p1), spec.Apply(x, p2)}, 0)
		}, nil
	}
	pl, err := augment.Preset(c.Augment)
	if err != nil {
		return nil, nil, UsageError{err}
	}
	if data.stream != nil { // batches of two host-made crops [N, 2, H, W, C]: the rest of the pipeline here
		_, pl = hostCrop(pl)
		return model, func(rng, x *graph.Node) (*graph.Node, *graph.Node) {
			rng, v1, v2, _ := pl.PairViews(rng, x)
			return rng, graph.Concatenate([]*graph.Node{v1, v2}, 0)
		}, nil
	}
	return model, func(rng, x *graph.Node) (*graph.Node, *graph.Node) {
		rng, v1, v2 := pl.Views(rng, x)
		return rng, graph.Concatenate([]*graph.Node{v1, v2}, 0)
	}, nil
}

// batchTensor gathers the examples idx as a model reading in wants them: their indices [N] (int32) for
// models.Indices, else their values [N, dims…].
func batchTensor(in models.Input, data *dataset, idx []int, dt dtypes.DType) (*tensors.Tensor, error) {
	if in == models.Indices {
		v := make([]int32, len(idx))
		for i, j := range idx {
			v[i] = int32(j)
		}
		return tensors.FromFlatDataAndDimensions(v, len(idx)), nil
	}
	v := make([]float32, len(idx)*data.size())
	if err := data.fill(idx, v); err != nil {
		return nil, err
	}
	return valuesTensor(v, append([]int{len(idx)}, data.dims...), dt), nil
}

// valuesTensor makes a tensor of dtype dt and the given dims from float32 values.
func valuesTensor(v []float32, dims []int, dt dtypes.DType) *tensors.Tensor {
	if dt == dtypes.Float64 {
		v64 := make([]float64, len(v))
		for i, x := range v {
			v64[i] = float64(x)
		}
		return tensors.FromFlatDataAndDimensions(v64, dims...)
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}
