package augment

import "github.com/gomlx/gomlx/core/graph"

// Nodes lists the parameter tensors of p in a fixed order, skipping the ops that are off: what a graph
// returns so that the reference can replay the same augmentation (see augmenttest.RefParams).
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
