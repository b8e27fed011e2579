package bench

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/recipe"
)

// convHead is the projection head of the convolutional workloads: features → 512 → 128.
func convHead(features int) arch.Head { return arch.Head{In: features, Hidden: 512, Out: 128} }

// convFLOPs counts a 3×3 (or k×k) convolution's multiply-adds over B images: 2·B·H'·W'·k²·Cin·Cout.
func convFLOPs(b, h, w, k, cin, cout float64) float64 { return 2 * b * h * w * k * k * cin * cout }

// CNNCase is one Adam step of the small CNN (arch defaults: conv 32, conv 64, dense 256) with the projection
// head on 2·pairs views of 28×28×1. FLOPs: forward convolutions and dense layers, backward twice that
// (weights and inputs; the first convolution has no input gradient), plus the similarity matrix.
func CNNCase(pairs int) Case {
	a := arch.CNN{H: 28, W: 28, C: 1, Channels: arch.DefaultCNNChannels, Dense: arch.DefaultCNNDense}
	head := convHead(a.Features())
	views := 2 * pairs
	b := float64(views)
	conv1 := convFLOPs(b, 28, 28, 3, 1, 32)
	conv2 := convFLOPs(b, 14, 14, 3, 32, 64)
	dense := 2 * b * (7 * 7 * 64) * 256
	headF := 2 * b * (256*512 + 512*128)
	fwd := conv1 + conv2 + dense + headF
	bwd := conv1 + 2*(conv2+dense+headF)
	sim := 4 * b * b * 128
	x := uniform(4, views*28*28)
	c := Case{Workload: "cnn", Pairs: pairs, Latent: 128, Width: a.Dense, Depth: len(a.Channels), Views: views,
		Samples: views, FLOPs: fwd + bwd + sim}
	c.GoMLX = func(be compute.Backend, o StepOptions) (func() error, error) {
		return stepperStep(be, o, models.Encoder{Body: models.CNNBody{CNN: a}, Head: head}, recipe.Adam, tensors.FromFlatDataAndDimensions(x, views, 28, 28, 1))
	}
	c.Ref = cnnRef(a, head, x, views)
	return c
}

// ResNetCase is one Adam step of ResNet-18 (CIFAR stem, width 64) with the projection head on 2·pairs views of
// 32×32×3. FLOPs are counted from the architecture: every convolution forward, twice backward (the stem has
// no input gradient), plus head and similarity matrix; batch norm and pooling are left out.
func ResNetCase(pairs, maxCPUSteps int) Case {
	a := arch.ResNet18{H: 32, W: 32, C: 3, Stem: arch.StemCIFAR, Width: 64}
	head := convHead(a.Features())
	views := 2 * pairs
	b := float64(views)
	k, stride, _ := a.StemKernel()
	hw := float64(32 / stride)
	stem := convFLOPs(b, hw, hw, float64(k), 3, 64)
	var blocks float64
	for _, bl := range a.Blocks() {
		hw /= float64(bl.Stride)
		blocks += convFLOPs(b, hw, hw, 3, float64(bl.In), float64(bl.Out)) + convFLOPs(b, hw, hw, 3, float64(bl.Out), float64(bl.Out))
		if bl.Projection {
			blocks += convFLOPs(b, hw, hw, 1, float64(bl.In), float64(bl.Out))
		}
	}
	headF := 2 * b * (512*512 + 512*128)
	x := uniform(5, views*32*32*3)
	c := Case{Workload: "resnet18", Pairs: pairs, Latent: 128, Width: 64, Depth: 18, Views: views, Samples: views,
		FLOPs: 2*stem + 3*blocks + 3*headF + 4*b*b*128, MaxCPUSteps: maxCPUSteps}
	c.GoMLX = func(be compute.Backend, o StepOptions) (func() error, error) {
		return stepperStep(be, o, models.Encoder{Body: models.ResNetBody{ResNet18: a}, Head: head}, recipe.Adam, tensors.FromFlatDataAndDimensions(x, views, 32, 32, 3))
	}
	c.Ref = resnetRef(a, head, x, views)
	return c
}
