package ref

import (
	"fmt"
	"math"
	"slices"

	"github.com/gosimclr/gosimclr/internal/avx"
	"github.com/gosimclr/gosimclr/internal/hostmath"
	"github.com/gosimclr/gosimclr/recipe"
)

// Kernels and parts of the loss: package recipe's names (documented there), as package losses re-exports them.
const (
	KernelExp      = recipe.KernelExp
	KernelGaussian = recipe.KernelGaussian
	KernelLinear   = recipe.KernelLinear
	PartFull       = recipe.PartFull
	PartAlign      = recipe.PartAlign
	PartUniform    = recipe.PartUniform
)

// LossConfig selects a member of the loss family: it is the twin of losses.Config.
type LossConfig struct {
	Kernel      string  // KernelExp, KernelGaussian or KernelLinear; "" means KernelExp
	Part        string  // PartFull, PartAlign or PartUniform; "" means PartFull
	Temperature float64 // temperature τ > 0
}

// LossResult holds one evaluation of the loss: the selected objective, both of its parts, and the gradient
// of the selected objective.
type LossResult[T Float] struct {
	Loss, Align, Unif float64
	DZ                []T // ∂Loss/∂z   [2N, k]
}

// largeNum masks self-similarities as the graph does: −1e9, not −Inf, since 0·(−Inf) is NaN.
const largeNum = 1e9

// normEps is the ε of u = z/(‖z‖+ε).
const normEps = hostmath.NormEps

// InfoNCE returns the mean NT-Xent loss of SimCLR (Chen et al. 2020, Eq. 1) for z [2N, k] and its gradient:
//
//	ℓ_i = −s_{i,p(i)} + log Σ_{j≠i} exp(s_ij),   s_ij = u_i·u_j/τ,   L = (1/2N) Σ_i ℓ_i
//
// It is Loss with KernelExp and PartFull, and the twin of losses.InfoNCE.
func InfoNCE[T Float](z []T, n2, k int, tau float64) (loss float64, dz []T) {
	r := Loss(z, n2, k, LossConfig{Kernel: KernelExp, Part: PartFull, Temperature: tau})
	return r.Loss, r.DZ
}

// Loss evaluates the member of the loss family chosen by cfg on z [2N, k] (doc/design.md, "The loss family"),
// with the gradient of the selected part. It is the twin of losses.Loss:
//
//	exp:      align_i = −c_{i,p(i)}/τ,          unif_i = log Σ_{j≠i} exp(c_ij/τ),     c_ij = u_i·u_j
//	linear:   align_i = −log(1+c_{i,p(i)}+δ),    unif_i = log Σ_{j≠i} (1+c_ij+δ),      δ = 1e-6
//	L_align = mean_i align_i,   L_unif = mean_i unif_i,   L = L_align + L_unif
//	gaussian: see gaussianLoss.
//
// The products c = u uᵀ and the gradient's (G+Gᵀ)u are computed in T with MatMul; log-sum-exps, sums and the
// normalisation in float64. It panics if len(z) ≠ n2·k, n2 is odd or zero, or cfg is invalid.
func Loss[T Float](z []T, n2, k int, cfg LossConfig) LossResult[T] {
	checkViews("Loss", z, n2, k)
	if cfg.Kernel == "" {
		cfg.Kernel = KernelExp
	}
	if cfg.Part == "" {
		cfg.Part = PartFull
	}
	if !slices.Contains([]string{KernelExp, KernelGaussian, KernelLinear}, cfg.Kernel) ||
		!slices.Contains([]string{PartFull, PartAlign, PartUniform}, cfg.Part) || !(cfg.Temperature > 0) {
		panic(fmt.Sprintf("ref: Loss: invalid config %+v", cfg))
	}
	var r LossResult[T]
	if cfg.Kernel == KernelGaussian {
		r = gaussianLoss(z, n2, k, cfg)
	} else {
		r = cosineLoss(z, n2, k, cfg)
	}
	switch cfg.Part {
	case PartAlign:
		r.Loss = r.Align
	case PartUniform:
		r.Loss = r.Unif
	}
	return r
}

