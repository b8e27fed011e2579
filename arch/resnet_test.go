package arch

import (
	"math"
	"strings"
	"testing"
)

// TestConvInit: Init gives one value per parameter scalar, is a function of the seed, starts batch norms at
// the identity (scale 1, bias 0, running mean 0, running variance 1), zeroes biases, and draws convolution
// weights with the documented standard deviation (He-normal: fan-out for ResNet-18, fan-in for the CNN).
func TestConvInit(t *testing.T) {
	resnet := ResNet18{H: 32, W: 32, C: 3, Stem: StemCIFAR, Width: 16}
	cnn := CNN{H: 28, W: 28, C: 1, Channels: DefaultCNNChannels, Dense: DefaultCNNDense}
	for _, c := range []struct {
		name   string
		params []Param
		init   func(uint64) [][]float64
		std    func(Param) float64
	}{
		{"resnet18", resnet.Params(), resnet.Init, func(p Param) float64 { return math.Sqrt(2 / float64(p.Dims[0]*p.Dims[1]*p.Dims[3])) }},
		{"cnn", cnn.Params(), cnn.Init, func(p Param) float64 { return math.Sqrt(2 / float64(p.Size()/p.Dims[len(p.Dims)-1])) }},
	} {
		vals, again := c.init(1), c.init(1)
		for i, p := range c.params {
			v := vals[i]
			if len(v) != p.Size() {
				t.Fatalf("%s: %s has %d values, want %d", c.name, p.Name, len(v), p.Size())
			}
			if v[0] != again[i][0] || v[len(v)-1] != again[i][len(v)-1] {
				t.Errorf("%s: %s differs between two inits with the same seed", c.name, p.Name)
			}
			want := math.NaN() // constant value, or NaN for random
			switch {
			case strings.HasSuffix(p.Name, "/scale"), strings.HasSuffix(p.Name, "/running_var"):
				want = 1
			case len(p.Dims) == 1:
				want = 0
			}
			if !math.IsNaN(want) {
				for _, x := range v {
					if x != want {
						t.Fatalf("%s: %s holds %g, want %g", c.name, p.Name, x, want)
					}
				}
				continue
			}
			if len(v) < 2000 {
				continue // too few draws for a standard deviation check
			}
			var ss float64
			for _, x := range v {
				ss += x * x
			}
			if got, w := math.Sqrt(ss/float64(len(v))), c.std(p); math.Abs(got/w-1) > 0.1 {
				t.Errorf("%s: %s has standard deviation %.4g, want %.4g", c.name, p.Name, got, w)
			}
		}
	}
}

// TestConvValidate: the descriptions reject what they cannot build, naming the field.
func TestConvValidate(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{ResNet18{H: 32, W: 32, C: 3, Stem: "vgg"}.Validate(), "stem"},
		{ResNet18{H: 0, W: 32, C: 3, Stem: StemCIFAR}.Validate(), "image size"},
		{ResNet18{H: 32, W: 32, C: 3, Stem: StemCIFAR, Width: -1}.Validate(), "width"},
		{CNN{H: 28, W: 28, C: 1, Dense: 8}.Validate(), "convolution"},
		{CNN{H: 28, W: 28, C: 1, Channels: []int{4, 0}, Dense: 8}.Validate(), "channels"},
		{CNN{H: 28, W: 28, C: 1, Channels: []int{4}}.Validate(), "dense"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want one about %q", c.err, c.want)
		}
	}
	if err := (ResNet18{H: 32, W: 32, C: 3, Stem: StemImageNet}).Validate(); err != nil {
		t.Error(err)
	}
}
