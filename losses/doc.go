// Package losses implements SimCLR's NT-Xent loss and its generalisations as GoMLX graph functions, with the
// geometry metrics used to watch training, and the objectives of other self-supervised methods: VICReg
// (vicreg.go), Barlow Twins (barlow.go), BYOL (byol.go) and MoCo v3 (mocov3.go), with the momentum (EMA) update
// of a target network (ema.go). Package ref holds the plain-Go twin of every function here.
//
// Notation: N examples, 2N views; z ∈ R^{2N×k} holds view 1 in rows 0..N−1 and view 2 in rows N..2N−1, so
// the partner of row i is p(i) = (i+N) mod 2N. u_i = z_i/(‖z_i‖+1e-12) is the normalised row, τ the
// temperature, k the latent dimension. The exact formulas of every kernel and part are in doc/design.md.
package losses
