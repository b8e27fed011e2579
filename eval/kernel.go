package eval

// The probe's two matrix products have only C columns (10 or 100 classes), too few for hostmath.MatMul's
// 48-wide tiles, and the probe wants them fused with the softmax so that each block of rows is read from
// memory once per evaluation. Both take the standardised rows x [rows, dPad] and keep the class dimension
// outermost, so that vectors run along the feature dimension and no lanes are wasted on padding classes:
//
//	logits:  z[r, c] = Σ_p x[r, p]·wᵀ[c, p]             wᵀ [cPad, dPad], z [rows, cPad]
//	gradW:   gᵀ_W[c, p] += Σ_r g[r, c]·x[r, p]          g8 [rows, cPad, 8] (g broadcast to 8 lanes), gᵀ_W [cPad, dPad]
//
// dPad is the feature dimension rounded up to featAlign and cPad the classes rounded up to classAlign; the
// padding of x, wᵀ and g is zero. The tiles are 4 rows × 2 classes (logits) and 2 classes × 32 features
// (gradW), 8 vector accumulators each, within the 15 vector registers Go allocates.
const (
	featAlign  = 32
	classAlign = 2
)

// Micro-kernels, set to AVX2 versions in kernel_simd_amd64.go when the binary is built with
// GOEXPERIMENT=simd and the CPU has AVX2 and FMA, else to the plain-Go ones below.
var (
	// dot4x2 sets z[r*ldz+c] = Σ_{p<dPad} x[r*dPad+p]·wt[c*dPad+p], r < 4, c < 2.
	dot4x2 = dot4x2Go
	// outer2x32 adds Σ_{r<rows} g8[r*8*cPad + 8c]·x[r*dPad+j] to gwt[c*dPad+j], c < 2, j < 32.
	outer2x32 = outer2x32Go
)

// logits sets z = x·w for rows×dPad x and wᵀ [cPad, dPad] (z is [rows, cPad]).
func logits(z, x []float32, rows, dPad int, wt []float32, cPad int) {
	r0 := 0
	for ; r0+4 <= rows; r0 += 4 {
		for c0 := 0; c0 < cPad; c0 += 2 {
			dot4x2(x[r0*dPad:], wt[c0*dPad:], dPad, z[r0*cPad+c0:], cPad)
		}
	}
	for ; r0 < rows; r0++ { // at most 3 rows left: plain dot products
		for c := range cPad {
			var s float32
			for p, v := range x[r0*dPad : (r0+1)*dPad] {
				s += v * wt[c*dPad+p]
			}
			z[r0*cPad+c] = s
		}
	}
}

// gradW adds (x ᵀ·g)ᵀ to gwt for rows×dPad x and g given as g8 [rows, cPad, 8] (gwt is [cPad, dPad]).
func gradW(gwt, x []float32, rows, dPad int, g8 []float32, cPad int) {
	for c0 := 0; c0 < cPad; c0 += 2 {
		for p0 := 0; p0 < dPad; p0 += 32 {
			outer2x32(rows, x[p0:], dPad, g8[8*c0:], cPad, gwt[c0*dPad+p0:])
		}
	}
}

func dot4x2Go(x, wt []float32, dPad int, z []float32, ldz int) {
	var acc [4][2]float32
	for r := range 4 {
		xr := x[r*dPad : (r+1)*dPad]
		for c := range 2 {
			var s float32
			for p, v := range wt[c*dPad : (c+1)*dPad] {
				s += xr[p] * v
			}
			acc[r][c] = s
		}
	}
	for r := range 4 {
		z[r*ldz], z[r*ldz+1] = acc[r][0], acc[r][1]
	}
}

func outer2x32Go(rows int, x []float32, dPad int, g8 []float32, cPad int, gwt []float32) {
	var acc [2][32]float32
	for r := range rows {
		xr := x[r*dPad : r*dPad+32]
		for c := range 2 {
			gc := g8[r*8*cPad+8*c]
			for j, v := range xr {
				acc[c][j] += gc * v
			}
		}
	}
	for c := range 2 {
		for j, v := range acc[c] {
			gwt[c*dPad+j] += v
		}
	}
}
