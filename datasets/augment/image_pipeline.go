package augment

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
)

// Pipeline is a chain of image augmentations applied in SimCLR's order: random resized crop, horizontal flip,
// colour jitter, grayscale, Gaussian blur, pixel noise. An op whose probability (crop: Scale, noise: std) is zero
// is left out of the graph. The presets below give the recipes of Chen et al. (2020, Appendix A and B.9).
type Pipeline struct {
	Name   string       // preset name, for logs and config.json
	Crop   CropConfig   // the zero value: no crop
	Flip   float64      // probability of a horizontal flip
	Jitter JitterConfig // Prob 0: no colour jitter
	Gray   float64      // probability of turning an example gray
	Blur   BlurConfig   // Prob 0: no blur
	Noise  float64      // standard deviation of additive pixel noise; 0: none
}

// PipelineParams holds the sampled parameters of every op of a Pipeline; an op that is off has nil parameters.
type PipelineParams struct {
	Crop   *CropParams
	Flip   *FlipParams
	Jitter *JitterParams
	Gray   *GrayscaleParams
	Blur   *BlurParams
	Noise  *PixelNoiseParams
}

// PresetNames lists the names Preset accepts.
var PresetNames = []string{"cifar", "imagenet", "stl10", "mnist", "digits", "fashion", "none"}

// Preset returns the pipeline of a preset name (case-insensitive), one of PresetNames.
func Preset(name string) (Pipeline, error) {
	switch strings.ToLower(name) {
	case "cifar":
		return CIFAR(), nil
	case "imagenet":
		return ImageNet(), nil
	case "stl10":
		return STL10(), nil
	case "mnist":
		return MNIST(), nil
	case "digits":
		return Digits(), nil
	case "fashion":
		return Fashion(), nil
	case "none":
		return None(), nil
	}
	return Pipeline{}, fmt.Errorf("augment: unknown preset %q, want one of %s", name, strings.Join(PresetNames, ", "))
}

// CIFAR is SimCLR's CIFAR-10 recipe (Chen et al. 2020, Appendix B.9): crop of area 8–100% and ratio 3/4–4/3, flip
// ½, colour jitter of strength 0.5 (0.4, 0.4, 0.4, 0.1) with probability 0.8, grayscale 0.2, no blur.
func CIFAR() Pipeline {
	return Pipeline{
		Name:   "cifar",
		Crop:   CropConfig{Scale: [2]float64{0.08, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}},
		Flip:   0.5,
		Jitter: JitterConfig{Prob: 0.8, Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1},
		Gray:   0.2,
	}
}

// ImageNet is SimCLR's ImageNet recipe (Chen et al. 2020, Appendix A): the CIFAR crop and flip, colour jitter of
// strength 1 (0.8, 0.8, 0.8, 0.2) with probability 0.8, grayscale 0.2, and Gaussian blur with probability ½,
// σ ~ U[0.1, 2] and a kernel of 10% of the image side.
func ImageNet() Pipeline {
	p := CIFAR()
	p.Name = "imagenet"
	p.Jitter = JitterConfig{Prob: 0.8, Brightness: 0.8, Contrast: 0.8, Saturation: 0.8, Hue: 0.2}
	p.Blur = BlurConfig{Prob: 0.5, Sigma: [2]float64{0.1, 2}}
	return p
}

// STL10 is the ImageNet recipe applied to STL-10's 96×96 images (a 9-tap blur kernel); our choice, SimCLR
// reports no STL-10 run.
func STL10() Pipeline {
	p := ImageNet()
	p.Name = "stl10"
	return p
}

// MNIST follows the authors' test-mnist.py (paper.md §6.2): a centred random rescale by a factor in [0.8, 1.2]
// (a crop of area fraction 1/1.2² … 1/0.8², zero-padded when zooming out) and a Gaussian blur of 5 taps with
// σ ~ U[0.1, 2], no colour ops. Two differences, ours: the area, not the factor, is uniform, and σ is drawn per
// example rather than once per batch.
func MNIST() Pipeline {
	return Pipeline{
		Name: "mnist",
		Crop: CropConfig{Scale: [2]float64{1 / (1.2 * 1.2), 1 / (0.8 * 0.8)}, Ratio: [2]float64{1, 1}, Center: true},
		Blur: BlurConfig{Prob: 1, Sigma: [2]float64{0.1, 2}, Size: 5},
	}
}

