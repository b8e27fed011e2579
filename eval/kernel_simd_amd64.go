//go:build goexperiment.simd

package eval

import (
	"simd/archsimd"
	"unsafe"
)

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		dot4x2, outer2x32 = dot4x2AVX2, outer2x32AVX2
	}
}

// dot4x2AVX2 is dot4x2 with 8-lane vectors along p: 4 row and 2 class loads feed 8 fused multiply-adds,
// and each accumulator is summed across its lanes once at the end. AVX2 rather than AVX-512 on purpose: the
// probe streams its rows from memory, and wider vectors would not make it faster. The loads go through
// unsafe.Add after one bounds check per operand, since Go's per-load slice checks cost as much as the maths.
func dot4x2AVX2(x, wt []float32, dPad int, z []float32, ldz int) {
	_, _, _ = x[4*dPad-1], wt[2*dPad-1], z[3*ldz+1] // every load below is within these
	var a00, a01, a10, a11, a20, a21, a30, a31 archsimd.Float32x8
	px, pw := unsafe.Pointer(&x[0]), unsafe.Pointer(&wt[0])
	row := uintptr(dPad) * 4 // bytes
	for off := uintptr(0); off < row; off += 32 {
		v0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pw, off)))
		v1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pw, off+row)))
		u := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(px, off)))
		a00, a01 = u.MulAdd(v0, a00), u.MulAdd(v1, a01)
		u = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(px, off+row)))
		a10, a11 = u.MulAdd(v0, a10), u.MulAdd(v1, a11)
		u = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(px, off+2*row)))
		a20, a21 = u.MulAdd(v0, a20), u.MulAdd(v1, a21)
		u = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(px, off+3*row)))
		a30, a31 = u.MulAdd(v0, a30), u.MulAdd(v1, a31)
	}
	z[0], z[1] = sum8(a00), sum8(a01)
	z[ldz], z[ldz+1] = sum8(a10), sum8(a11)
	z[2*ldz], z[2*ldz+1] = sum8(a20), sum8(a21)
	z[3*ldz], z[3*ldz+1] = sum8(a30), sum8(a31)
	archsimd.ClearAVXUpperBits() // leave the thread clean for SSE code (internal/avx)
}

func sum8(v archsimd.Float32x8) float32 {
	var s [8]float32
	v.Store(&s)
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// outer2x32AVX2 is outer2x32 with 8-lane vectors along the features: per row, 4 feature and 2 broadcast-g
// loads feed 8 fused multiply-adds.
func outer2x32AVX2(rows int, x []float32, dPad int, g8 []float32, cPad int, gwt []float32) {
	if rows == 0 {
		return
	}
	_, _, _ = x[(rows-1)*dPad+31], g8[(rows-1)*8*cPad+15], gwt[dPad+31] // every load below is within these
	var a00, a01, a02, a03, a10, a11, a12, a13 archsimd.Float32x8
	px0, pg0 := unsafe.Pointer(&x[0]), unsafe.Pointer(&g8[0])
	xRow, gRow := uintptr(dPad)*4, uintptr(cPad)*32 // bytes
	var xo, gOff uintptr                            // offsets from the bases, not advancing pointers: no pointer may pass the end
	for range rows {
		px, pg := unsafe.Add(px0, xo), unsafe.Add(pg0, gOff)
		xo, gOff = xo+xRow, gOff+gRow
		g0 := archsimd.LoadFloat32x8((*[8]float32)(pg))
		g1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pg, 32)))
		u := archsimd.LoadFloat32x8((*[8]float32)(px))
		a00, a10 = g0.MulAdd(u, a00), g1.MulAdd(u, a10)
		u = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(px, 32)))
		a01, a11 = g0.MulAdd(u, a01), g1.MulAdd(u, a11)
		u = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(px, 64)))
		a02, a12 = g0.MulAdd(u, a02), g1.MulAdd(u, a12)
		u = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(px, 96)))
		a03, a13 = g0.MulAdd(u, a03), g1.MulAdd(u, a13)
	}
	add := func(dst []float32, v0, v1, v2, v3 archsimd.Float32x8) {
		dst = dst[:32:32]
		archsimd.LoadFloat32x8((*[8]float32)(dst[0:8])).Add(v0).Store((*[8]float32)(dst[0:8]))
		archsimd.LoadFloat32x8((*[8]float32)(dst[8:16])).Add(v1).Store((*[8]float32)(dst[8:16]))
		archsimd.LoadFloat32x8((*[8]float32)(dst[16:24])).Add(v2).Store((*[8]float32)(dst[16:24]))
		archsimd.LoadFloat32x8((*[8]float32)(dst[24:32])).Add(v3).Store((*[8]float32)(dst[24:32]))
	}
	add(gwt, a00, a01, a02, a03)
	add(gwt[dPad:], a10, a11, a12, a13)
	archsimd.ClearAVXUpperBits() // leave the thread clean for SSE code (internal/avx)
}
