package models

import (
	"fmt"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
)

// registry lists every model simclr train can build; adding a model is adding an entry here.
var registry = []Entry{
	{Name: "onehidden", Summary: "the paper's network, one hidden layer: x → σ(xW+b) → α·hA (an mlp of --depth 1)",
		Input: Vectors, OnPoints: true, OnImages: true, Width: 256, Check: oneHidden, Build: buildMLP},
	{Name: "mlp", Summary: "fully connected, --depth hidden layers of --width, output --latent-dim",
		Input: Vectors, OnPoints: true, OnImages: true, Width: 256, Build: buildMLP},
	{Name: "particle", Summary: "no network: one free point per example on the sphere (the paper's vanilla gradient descent)",
		Input: Indices, OnPoints: true, Width: 256, Build: buildParticle},
	{Name: "cnn", Summary: "small CNN: 3×3 convolution + 2×2 max-pool stages of --channels, then dense --width",
		Input: Images, OnImages: true, Width: arch.DefaultCNNDense, Channels: true, Build: buildCNN},
	{Name: "resnet18", Summary: "ResNet-18 with --stem, base width --width (features 8·width)",
		Input: Images, OnImages: true, Width: 64, Build: buildResNet},
}

// Names lists the models of the registry, in its order.
var Names = func() []string {
	var ns []string
	for _, e := range registry {
		ns = append(ns, e.Name)
	}
	return ns
}()

// Lookup returns the registry's entry for the model name.
func Lookup(name string) (Entry, bool) {
	for _, e := range registry {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Entry is one model of the registry.
type Entry struct {
	Name    string // the --model value
	Summary string // one line for --help
	Input   Input  // what Forward reads
	// OnPoints and OnImages say which data sets the model trains on: point clouds, images.
	OnPoints, OnImages bool
	Width              int  // the default --width
	Channels           bool // whether it reads Spec.Channels (--channels)
	// Check, if not nil, refuses settings before the data is known.
	Check func(s Spec) error
	// Build makes the model for examples of shape example: [d] for points, [H, W, C] for images.
	Build func(s Spec, example []int) (Model, error)
}

// Validate reports the first setting of s that the model refuses before the data is known, naming the flag.
func (e Entry) Validate(s Spec) error {
	if len(s.Channels) > 0 && !e.Channels {
		var takers []string
		for _, r := range registry {
			if r.Channels {
				takers = append(takers, r.Name)
			}
		}
		return fmt.Errorf("--channels is for --model %s, got --model %s", strings.Join(takers, " or "), e.Name)
	}
	if e.Check != nil {
		return e.Check(s)
	}
	return nil
}

// Input is the kind of batch a model's Forward reads.
type Input int

const (
	Vectors Input = iota + 1 // x [B, d]: points, or images that the model flattens to [B, H·W·C]
	Images                   // x [B, H, W, C]
	Indices                  // x [B] int32: the examples' indices; the model holds a parameter row per example
)

func (in Input) String() string {
	switch in {
	case Vectors:
		return "vectors"
	case Images:
		return "images"
	case Indices:
		return "example indices"
	}
	return fmt.Sprintf("Input(%d)", int(in))
}

// Spec holds a model's settings. Each field is a flag of simclr train, which the errors of Build name.
type Spec struct {
	Width      int    // --width: hidden width m (mlp), dense features (cnn), base width (resnet18)
	Depth      int    // --depth: hidden layers L of the MLPs
	Activation string // --activation: σ of the MLPs (arch.Activations)
	Scaling    string // --scaling: output multiplier of the MLPs (arch.Scalings)
	Trainable  string // --trainable: which MLP layers train (arch.Trainables)
	Normalize  bool   // --normalize: the MLPs' output onto the unit sphere
	LatentDim  int    // --latent-dim: k, the MLPs' output and the particles' dimension
	HeadDim    int    // --head-dim: the projection head's output (0: no head)
	HeadHidden int    // --head-hidden: the projection head's hidden width
	Channels   []int  // --channels: the cnn's stages (empty: arch.DefaultCNNChannels)
	Stem       string // --stem: resnet18's first layers (arch.Stems)
	Examples   int    // N, the number of training examples: the particle model holds one point each
}

func oneHidden(s Spec) error {
	if s.Depth != 1 {
		return fmt.Errorf("--depth must be 1 for --model onehidden (use --model mlp for deeper networks), got %d", s.Depth)
	}
	return nil
}

// withHead puts the projection head of s (none when s.HeadDim is 0) on body.
func withHead(body Body, s Spec) (Model, error) {
	var head arch.Head
	if s.HeadDim > 0 {
		head = arch.Head{In: body.Features(), Hidden: s.HeadHidden, Out: s.HeadDim}
		if err := head.Validate(); err != nil {
			return nil, fmt.Errorf("--head-dim, --head-hidden: %w", err)
		}
	}
	return Encoder{Body: body, Head: head}, nil
}

func buildMLP(s Spec, example []int) (Model, error) {
	in := 1
	for _, d := range example {
		in *= d
	}
	a := arch.MLP{In: in, Width: s.Width, Depth: s.Depth, Out: s.LatentDim, Activation: s.Activation,
		Scaling: s.Scaling, Trainable: s.Trainable, Normalize: s.Normalize}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return withHead(MLPBody{a}, s)
}

func buildParticle(s Spec, _ []int) (Model, error) {
	if s.Examples < 1 || s.LatentDim < 1 {
		return nil, fmt.Errorf("models: particle needs ≥ 1 example and --latent-dim ≥ 1, got %d and %d", s.Examples, s.LatentDim)
	}
	return Particle{N: s.Examples, K: s.LatentDim}, nil
}

// image splits an example shape [H, W, C] for the image model name.
func image(name string, example []int) (h, w, c int, err error) {
	if len(example) != 3 {
		return 0, 0, 0, fmt.Errorf("models: %s reads images [H, W, C], got examples of shape %v", name, example)
	}
	return example[0], example[1], example[2], nil
}

func buildCNN(s Spec, example []int) (Model, error) {
	h, w, c, err := image("cnn", example)
	if err != nil {
		return nil, err
	}
	channels := s.Channels
	if len(channels) == 0 {
		channels = arch.DefaultCNNChannels
	}
	a := arch.CNN{H: h, W: w, C: c, Channels: channels, Dense: s.Width}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return withHead(CNNBody{CNN: a}, s)
}

func buildResNet(s Spec, example []int) (Model, error) {
	h, w, c, err := image("resnet18", example)
	if err != nil {
		return nil, err
	}
	a := arch.ResNet18{H: h, W: w, C: c, Stem: s.Stem, Width: s.Width}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return withHead(ResNetBody{ResNet18: a}, s)
}
