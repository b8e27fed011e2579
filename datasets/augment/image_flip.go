package augment

import "github.com/gomlx/gomlx/core/graph"

// FlipParams says which examples are mirrored left to right.
type FlipParams struct {
	Apply *graph.Node // [B] 1 = flip, 0 = keep
}

// SampleFlip draws a horizontal flip with probability p for each of batch examples.
func SampleFlip(rng *graph.Node, batch int, p float64) (*graph.Node, FlipParams) {
	rng, apply := bernoulli(rng, batch, p)
	return rng, FlipParams{Apply: apply}
}

// Flip mirrors the width axis of the examples whose Apply is 1:
//
//	out[b, y, x, c] = images[b, y, W−1−x, c]  if Apply[b] = 1,  images[b, y, x, c] otherwise
//
// images is [B, H, W, C]; both branches are computed and selected per example (graph.Reverse runs on the Go
// backend). ref.ImageFlip is its twin. Pipeline.Apply folds a flip that follows a crop into the crop's matrices.
func Flip(images *graph.Node, p FlipParams) *graph.Node {
	checkImages("Flip", images)
	return graph.Where(isOn(p.Apply), graph.Reverse(images, 2), images)
}
