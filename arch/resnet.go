package arch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Stems of ResNet18.
const (
	StemCIFAR    = "cifar"    // 3×3 convolution, stride 1, no max-pool (SimCLR's CIFAR-10 variant, Chen et al. 2020, App. B.9)
	StemImageNet = "imagenet" // 7×7 convolution, stride 2, then a 3×3 max-pool with stride 2 (He et al. 2016)
)

// Stems lists the valid stem names.
var Stems = []string{StemCIFAR, StemImageNet}

// DefaultResNetWidth is the channel count w of the first stage of a standard ResNet-18.
const DefaultResNetWidth = 64

// ResNet18 describes the ResNet-18 encoder (He et al. 2016, Table 1) on images of H×W×C: a stem, then four
// stages of two basic blocks with w, 2w, 4w, 8w channels, the first block of stages 2–4 with stride 2, and a
// global average pool, so the features have 8w dimensions. A basic block is
//
//	y = relu( bn_2(conv3×3(relu(bn_1(conv3×3_s(x))))) + shortcut(x) )
//
// where the shortcut is x itself, or bn(conv1×1_s(x)) when the stride or the channel count changes
// (torchvision's option B). Every convolution has no bias and is followed by batch normalisation.
// Convolutions pad by ⌊k/2⌋ ("same" at stride 1).
type ResNet18 struct {
	H, W, C int
	Stem    string // one of Stems
	Width   int    // w; 0 means DefaultResNetWidth
}

// Block describes one basic block of a ResNet.
type Block struct {
	Name       string // "block_<stage>_<index>", stages counted from 1 as torchvision's layer1…layer4
	In, Out    int    // channels
	Stride     int
	Projection bool // the shortcut is a 1×1 convolution with batch norm
}

// width returns w, applying the default.
func (a ResNet18) width() int {
	if a.Width == 0 {
		return DefaultResNetWidth
	}
	return a.Width
}

// Validate reports the first invalid field.
func (a ResNet18) Validate() error {
	switch {
	case a.H < 1 || a.W < 1 || a.C < 1:
		return fmt.Errorf("arch: ResNet18 image size must be ≥ 1, got %d×%d×%d", a.H, a.W, a.C)
	case !slices.Contains(Stems, a.Stem):
		return fmt.Errorf("arch: ResNet18 stem must be one of %v, got %q", Stems, a.Stem)
	case a.Width < 0:
		return fmt.Errorf("arch: ResNet18 width must be ≥ 1, got %d", a.Width)
	}
	return nil
}

// StemKernel returns the stem convolution's kernel size and stride, and whether a max-pool follows it.
func (a ResNet18) StemKernel() (k, stride int, pool bool) {
	if a.Stem == StemImageNet {
		return 7, 2, true
	}
	return 3, 1, false
}

// Blocks lists the eight basic blocks in order.
func (a ResNet18) Blocks() []Block {
	w := a.width()
	var bs []Block
	in := w
	for s, out := range []int{w, 2 * w, 4 * w, 8 * w} {
		for i := range 2 {
			stride := 1
			if i == 0 && s > 0 {
				stride = 2
			}
			bs = append(bs, Block{Name: fmt.Sprintf("block_%d_%d", s+1, i), In: in, Out: out, Stride: stride,
				Projection: stride != 1 || in != out})
			in = out
		}
	}
	return bs
}

// Features is the dimension of the encoder's output, 8w.
func (a ResNet18) Features() int { return 8 * a.width() }

// BatchNormParams lists the four parameters of the batch norm named prefix with c channels: the trainable
// "scale" γ and "bias" β, and the non-trainable "running_mean" and "running_var" the training step updates.
func BatchNormParams(prefix string, c int) []Param {
	return []Param{
		{Name: prefix + "/scale", Dims: []int{c}, Trainable: true},
		{Name: prefix + "/bias", Dims: []int{c}, Trainable: true},
		{Name: prefix + "/running_mean", Dims: []int{c}, Statistic: true},
		{Name: prefix + "/running_var", Dims: []int{c}, Statistic: true},
	}
}

// Params lists the parameters in order: "stem/conv/weights" [k, k, C, w] and "stem/bn/…", then for each block
// "conv_1/weights", "bn_1/…", "conv_2/weights", "bn_2/…" and, with a projection, "shortcut/conv/weights"
// [1, 1, In, Out] and "shortcut/bn/…", all prefixed by the block's name. Convolution weights are
// [kh, kw, C_in, C_out].
func (a ResNet18) Params() []Param {
	k, _, _ := a.StemKernel()
	w := a.width()
	ps := []Param{{Name: "stem/conv/weights", Dims: []int{k, k, a.C, w}, Trainable: true}}
	ps = append(ps, BatchNormParams("stem/bn", w)...)
	for _, b := range a.Blocks() {
		ps = append(ps, Param{Name: b.Name + "/conv_1/weights", Dims: []int{3, 3, b.In, b.Out}, Trainable: true})
		ps = append(ps, BatchNormParams(b.Name+"/bn_1", b.Out)...)
		ps = append(ps, Param{Name: b.Name + "/conv_2/weights", Dims: []int{3, 3, b.Out, b.Out}, Trainable: true})
		ps = append(ps, BatchNormParams(b.Name+"/bn_2", b.Out)...)
		if b.Projection {
			ps = append(ps, Param{Name: b.Name + "/shortcut/conv/weights", Dims: []int{1, 1, b.In, b.Out}, Trainable: true})
			ps = append(ps, BatchNormParams(b.Name+"/shortcut/bn", b.Out)...)
		}
	}
	return ps
}

// Init draws the initial parameters from seed, in the order of Params. Convolution weights are He-normal in
// torchvision's form, N(0, 2/fan_out) with fan_out = kh·kw·C_out; batch norms start as the identity: scale 1,
// bias 0, running mean 0, running variance 1.
func (a ResNet18) Init(seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 0x7e5))
	ps := a.Params()
	out := make([][]float64, len(ps))
	for i, p := range ps {
		switch {
		case len(p.Dims) == 4:
			fanOut := p.Dims[0] * p.Dims[1] * p.Dims[3]
			out[i] = Normal(r, p.Size(), math.Sqrt(2/float64(fanOut)))
		case strings.HasSuffix(p.Name, "/scale"), strings.HasSuffix(p.Name, "/running_var"):
			out[i] = ones(p.Size())
		default:
			out[i] = make([]float64, p.Size())
		}
	}
	return out
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}
