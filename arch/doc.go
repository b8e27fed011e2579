// Package arch describes gosimclr's networks as plain data: their parameters (names, shapes, order), their
// constant multipliers and their initialisation. It imports no GoMLX, so the graph code in package models and
// the pure-Go reference in package ref both build from the same description and start from the same numbers.
//
// Notation: d input dimension, m hidden width, L number of hidden layers, k latent (output) dimension.
//
//	h_0 = x
//	h_l = σ( c_l · (h_{l-1} W_l) + b_l )      l = 1..L,  W_l ∈ R^{d_{l-1}×m},  c_l = 1/√d_{l-1}
//	g   = α_m · (h_L A)                                  A ∈ R^{m×k}
//	T   = g/(‖g‖+1e-12) when the output is normalised, else g
//
// With L = 1 this is the paper's one-hidden-layer network g(x) = α_m Σ_j a_j σ(w_j·x + b_j) (Calder & Lee 2025,
// §3, equation number unverified). The hidden multiplier c_l = 1/√fan_in with N(0,1) weights is the NTK
// parameterisation; α_m ∈ {1, 1/√m, 1/m} is the output scaling. These are our choices: the paper's are unknown.
package arch
