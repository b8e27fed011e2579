package augment_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/datasets/augment/augmenttest"
	"github.com/gosimclr/gosimclr/internal/backendtest"
	"github.com/gosimclr/gosimclr/ref"
)

// imageBackend is the backend of the pass under way (TestMain in vector_test.go runs every test on each).
func imageBackend() compute.Backend { return backendtest.Backend() }

// imageDims is a batch shape [B, H, W, C].
type imageDims struct{ b, h, w, c int }

func (d imageDims) String() string { return fmt.Sprintf("%dx%dx%dx%d", d.b, d.h, d.w, d.c) }

// testImages returns d.b images of smooth gradients plus noise in [0, 1], different per example and channel.
func testImages(d imageDims, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, d.b*d.h*d.w*d.c)
	for i := range x {
		px := i / d.c
		y, col := (px/d.w)%d.h, px%d.w
		v := 0.5 + 0.3*math.Sin(float64(y)/3+float64(i%d.c)) + 0.15*math.Cos(float64(col)/2) + 0.2*(r.Float64()-0.5)
		x[i] = float32(min(max(v, 0), 1))
	}
	return x
}

// imageRun is one execution of an augmentation graph: the output, its height and width, the parameters in
// PipelineParams.Nodes order and the advanced RNG state.
type imageRun struct {
	out    []float32
	oh, ow int
	params [][]float32
	p      augment.PipelineParams
	rng    *tensors.Tensor
}

// runImages executes fn on images x of dims d with RNG state rng, fetching the output and every parameter tensor.
func runImages(t testing.TB, d imageDims, x []float32, rng *tensors.Tensor,
	fn func(rng, images *graph.Node) (*graph.Node, *graph.Node, augment.PipelineParams)) imageRun {
	t.Helper()
	var r imageRun
	exec := graph.MustNewExec(imageBackend(), func(images, rng *graph.Node) []*graph.Node {
		out, newRNG, p := fn(rng, images)
		r.p, r.oh, r.ow = p, out.Shape().Dimensions[1], out.Shape().Dimensions[2]
		return append([]*graph.Node{out, newRNG}, p.Nodes()...)
	})
	defer exec.Finalize()
	outs := exec.MustExec(tensors.FromFlatDataAndDimensions(x, d.b, d.h, d.w, d.c), rng)
	r.out, r.rng = tensors.MustCopyFlatData[float32](outs[0]), outs[1]
	for _, o := range outs[2:] {
		r.params = append(r.params, tensors.MustCopyFlatData[float32](o))
	}
	return r
}

// runPipeline samples pl with the RNG state of seed and applies it.
func runPipeline(t testing.TB, pl augment.Pipeline, d imageDims, x []float32, seed int64) imageRun {
	return runImages(t, d, x, imageSeed(t, seed), func(rng, images *graph.Node) (*graph.Node, *graph.Node, augment.PipelineParams) {
		rng, p := pl.Sample(rng, d.b, d.h, d.w, d.c)
		return pl.Apply(images, p), rng, p
	})
}

// imageSeed is the RNG state tensor of a seed.
func imageSeed(t testing.TB, seed int64) *tensors.Tensor {
	s, err := graph.RNGStateFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// refParams is the ref twin of r's parameters (r.params in PipelineParams.Nodes order).
func refParams(r imageRun) ref.ImagePipelineParams { return augmenttest.RefParams(r.p, r.params) }

// maxDiff returns max_i |a_i − b_i|, or +Inf if the lengths differ.
func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// checkReplay runs pl on d and compares the graph's views with ref.ImagePipeline's replay within 1e-5.
func checkReplay(t *testing.T, pl augment.Pipeline, d imageDims, seed int64) {
	t.Helper()
	x := testImages(d, uint64(seed))
	r := runPipeline(t, pl, d, x, seed)
	want, oh, ow := ref.ImagePipeline(x, d.b, d.h, d.w, d.c, refParams(r))
	if oh != r.oh || ow != r.ow {
		t.Fatalf("%s on %v: graph output %d×%d, ref %d×%d", pl.Name, d, r.oh, r.ow, oh, ow)
	}
	if diff := maxDiff(r.out, want); diff > 1e-5 {
		t.Errorf("%s on %v: graph and ref differ by %g", pl.Name, d, diff)
	}
	for i, v := range r.out {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("%s on %v: output[%d] = %g outside [0, 1]", pl.Name, d, i, v)
		}
	}
}

// onlyOps are single-op pipelines, each op always on (probability 1) where it has a probability.
var onlyOps = []augment.Pipeline{
	{Name: "crop", Crop: augment.CIFAR().Crop},
	{Name: "crop-resize",
		Crop: augment.CropConfig{Scale: [2]float64{0.2, 1}, Ratio: [2]float64{0.5, 2}, OutH: 12, OutW: 17}},
	{Name: "zoom", Crop: augment.MNIST().Crop},
	{Name: "zoom-random", Crop: augment.CropConfig{Scale: [2]float64{0.5, 2}, Ratio: [2]float64{0.8, 1.25}}},
	{Name: "flip", Flip: 0.5},
	{Name: "jitter", Jitter: augment.JitterConfig{Prob: 1, Brightness: 0.8, Contrast: 0.8, Saturation: 0.8, Hue: 0.5}},
	{Name: "jitter-p", Jitter: augment.CIFAR().Jitter},
	{Name: "gray", Gray: 0.5},
	{Name: "blur", Blur: augment.BlurConfig{Prob: 0.7, Sigma: [2]float64{0.1, 2}}},
	{Name: "blur-5", Blur: augment.BlurConfig{Prob: 1, Sigma: [2]float64{0.5, 3}, Size: 5}},
	{Name: "noise", Noise: 0.1},
}

