package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/arch"
)

// trainableCount counts the scalars of the trainable parameters of m.
func trainableCount(ps []arch.Param) (trainable, all int) {
	for _, p := range ps {
		all += p.Size()
		if p.Trainable {
			trainable += p.Size()
		}
	}
	return trainable, all
}

// TestResNet18ParamCount pins ResNet-18's size against torchvision's resnet18, whose 11,689,512 parameters
// include the 512·1000 + 1000 = 513,000 of its classifier: without it, 11,176,512 trainable values (convolution
// weights without biases, batch-norm γ and β). They are, with w = 64,
//
//	stem      7·7·3·w = 9,408 (ImageNet) or 3·3·3·w = 1,728 (CIFAR), plus 2w = 128 for its batch norm
//	stage s   channels c_s = w·2^(s−1), input c_{s−1}: 3·3·c_{s−1}·c_s + 3·3·c_s·c_s + 2·2c_s (two convs and
//	          batch norms), the second block 2·(3·3·c_s·c_s + 2c_s), and for s > 1 the projection
//	          c_{s−1}·c_s + 2c_s:
//	          s=1: 147,968   s=2: 525,568   s=3: 2,099,712   s=4: 8,393,728
//
// so 9,408 + 128 + 11,166,976 = 11,176,512 (ImageNet stem) and 11,168,832 with the CIFAR stem (7,680 fewer).
// The running means and variances (2 per batch-norm channel, 9,600 values) are not trainable.
func TestResNet18ParamCount(t *testing.T) {
	stage := func(in, c int) int {
		n := 9*in*c + 9*c*c + 2*2*c + 2*(9*c*c+2*c)
		if in != c {
			n += in*c + 2*c
		}
		return n
	}
	for s, want := range []int{147_968, 525_568, 2_099_712, 8_393_728} {
		c := 64 << s
		in := max(64, c/2)
		if got := stage(in, c); got != want {
			t.Fatalf("stage %d formula gives %d, want %d", s+1, got, want)
		}
	}
	for _, c := range []struct {
		stem string
		want int
	}{{arch.StemImageNet, 11_176_512}, {arch.StemCIFAR, 11_168_832}} {
		a := arch.ResNet18{H: 32, W: 32, C: 3, Stem: c.stem}
		trainable, all := trainableCount(a.Params())
		if trainable != c.want {
			t.Errorf("%s stem: %d trainable parameters, want %d", c.stem, trainable, c.want)
		}
		if stats := all - trainable; stats != 9_600 {
			t.Errorf("%s stem: %d running-statistic values, want 9,600 (= 2·Σ batch-norm channels)", c.stem, stats)
		}
		if f := a.Features(); f != 512 {
			t.Errorf("features %d, want 512", f)
		}
	}
}

// TestResNet18Names: names are unique, snake_case and follow the documented pattern.
func TestResNet18Names(t *testing.T) {
	ps := arch.ResNet18{H: 32, W: 32, C: 3, Stem: arch.StemCIFAR, Width: 8}.Params()
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Name] || strings.ToLower(p.Name) != p.Name || strings.Contains(p.Name, " ") {
			t.Errorf("bad or repeated name %q", p.Name)
		}
		seen[p.Name] = true
		if running := strings.Contains(p.Name, "/running_"); running == p.Trainable {
			t.Errorf("%s: trainable=%v", p.Name, p.Trainable)
		}
	}
	for _, name := range []string{"stem/conv/weights", "block_1_0/bn_1/scale", "block_2_0/shortcut/conv/weights", "block_4_1/bn_2/running_var"} {
		if !seen[name] {
			t.Errorf("missing %q", name)
		}
	}
	if seen["block_1_0/shortcut/conv/weights"] {
		t.Error("block_1_0 keeps its channels and stride: it has no projection")
	}
}

// TestResNet18Forward runs a small ResNet-18 (both stems) in training and evaluation mode and checks the
// output shapes, that the features are finite and that training returns one statistic per running average.
func TestResNet18Forward(t *testing.T) {
	for _, stem := range arch.Stems {
		enc := Encoder{Body: ResNetBody{ResNet18: arch.ResNet18{H: 32, W: 32, C: 3, Stem: stem, Width: 4}}, Head: arch.Head{In: 32, Hidden: 16, Out: 8}}
		specs := enc.Params()
		args := []any{tensorOf(dtypes.Float32, randn(newRand(1), 4*32*32*3), 4, 32, 32, 3)}
		for i, v := range enc.Init(2) {
			args = append(args, tensorOf(dtypes.Float32, v, specs[i].Dims...))
		}
		nStats := 0
		outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			tr := enc.Forward(in[1:], in[0], true)
			ev := enc.Forward(in[1:], in[0], false)
			nStats = len(tr.Stats)
			return []*graph.Node{tr.Features, tr.Z, ev.Z}
		}, args...)
		if err != nil {
			t.Fatal(err)
		}
		if nStats != 2*20 {
			t.Errorf("%s: %d statistics, want 40 (20 batch norms)", stem, nStats)
		}
		for i, want := range [][]int{{4, 32}, {4, 8}, {4, 8}} {
			if !slicesEqual(outs[i].Shape().Dimensions, want) {
				t.Errorf("%s: output %d has shape %s, want %v", stem, i, outs[i].Shape(), want)
			}
			for _, v := range flat(outs[i]) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s: output %d not finite", stem, i)
				}
			}
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