// checkViews panics unless z holds 2N ≥ 2 rows of k values.
func checkViews[T Float](fn string, z []T, n2, k int) {
	if n2 < 2 || n2%2 != 0 || k < 1 || len(z) != n2*k {
		panic(fmt.Sprintf("ref: %s wants z of shape [2N, k] with N ≥ 1, got len %d for [%d, %d]", fn, len(z), n2, k))
	}
}

// cosineLoss computes the exp and linear kernels. With a = 1 when the uniformity part is selected and
// b = 1 when the alignment part is, L = (1/2N) Σ_i (b·align_i + a·unif_i), and differentiating row i,
//
//	exp:    G_ij = ∂L/∂c_ij = (1/(2Nτ)) (a·P_ij − b·[j = p(i)]),   P_ij = exp(s_ij)/Σ_{l≠i} exp(s_il), P_ii = 0
//	linear: G_ij = (1/2N) (a·[j≠i]/Σ_{l≠i} η_il − b·[j = p(i)]/η_{i,p(i)})
//
// (c_{i,p(i)} of the alignment term is the same number as in row i of c, so both terms land in G). Since
// c_ij = u_i·u_j depends on u_l through i = l and through j = l, ∂L/∂u_l = Σ_j G_lj u_j + Σ_i G_il u_i, that is
// ∂L/∂u = (G + Gᵀ) u. With unit rows this is the familiar ∂ℓ_i/∂u_i = (1/τ)(Σ_{j≠i} P_ij u_j − u_{p(i)}) plus
// the terms from the other anchors.
func cosineLoss[T Float](z []T, n2, k int, cfg LossConfig) LossResult[T] {
	n, linear := n2/2, cfg.Kernel == KernelLinear
	a, b := 0.0, 0.0
	if cfg.Part != PartAlign {
		a = 1
	}
	if cfg.Part != PartUniform {
		b = 1
	}
	u := Normalize(nil, z, n2, k)                  // [2N, k]
	c := MatMul(nil, u, u, n2, k, n2, false, true) // c_ij = u_i·u_j, then overwritten by G_ij = ∂L/∂c_ij   [2N, 2N]
	// Rows are independent: each goroutine handles a range of anchors i, and the per-anchor terms are
	// summed in order afterwards, so the result does not depend on the number of goroutines.
	alignI, unifI := make([]float64, n2), make([]float64, n2) // align_i, unif_i
	hostmath.ParallelFor(n2, 16, func(lo, hi int) {
		e := make([]float64, n2)
		for i := lo; i < hi; i++ {
			pi := (i + n) % n2
			pos := hostmath.Dot(u[i*k:(i+1)*k], u[pi*k:(pi+1)*k]) // c_{i,p(i)} as the graph computes it: Σ u_i ⊙ u_{p(i)}
			ci := c[i*n2 : (i+1)*n2]
			if linear {
				alignI[i], unifI[i] = linearRow(ci, i, pi, pos, a, b)
			} else {
				alignI[i], unifI[i] = expRow(ci, e, i, pi, pos, a, b, cfg.Temperature)
			}
		}
	})
	var align, unif float64
	for i := range n2 {
		align += alignI[i]
		unif += unifI[i]
	}
	// ∂L/∂u = (G + Gᵀ) u: c_ij enters through both u_i and u_j.
	du := MatMul(nil, c, u, n2, n2, k, false, false) // G u    [2N, k]
	duT := MatMul(nil, c, u, n2, n2, k, true, false) // Gᵀ u   [2N, k]
	for i := range du {
		du[i] += duT[i]
	}
	return LossResult[T]{
		Loss:  (align + unif) / float64(n2),
		Align: align / float64(n2),
		Unif:  unif / float64(n2),
		DZ:    NormalizeBackward(du, z, du, n2, k),
	}
}