// Digits is our SimCLR recipe for small gray digit images (MNIST): a random resized crop of area 20–100% and
// ratio 3/4–4/3 (views differ by translation and scale, which the authors' centred rescale does not give),
// brightness and contrast jitter of 0.6 with probability 0.8, a Gaussian blur with probability ½,
// σ ~ U[0.1, 1.5], 5 taps, and pixel noise of σ 0.1. Measured on the README's MNIST run at 400 steps (kNN
// accuracy, k = 200): crop 35–100% + blur 94.3%; + jitter 0.4 94.6%; crop 20–100% + jitter 0.4 94.6%; this
// recipe 95.1%. Stronger views made a harder task and better features within the same steps.
func Digits() Pipeline {
	return Pipeline{
		Name:   "digits",
		Crop:   CropConfig{Scale: [2]float64{0.2, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}},
		Jitter: JitterConfig{Prob: 0.8, Brightness: 0.6, Contrast: 0.6},
		Blur:   BlurConfig{Prob: 0.5, Sigma: [2]float64{0.1, 1.5}, Size: 5},
		Noise:  0.1,
	}
}

// Fashion is our SimCLR recipe for Fashion-MNIST: a random resized crop of area 40–100% (a garment's outline
// and length tell its class, so we crop less than SimCLR's 8%), a horizontal flip with probability ½ (clothes
// are mirror-symmetric, digits are not) and brightness and contrast jitter of 0.4 with probability 0.8 (the
// saturation and hue of a gray image do not exist); no blur, which would erase the textures that tell a shirt
// from a pullover.
func Fashion() Pipeline {
	return Pipeline{
		Name:   "fashion",
		Crop:   CropConfig{Scale: [2]float64{0.4, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}},
		Flip:   0.5,
		Jitter: JitterConfig{Prob: 0.8, Brightness: 0.4, Contrast: 0.4},
	}
}

// None is the identity pipeline.
func None() Pipeline { return Pipeline{Name: "none"} }

// Sample draws the parameters of every op that is on for a batch of h×w×c images and returns the advanced RNG
// state. Grayscale is off for c = 1.
func (pl Pipeline) Sample(rng *graph.Node, batch, h, w, c int) (*graph.Node, PipelineParams) {
	var p PipelineParams
	if pl.Crop.enabled() {
		var crop CropParams
		rng, crop = SampleCrop(rng, batch, h, w, pl.Crop)
		p.Crop, h, w = &crop, crop.OutH, crop.OutW
	}
	if pl.Flip > 0 {
		var flip FlipParams
		rng, flip = SampleFlip(rng, batch, pl.Flip)
		p.Flip = &flip
	}
	if pl.Jitter.Prob > 0 {
		var jitter JitterParams
		rng, jitter = SampleJitter(rng, batch, pl.Jitter)
		p.Jitter = &jitter
	}
	if pl.Gray > 0 && c == 3 {
		var gray GrayscaleParams
		rng, gray = SampleGrayscale(rng, batch, pl.Gray)
		p.Gray = &gray
	}
	if pl.Blur.Prob > 0 {
		var blur BlurParams
		rng, blur = SampleBlur(rng, batch, h, w, pl.Blur)
		p.Blur = &blur
	}
	if pl.Noise > 0 {
		var noise PixelNoiseParams
		rng, noise = SamplePixelNoise(rng, batch, h, w, c, pl.Noise)
		p.Noise = &noise
	}
	return rng, p
}

// Apply runs the ops whose parameters are set, in Pipeline order, on images [B, H, W, C] float32 in [0, 1]; the
// result is [B, OutH, OutW, C] in [0, 1]. It is deterministic; ref.ImagePipeline is its twin.
func (pl Pipeline) Apply(images *graph.Node, p PipelineParams) *graph.Node {
	checkImages("Pipeline.Apply", images)
	x := toPlanar(images) // [B, C, H, W] until the noise
	switch {
	case p.Crop != nil:
		x = cropPlanar(x, *p.Crop, p.Flip) // a flip rides on the crop's column matrices
	case p.Flip != nil:
		x = graph.Where(isOn(p.Flip.Apply), graph.Reverse(x, 3), x)
	}
	if p.Jitter != nil {
		x = jitterPlanar(x, *p.Jitter)
	}
	if p.Gray != nil {
		x = grayPlanar(x, *p.Gray)
	}
	if p.Blur != nil {
		x = blurPlanar(x, *p.Blur)
	}
	x = fromPlanar(x)
	if p.Noise != nil {
		x = PixelNoise(x, *p.Noise)
	}
	return x
}

// Views returns two independently augmented views of images [B, H, W, C] (SimCLR's t, t' ~ T) and the advanced
// RNG state.
func (pl Pipeline) Views(rng, images *graph.Node) (newRNG, view1, view2 *graph.Node) {
	b, h, w, c := checkImages("Pipeline.Views", images)
	rng, p1 := pl.Sample(rng, b, h, w, c)
	rng, p2 := pl.Sample(rng, b, h, w, c)
	return rng, pl.Apply(images, p1), pl.Apply(images, p2)
}
