package augment

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ref"
)

// Nodes lists the parameter tensors of p in a fixed order, skipping the ops that are off: what a graph
// returns so that the reference can replay the same augmentation (see RefParams).
func (p PipelineParams) Nodes() []*graph.Node {
	var n []*graph.Node
	if p.Crop != nil {
		n = append(n, p.Crop.Y0, p.Crop.X0, p.Crop.H, p.Crop.W)
	}
	if p.Flip != nil {
		n = append(n, p.Flip.Apply)
	}
	if j := p.Jitter; j != nil {
		n = append(n, j.Apply, j.Brightness, j.Contrast, j.Saturation, j.Hue, j.Order)
	}
	if p.Gray != nil {
		n = append(n, p.Gray.Apply)
	}
	if p.Blur != nil {
		n = append(n, p.Blur.Apply, p.Blur.Sigma)
	}
	if p.Noise != nil {
		n = append(n, p.Noise.Noise)
	}
	return n
}

// RefParams is the reference twin of p, given the values of p.Nodes() in that order.
func RefParams(p PipelineParams, values [][]float32) ref.ImagePipelineParams {
	next := func() []float32 { x := values[0]; values = values[1:]; return x }
	var r ref.ImagePipelineParams
	if c := p.Crop; c != nil {
		r.Crop = &ref.ImageCropParams{Y0: next(), X0: next(), H: next(), W: next(), OutH: c.OutH, OutW: c.OutW}
	}
	if p.Flip != nil {
		r.Flip = &ref.ImageFlipParams{Apply: next()}
	}
	if p.Jitter != nil {
		r.Jitter = &ref.ImageJitterParams{Apply: next(), Brightness: next(), Contrast: next(), Saturation: next(),
			Hue: next(), Order: next()}
	}
	if p.Gray != nil {
		r.Gray = &ref.ImageGrayscaleParams{Apply: next()}
	}
	if b := p.Blur; b != nil {
		r.Blur = &ref.ImageBlurParams{Apply: next(), Sigma: next(), RadiusY: b.RadiusY, RadiusX: b.RadiusX}
	}
	if p.Noise != nil {
		r.Noise = next()
	}
	return r
}