// expRow computes align_i and unif_i of the exp kernel from row i of c, and overwrites the row with
// G_ij = ∂L/∂c_ij (see cosineLoss); e is scratch of the row's length.
func expRow[T Float](ci []T, e []float64, i, pi int, pos, a, b, tau float64) (align, unif float64) {
	avx.Clean() // math.Exp below: see internal/avx
	n2 := float64(len(ci))
	// s_ij = c_ij/τ with s_ii = −1e9, as in the graph: exp(−1e9 − max) is exactly 0 in float64, so the masked
	// entry drops out of the sum and P_ii = 0. Subtracting the row maximum is for numerical stability only.
	m := -largeNum
	for j, cij := range ci {
		if j != i {
			m = max(m, float64(cij)/tau)
		}
	}
	var sum float64
	for j, cij := range ci {
		s := float64(cij) / tau
		if j == i {
			s = -largeNum
		}
		e[j] = math.Exp(s - m)
		sum += e[j]
	}
	scale := a / (sum * n2 * tau)
	for j := range ci {
		ci[j] = T(scale * e[j]) // (a/(2Nτ)) P_ij
	}
	ci[pi] -= T(b / (n2 * tau)) // ∂/∂c_{i,p(i)} of −(1/2N) c_{i,p(i)}/τ
	return -pos / tau, m + math.Log(sum)
}

// linearRow is expRow for the linear kernel η = 1 + c + 1e-6.
func linearRow[T Float](ci []T, i, pi int, pos, a, b float64) (align, unif float64) {
	n2 := float64(len(ci))
	var sum float64 // Σ_{j≠i} η_ij: the graph zeroes η_ii
	for j, cij := range ci {
		if j != i {
			sum += 1 + float64(cij) + 1e-6
		}
	}
	for j := range ci {
		ci[j] = T(a / sum / n2) // ∂/∂c_ij of (1/2N) log Σ_{l≠i} η_il
	}
	ci[i] = 0
	ci[pi] -= T(b / (1 + pos + 1e-6) / n2) // ∂/∂c_{i,p(i)} of −(1/2N) log η_{i,p(i)}
	return -math.Log(1 + pos + 1e-6), math.Log(sum)
}

// gaussianLoss computes the authors' Gaussian-kernel loss on unnormalised latents, view-1 anchors only
// (paper.md §3.4, from the authors' later code), all in float64:
//
//	d_ij = ‖z1_i − z2_j‖²,  e_ij = exp(−d_ij/(2τ)),  att_i = e_ii,  rep_i = (1/N) Σ_j e_ij
//	L = (1/N) Σ_i log(1 + rep_i/(att_i + 1e-8)),  L_align = (1/N) Σ_i d_ii/(2τ),  L_unif = (1/N) Σ_i log1p(rep_i)
//
// d_ij is summed from differences, where the graph expands ‖a‖² + ‖b‖² − 2a·b: the two differ by rounding.
func gaussianLoss[T Float](z []T, n2, k int, cfg LossConfig) LossResult[T] {
	n, tau := n2/2, cfg.Temperature
	d := make([]float64, n*n) // [N, N]
	for i := range n {
		for j := range n {
			var s float64
			for l := range k {
				t := float64(z[i*k+l]) - float64(z[(n+j)*k+l])
				s += t * t
			}
			d[i*n+j] = s
		}
	}
	// w_ij = ∂L/∂d_ij of the selected part.
	w := make([]float64, n*n)
	var full, align, unif float64
	for i := range n {
		var rep float64
		avx.Clean() // math.Exp below: see internal/avx
		for j := range n {
			rep += math.Exp(-d[i*n+j] / (2 * tau))
		}
		rep /= float64(n)
		att := math.Exp(-d[i*n+i] / (2 * tau))
		q := rep / (att + 1e-8)
		full += math.Log1p(q)
		align += d[i*n+i] / (2 * tau)
		unif += math.Log1p(rep)
		// dRep, dAtt = ∂ℓ_i/∂rep_i, ∂ℓ_i/∂att_i (each ×1/N for the mean over i).
		var dRep, dAtt float64
		switch cfg.Part {
		case PartFull: // ℓ_i = log(1 + rep_i/(att_i+1e-8))
			dRep = 1 / (1 + q) / (att + 1e-8)
			dAtt = -1 / (1 + q) * rep / ((att + 1e-8) * (att + 1e-8))
		case PartUniform: // ℓ_i = log1p(rep_i)
			dRep = 1 / (1 + rep)
		case PartAlign: // ℓ_i = d_ii/(2τ)
			w[i*n+i] += 1 / (2 * tau * float64(n))
		}
		for j := range n {
			// ∂e_ij/∂d_ij = −e_ij/(2τ);  ∂rep_i/∂e_ij = 1/N;  att_i = e_ii.
			de := dRep / float64(n)
			if j == i {
				de += dAtt
			}
			w[i*n+j] -= de * math.Exp(-d[i*n+j]/(2*tau)) / (2 * tau) / float64(n)
		}
	}
	// d_ij = ‖z1_i − z2_j‖²:  ∂/∂z1_i = 2(z1_i − z2_j),  ∂/∂z2_j = −2(z1_i − z2_j).
	dz := make([]float64, n2*k)
	for i := range n {
		for j := range n {
			wij := 2 * w[i*n+j]
			if wij == 0 {
				continue
			}
			for l := range k {
				t := wij * (float64(z[i*k+l]) - float64(z[(n+j)*k+l]))
				dz[i*k+l] += t
				dz[(n+j)*k+l] -= t
			}
		}
	}
	r := LossResult[T]{Loss: full / float64(n), Align: align / float64(n), Unif: unif / float64(n), DZ: make([]T, n2*k)}
	for i, v := range dz {
		r.DZ[i] = T(v)
	}
	return r
}

