// Package augment implements the data augmentations of SimCLR as GoMLX graph functions.
//
// Randomness is kept apart from the transform (STYLE.md §4): each augmentation has a sampler, Sample…, that draws
// its random parameters from an explicit RNG state node (graph.RNGStateFromSeed gives the first one) and returns
// the advanced state, so that a compiled training step can carry the state from one call to the next; and a
// deterministic transform that takes those parameters. Package ref replays every transform in plain Go from the
// same parameters.
//
// Notation: B examples in a batch, d input dimension, x of shape [B, d] for vector data. For SimCLR's two views of
// N examples, stack the batch twice (B = 2N, rows 0…N−1 view 1, rows N…2N−1 view 2) and sample once.
package augment