// TestImageOpReplay checks each op alone against its ref twin on square, non-square, RGB and gray batches.
func TestImageOpReplay(t *testing.T) {
	for _, pl := range onlyOps {
		for _, d := range []imageDims{{8, 32, 32, 3}, {5, 20, 27, 3}, {6, 28, 28, 1}} {
			t.Run(pl.Name+"/"+d.String(), func(t *testing.T) { checkReplay(t, pl, d, 3) })
		}
	}
}

// TestImagePresetReplay checks every preset against ref.ImagePipeline at its data set's image size.
func TestImagePresetReplay(t *testing.T) {
	for _, c := range []struct {
		name string
		d    imageDims
	}{
		{"cifar", imageDims{16, 32, 32, 3}}, {"imagenet", imageDims{2, 224, 224, 3}}, {"stl10", imageDims{4, 96, 96, 3}},
		{"mnist", imageDims{16, 28, 28, 1}}, {"digits", imageDims{16, 28, 28, 1}}, {"fashion", imageDims{16, 28, 28, 1}},
		{"none", imageDims{4, 32, 32, 3}},
	} {
		pl, err := augment.Preset(c.name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(c.name, func(t *testing.T) {
			seeds := int64(3)
			if backendtest.XLA() { // each seed compiles the pipeline again (~1 s on 2 cores): one on XLA
				seeds = 1
			}
			for seed := range seeds {
				checkReplay(t, pl, c.d, seed)
			}
		})
	}
}

// TestImageSameSeed checks that a seed fixes the views, that another seed changes them, and that Views draws two
// different views from one state.
func TestImageSameSeed(t *testing.T) {
	d := imageDims{8, 32, 32, 3}
	x := testImages(d, 1)
	views := func(seed int64) (v1, v2 []float32) {
		r := runImages(t, d, x, imageSeed(t, seed), func(rng, images *graph.Node) (*graph.Node, *graph.Node, augment.PipelineParams) {
			rng, a, b := augment.ImageNet().Views(rng, images)
			return graph.Concatenate([]*graph.Node{a, b}, 0), rng, augment.PipelineParams{}
		})
		return r.out[:len(x)], r.out[len(x):]
	}
	a1, a2 := views(42)
	b1, b2 := views(42)
	c1, _ := views(43)
	if maxDiff(a1, b1) != 0 || maxDiff(a2, b2) != 0 {
		t.Errorf("seed 42 twice: views differ")
	}
	if maxDiff(a1, c1) == 0 {
		t.Errorf("seeds 42 and 43 give the same view 1")
	}
	if maxDiff(a1, a2) == 0 {
		t.Errorf("Views: view 1 = view 2")
	}
}

// TestImageIdentities checks closed forms: a full crop at the input size, flipping twice, unit jitter factors,
// unapplied blur and gray of gray images give back the input.
func TestImageIdentities(t *testing.T) {
	d := imageDims{6, 24, 24, 3}
	x := testImages(d, 5)
	full := augment.CropConfig{Scale: [2]float64{1, 1}, Ratio: [2]float64{1, 1}}
	for name, c := range map[string]struct {
		fn  func(rng, images *graph.Node) *graph.Node
		tol float64
	}{
		"crop scale 1 ratio 1": {func(rng, x *graph.Node) *graph.Node {
			_, p := augment.SampleCrop(rng, d.b, d.h, d.w, full)
			return augment.Crop(x, p)
		}, 0},
		"flip twice": {func(rng, x *graph.Node) *graph.Node {
			_, p := augment.SampleFlip(rng, d.b, 0.5)
			return augment.Flip(augment.Flip(x, p), p)
		}, 0},
		"brightness 1": {func(rng, x *graph.Node) *graph.Node {
			_, p := augment.SampleJitter(rng, d.b, augment.JitterConfig{Prob: 1, Contrast: 0.5, Saturation: 0.5, Hue: 0.3})
			p.Contrast, p.Saturation, p.Hue = p.Brightness, p.Brightness, graph.ZerosLike(p.Hue) // all 1, shift 0
			return augment.Jitter(x, p)
		}, 1e-6},
		"jitter off": {func(rng, x *graph.Node) *graph.Node {
			_, p := augment.SampleJitter(rng, d.b, augment.JitterConfig{Prob: 0, Brightness: 0.8, Contrast: 0.8, Hue: 0.5})
			return augment.Jitter(x, p)
		}, 0},
		"blur off": {func(rng, x *graph.Node) *graph.Node {
			_, p := augment.SampleBlur(rng, d.b, d.h, d.w, augment.BlurConfig{Prob: 0, Sigma: [2]float64{1, 2}})
			return augment.Blur(x, p)
		}, 0},
		"gray of gray": {func(rng, x *graph.Node) *graph.Node {
			_, p := augment.SampleGrayscale(rng, d.b, 1)
			return augment.Grayscale(augment.Grayscale(x, p), p)
		}, -1},
	} {
		r := runImages(t, d, x, imageSeed(t, 9), func(rng, images *graph.Node) (*graph.Node, *graph.Node, augment.PipelineParams) {
			return c.fn(rng, images), rng, augment.PipelineParams{}
		})
		want := x
		if c.tol < 0 { // idempotent: compare with gray applied once
			want, c.tol = ref.ImageGrayscale(nil, x, d.b, d.h, d.w, d.c, ref.ImageGrayscaleParams{Apply: ones(d.b)}), 1e-6
		}
		if diff := maxDiff(r.out, want); diff > c.tol {
			t.Errorf("%s: differs from the input by %g, want ≤ %g", name, diff, c.tol)
		}
	}
}

// ones returns n ones.
func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}