// Normalize returns u_i = z_i/(‖z_i‖ + 1e-12) for each row of z [rows, k], as GoMLX's
// L2NormalizeWithEpsilon(z, 1e-12, −1) does; the norm is accumulated in float64. It is the twin of
// losses.Normalize. dst may be nil or z itself.
func Normalize[T Float](dst, z []T, rows, k int) []T {
	checkRows("Normalize", z, rows, k)
	return hostmath.NormalizeRows(dst, z, rows, k)
}

// NormalizeBackward returns ∂L/∂z from g = ∂L/∂u for u = Normalize(z), row by row. With r = ‖z‖,
// u = z/(r+ε) and ∂r/∂z = z/r,
//
//	∂u_a/∂z_b = δ_ab/(r+ε) − z_a z_b/(r(r+ε)²)   ⇒   ∂L/∂z = g/(r+ε) − z (z·g)/(r(r+ε)²),
//
// which for ε = 0 is the familiar (I − u uᵀ) g / r. At z = 0 the second term, 0/0, is
// taken as 0. dst may be nil, z or g.
func NormalizeBackward[T Float](dst, z, g []T, rows, k int) []T {
	checkRows("NormalizeBackward", z, rows, k)
	checkRows("NormalizeBackward", g, rows, k)
	if dst == nil {
		dst = make([]T, rows*k)
	}
	for i := range rows {
		zi, gi := z[i*k:(i+1)*k], g[i*k:(i+1)*k]
		r := math.Sqrt(hostmath.Dot(zi, zi))
		c := 0.0
		if r > 0 {
			c = hostmath.Dot(zi, gi) / (r * (r + normEps) * (r + normEps))
		}
		for j := range zi {
			dst[i*k+j] = T(float64(gi[j])/(r+normEps) - float64(zi[j])*c)
		}
	}
	return dst[:rows*k]
}

// checkRows panics unless x holds rows×k values.
func checkRows[T Float](fn string, x []T, rows, k int) {
	if rows < 0 || k < 1 || len(x) != rows*k {
		panic(fmt.Sprintf("ref: %s wants shape [%d, %d], got len %d", fn, rows, k, len(x)))
	}
}
