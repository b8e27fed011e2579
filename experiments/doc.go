// Package experiments runs the reproduction and extension experiments of Calder & Lee (2025) (issue 4; the
// maths and targets are in doc/paper.md §4–§7): the loss landscape of invariant embeddings, particle
// versus network gradient descent on the latent circle, the persistence of cluster structure against depth,
// width, scaling and temperature, the empirical neural tangent kernel, the authors' later 1-D setting, and
// MNIST {0, 1, 2}. Each experiment writes config.json, CSV time series, PNG figures and summary.md into its
// output folder; All runs them all and writes REPORT.md.
//
// Notation: N data points x_i with cluster labels y_i ∈ {0, …, K−1}; latent points z_i ∈ R^k, u_i = z_i/‖z_i‖
// on S^{k−1} when the latent space is the sphere; τ the temperature; m the hidden width, L the depth.
//
// Every setting here is ours unless a comment cites the authors' code (paper.md §6.2): the paper's own data,
// widths, learning rates and step counts are unknown, so every summary lists them as ours.
package experiments
