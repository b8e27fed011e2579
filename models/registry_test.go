package models

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/arch"
)

// spec is a full set of model settings with a head, as simclr train resolves them on images.
func spec() Spec {
	return Spec{Width: 8, Depth: 1, Activation: arch.ReLU, Scaling: arch.ScalingNTK, Trainable: arch.TrainBoth,
		Normalize: true, LatentDim: 4, HeadDim: 3, HeadHidden: 5, Stem: arch.StemCIFAR, Examples: 10}
}

// TestRegistryBuild builds every registered model and compares it with the encoder written out by hand:
// body, head on the body's features, settings passed through.
func TestRegistryBuild(t *testing.T) {
	s := spec()
	head := func(in int) arch.Head { return arch.Head{In: in, Hidden: 5, Out: 3} }
	mlp := arch.MLP{In: 8 * 8 * 3, Width: 8, Depth: 1, Out: 4, Activation: arch.ReLU, Scaling: arch.ScalingNTK,
		Trainable: arch.TrainBoth, Normalize: true}
	resnet := arch.ResNet18{H: 8, W: 8, C: 3, Stem: arch.StemCIFAR, Width: 8}
	want := map[string]Model{
		"onehidden": Encoder{Body: MLPBody{mlp}, Head: head(4)},
		"mlp":       Encoder{Body: MLPBody{mlp}, Head: head(4)},
		"particle":  Particle{N: 10, K: 4},
		"cnn": Encoder{Body: CNNBody{CNN: arch.CNN{H: 8, W: 8, C: 3, Channels: arch.DefaultCNNChannels, Dense: 8}},
			Head: head(8)},
		"resnet18": Encoder{Body: ResNetBody{ResNet18: resnet}, Head: head(64)},
	}
	if !slices.Equal(Names, []string{"onehidden", "mlp", "particle", "cnn", "resnet18"}) {
		t.Errorf("Names = %v", Names)
	}
	for _, name := range Names {
		e, ok := Lookup(name)
		if !ok || e.Name != name || e.Summary == "" || e.Width < 1 || e.Input == 0 || !(e.OnPoints || e.OnImages) {
			t.Errorf("Lookup(%s) = %+v, %v", name, e, ok)
			continue
		}
		m, err := e.Build(s, []int{8, 8, 3})
		if err != nil || !reflect.DeepEqual(m, want[name]) {
			t.Errorf("%s: Build = %+v, %v; want %+v", name, m, err, want[name])
		}
	}
	// No head when HeadDim is 0; vectors [d] for the MLPs.
	s.HeadDim = 0
	e, _ := Lookup("mlp")
	m, err := e.Build(s, []int{2})
	mlp.In = 2
	if w := (Encoder{Body: MLPBody{mlp}}); err != nil || !reflect.DeepEqual(m, w) {
		t.Errorf("mlp on points without a head: %+v, %v; want %+v", m, err, w)
	}
	if _, ok := Lookup("vit"); ok {
		t.Error(`Lookup("vit") found a model`)
	}
}

// TestRegistryRefuses: errors name the flag to change.
func TestRegistryRefuses(t *testing.T) {
	build := func(name string, mod func(*Spec), example []int) error {
		s := spec()
		mod(&s)
		e, _ := Lookup(name)
		if err := e.Validate(s); err != nil {
			return err
		}
		_, err := e.Build(s, example)
		return err
	}
	img := []int{8, 8, 3}
	for _, c := range []struct {
		name    string
		mod     func(*Spec)
		example []int
		want    string
	}{
		{"onehidden", func(s *Spec) { s.Depth = 2 }, img, "--depth must be 1"},
		{"mlp", func(s *Spec) { s.Channels = []int{4} }, img, "--channels is for --model cnn, got --model mlp"},
		{"cnn", func(*Spec) {}, []int{2}, "cnn reads images [H, W, C]"},
		{"resnet18", func(s *Spec) { s.Stem = "tiny" }, img, "stem"},
		{"cnn", func(s *Spec) { s.HeadHidden = 0 }, img, "--head-dim, --head-hidden"},
		{"particle", func(s *Spec) { s.Examples = 0 }, []int{2}, "particle needs ≥ 1 example"},
	} {
		if err := build(c.name, c.mod, c.example); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", c.name, err, c.want)
		}
	}
	e, _ := Lookup("cnn")
	s := spec()
	s.Channels = []int{4, 6}
	if err := e.Validate(s); err != nil {
		t.Errorf("cnn refuses --channels: %v", err)
	}
}

// TestInputString names the kinds of input in messages.
func TestInputString(t *testing.T) {
	for in, want := range map[Input]string{Vectors: "vectors", Images: "images", Indices: "example indices", 0: "Input(0)"} {
		if got := in.String(); got != want {
			t.Errorf("%d: %q, want %q", int(in), got, want)
		}
	}
}
