package train

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/models"
)

// convModel builds the convolutional encoders for image data: the small CNN (width = its dense features) or
// ResNet-18 (width = its base width, stem from --stem), with the projection head on their features.
func convModel(c Config, data *dataset, head arch.Head) (models.Model, error) {
	h, w, ch := data.dims[0], data.dims[1], data.dims[2]
	switch c.Model {
	case "resnet18":
		a := arch.ResNet18{H: h, W: w, C: ch, Stem: c.Stem, Width: c.Width}
		if err := a.Validate(); err != nil {
			return nil, UsageError{err}
		}
		head.In = a.Features()
		return models.ResNetEncoder{ResNet: a, Head: head}, nil
	}
	channels := c.Channels
	if len(channels) == 0 {
		channels = arch.DefaultCNNChannels
	}
	a := arch.CNN{H: h, W: w, C: ch, Channels: channels, Dense: c.Width}
	if err := a.Validate(); err != nil {
		return nil, UsageError{err}
	}
	head.In = a.Features()
	return models.CNNEncoder{CNN: a, Head: head}, nil
}

// buildModel makes the model and the views function of c for the data.
func buildModel(c Config, data *dataset) (models.Model, ViewsFn, error) {
	if c.Model == "particle" {
		return models.Particle{N: data.n, K: c.LatentDim}, nil, nil
	}
	var head arch.Head
	if c.HeadDim > 0 {
		head = arch.Head{Hidden: c.HeadHidden, Out: c.HeadDim}
	}
	var model models.Model
	switch c.Model {
	case "cnn", "resnet18":
		m, err := convModel(c, data, head)
		if err != nil {
			return nil, nil, err
		}
		model = m
	default:
		a := arch.MLP{In: data.size(), Width: c.Width, Depth: c.Depth, Out: c.LatentDim, Activation: c.Activation,
			Scaling: c.Scaling, Trainable: c.Trainable, Normalize: c.Normalize}
		if err := a.Validate(); err != nil {
			return nil, nil, UsageError{err}
		}
		head.In = c.LatentDim
		model = models.Encoder{MLP: a, Head: head}
		if data.isImages() {
			model = models.Flat{Model: model}
		}
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
	return model, func(rng, x *graph.Node) (*graph.Node, *graph.Node) {
		rng, v1, v2 := pl.Views(rng, x)
		return rng, graph.Concatenate([]*graph.Node{v1, v2}, 0)
	}, nil
}

// batchTensor gathers the examples idx: their values [N, dims…], or for the particle model their indices [N].
func batchTensor(model string, data *dataset, idx []int, dt dtypes.DType) *tensors.Tensor {
	if model == "particle" {
		v := make([]int32, len(idx))
		for i, j := range idx {
			v[i] = int32(j)
		}
		return tensors.FromFlatDataAndDimensions(v, len(idx))
	}
	v := make([]float32, len(idx)*data.size())
	data.fill(idx, v)
	dims := append([]int{len(idx)}, data.dims...)
	if dt == dtypes.Float64 {
		v64 := make([]float64, len(v))
		for i, x := range v {
			v64[i] = float64(x)
		}
		return tensors.FromFlatDataAndDimensions(v64, dims...)
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}
