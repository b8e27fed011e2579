// Package augmenttest helps tests and benchmarks replay a graph augmentation with package ref: it turns the
// parameter tensors a pipeline drew into their ref twins. It exists so that package augment itself does not
// import ref, the test oracle.
package augmenttest

import (
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/ref"
)

// RefParams is the reference twin of p, given the values of p.Nodes() in that order.
func RefParams(p augment.PipelineParams, values [][]float32) ref.ImagePipelineParams {
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
