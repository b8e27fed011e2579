package augment_test

import (
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/ref"
)

// BenchmarkCIFARPreset measures Sample + Apply of the CIFAR preset on a batch of 512 32×32×3 images on the Go
// backend, in augmented images per second; compilation is timed apart.
func BenchmarkCIFARPreset(b *testing.B) {
	benchPipeline(b, augment.CIFAR(), imageDims{512, 32, 32, 3})
}

// BenchmarkMNISTPreset measures Sample + Apply of the MNIST preset (centred rescale + 5-tap blur) on 1800 28×28
// gray images, one step's views of mnist-012 (N = 900, two views each), on the Go backend.
func BenchmarkMNISTPreset(b *testing.B) {
	benchPipeline(b, augment.MNIST(), imageDims{1800, 28, 28, 1})
}

// BenchmarkImageOp measures each op alone (Sample + Apply) on a batch of 512 32×32×3 images on the Go backend.
func BenchmarkImageOp(b *testing.B) {
	for _, pl := range []augment.Pipeline{{Name: "crop", Crop: augment.CIFAR().Crop}, {Name: "flip", Flip: 0.5},
		{Name: "jitter", Jitter: augment.CIFAR().Jitter}, {Name: "gray", Gray: 0.2},
		{Name: "blur", Blur: augment.ImageNet().Blur}, {Name: "noise", Noise: 0.1}} {
		b.Run("op="+pl.Name, func(b *testing.B) { benchPipeline(b, pl, imageDims{512, 32, 32, 3}) })
	}
}

// benchPipeline reports the img/s of Sample + Apply of pl on d, with the compile time apart.
func benchPipeline(b *testing.B, pl augment.Pipeline, d imageDims) {
	exec := graph.MustNewExec(imageBackend(), func(images, rng *graph.Node) (*graph.Node, *graph.Node) {
		rng, p := pl.Sample(rng, d.b, d.h, d.w, d.c)
		return pl.Apply(images, p), rng
	})
	defer exec.Finalize()
	x := tensors.FromFlatDataAndDimensions(testImages(d, 1), d.b, d.h, d.w, d.c)
	rng := imageSeed(b, 1)
	start := time.Now()
	if _, err := exec.Compile(x.Shape(), rng.Shape()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "compile-s")
	n := 0
	for b.Loop() {
		out := exec.MustExec(x, rng)
		rng = out[1]
		n += d.b
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkImageRefCIFAR measures ref.ImagePipeline replaying the CIFAR preset on 512 32×32×3 images: the pure-Go
// baseline of BenchmarkCIFARPreset (single goroutine; the parameters are sampled once by the graph).
func BenchmarkImageRefCIFAR(b *testing.B) {
	d := imageDims{512, 32, 32, 3}
	x := testImages(d, 1)
	p := refParams(runPipeline(b, augment.CIFAR(), d, x, 1))
	b.ReportAllocs()
	for b.Loop() {
		ref.ImagePipeline(x, d.b, d.h, d.w, d.c, p)
	}
	b.ReportMetric(float64(b.N*d.b)/b.Elapsed().Seconds(), "img/s")
}
