//go:build goexperiment.simd

package hostmath

import "simd/archsimd"

// kernelFor picks the micro-kernel for T on this CPU: AVX-512 (3×48 float32, 3×24 float64) or AVX2 with FMA
// (3×24, 3×12) through simd/archsimd, else plain Go. Each SIMD tile keeps 9 vector accumulators, 3 vectors of
// op(b) and one broadcast of op(a) in registers: Go allocates 15 vector registers, and larger tiles spill.
// Named types with underlying float32 or float64 use the plain-Go kernel.
func kernelFor[T Float]() kernel[T] {
	var k any
	switch any(T(0)).(type) {
	case float32:
		switch {
		case archsimd.X86.AVX512():
			k = kernel[float32]{mr: 3, nr: 48, fn: kernel3x48f32}
		case archsimd.X86.AVX2() && archsimd.X86.FMA():
			k = kernel[float32]{mr: 3, nr: 24, fn: kernel3x24f32}
		}
	case float64:
		switch {
		case archsimd.X86.AVX512():
			k = kernel[float64]{mr: 3, nr: 24, fn: kernel3x24f64}
		case archsimd.X86.AVX2() && archsimd.X86.FMA():
			k = kernel[float64]{mr: 3, nr: 12, fn: kernel3x12f64}
		}
	}
	if kt, ok := k.(kernel[T]); ok {
		return kt
	}
	return kernel[T]{mr: 2, nr: 4, fn: kernelGo[T]}
}

// kernel3x48f32 is the AVX-512 float32 micro-kernel: c[i*ldc+j] += Σ_p a[3p+i]·b[48p+j], i < 3, j < 48.
func kernel3x48f32(kc int, a, b, c []float32, ldc int) {
	var c00, c01, c02, c10, c11, c12, c20, c21, c22 archsimd.Float32x16
	a, b = a[:3*kc], b[:48*kc]
	for p := range kc {
		bp := b[48*p : 48*p+48 : 48*p+48]
		b0 := archsimd.LoadFloat32x16((*[16]float32)(bp[0:16]))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(bp[16:32]))
		b2 := archsimd.LoadFloat32x16((*[16]float32)(bp[32:48]))
		ap := a[3*p : 3*p+3 : 3*p+3]
		x0 := archsimd.BroadcastFloat32x16(ap[0])
		x1 := archsimd.BroadcastFloat32x16(ap[1])
		x2 := archsimd.BroadcastFloat32x16(ap[2])
		c00, c01, c02 = x0.MulAdd(b0, c00), x0.MulAdd(b1, c01), x0.MulAdd(b2, c02)
		c10, c11, c12 = x1.MulAdd(b0, c10), x1.MulAdd(b1, c11), x1.MulAdd(b2, c12)
		c20, c21, c22 = x2.MulAdd(b0, c20), x2.MulAdd(b1, c21), x2.MulAdd(b2, c22)
	}
	r := c[0:48:48]
	archsimd.LoadFloat32x16((*[16]float32)(r[0:16])).Add(c00).Store((*[16]float32)(r[0:16]))
	archsimd.LoadFloat32x16((*[16]float32)(r[16:32])).Add(c01).Store((*[16]float32)(r[16:32]))
	archsimd.LoadFloat32x16((*[16]float32)(r[32:48])).Add(c02).Store((*[16]float32)(r[32:48]))
	r = c[ldc : ldc+48 : ldc+48]
	archsimd.LoadFloat32x16((*[16]float32)(r[0:16])).Add(c10).Store((*[16]float32)(r[0:16]))
	archsimd.LoadFloat32x16((*[16]float32)(r[16:32])).Add(c11).Store((*[16]float32)(r[16:32]))
	archsimd.LoadFloat32x16((*[16]float32)(r[32:48])).Add(c12).Store((*[16]float32)(r[32:48]))
	r = c[2*ldc : 2*ldc+48 : 2*ldc+48]
	archsimd.LoadFloat32x16((*[16]float32)(r[0:16])).Add(c20).Store((*[16]float32)(r[0:16]))
	archsimd.LoadFloat32x16((*[16]float32)(r[16:32])).Add(c21).Store((*[16]float32)(r[16:32]))
	archsimd.LoadFloat32x16((*[16]float32)(r[32:48])).Add(c22).Store((*[16]float32)(r[32:48]))
	archsimd.ClearAVXUpperBits() // leave the thread clean for SSE code (internal/avx)
}

// kernel3x24f64 is the AVX-512 float64 micro-kernel: c[i*ldc+j] += Σ_p a[3p+i]·b[24p+j], i < 3, j < 24.
func kernel3x24f64(kc int, a, b, c []float64, ldc int) {
	var c00, c01, c02, c10, c11, c12, c20, c21, c22 archsimd.Float64x8
	a, b = a[:3*kc], b[:24*kc]
	for p := range kc {
		bp := b[24*p : 24*p+24 : 24*p+24]
		b0 := archsimd.LoadFloat64x8((*[8]float64)(bp[0:8]))
		b1 := archsimd.LoadFloat64x8((*[8]float64)(bp[8:16]))
		b2 := archsimd.LoadFloat64x8((*[8]float64)(bp[16:24]))
		ap := a[3*p : 3*p+3 : 3*p+3]
		x0 := archsimd.BroadcastFloat64x8(ap[0])
		x1 := archsimd.BroadcastFloat64x8(ap[1])
		x2 := archsimd.BroadcastFloat64x8(ap[2])
		c00, c01, c02 = x0.MulAdd(b0, c00), x0.MulAdd(b1, c01), x0.MulAdd(b2, c02)
		c10, c11, c12 = x1.MulAdd(b0, c10), x1.MulAdd(b1, c11), x1.MulAdd(b2, c12)
		c20, c21, c22 = x2.MulAdd(b0, c20), x2.MulAdd(b1, c21), x2.MulAdd(b2, c22)
	}
	r := c[0:24:24]
	archsimd.LoadFloat64x8((*[8]float64)(r[0:8])).Add(c00).Store((*[8]float64)(r[0:8]))
	archsimd.LoadFloat64x8((*[8]float64)(r[8:16])).Add(c01).Store((*[8]float64)(r[8:16]))
	archsimd.LoadFloat64x8((*[8]float64)(r[16:24])).Add(c02).Store((*[8]float64)(r[16:24]))
	r = c[ldc : ldc+24 : ldc+24]
	archsimd.LoadFloat64x8((*[8]float64)(r[0:8])).Add(c10).Store((*[8]float64)(r[0:8]))
	archsimd.LoadFloat64x8((*[8]float64)(r[8:16])).Add(c11).Store((*[8]float64)(r[8:16]))
	archsimd.LoadFloat64x8((*[8]float64)(r[16:24])).Add(c12).Store((*[8]float64)(r[16:24]))
	r = c[2*ldc : 2*ldc+24 : 2*ldc+24]
	archsimd.LoadFloat64x8((*[8]float64)(r[0:8])).Add(c20).Store((*[8]float64)(r[0:8]))
	archsimd.LoadFloat64x8((*[8]float64)(r[8:16])).Add(c21).Store((*[8]float64)(r[8:16]))
	archsimd.LoadFloat64x8((*[8]float64)(r[16:24])).Add(c22).Store((*[8]float64)(r[16:24]))
	archsimd.ClearAVXUpperBits() // leave the thread clean for SSE code (internal/avx)
}

// kernel3x24f32 is the AVX2+FMA float32 micro-kernel: c[i*ldc+j] += Σ_p a[3p+i]·b[24p+j], i < 3, j < 24.
func kernel3x24f32(kc int, a, b, c []float32, ldc int) {
	var c00, c01, c02, c10, c11, c12, c20, c21, c22 archsimd.Float32x8
	a, b = a[:3*kc], b[:24*kc]
	for p := range kc {
		bp := b[24*p : 24*p+24 : 24*p+24]
		b0 := archsimd.LoadFloat32x8((*[8]float32)(bp[0:8]))
		b1 := archsimd.LoadFloat32x8((*[8]float32)(bp[8:16]))
		b2 := archsimd.LoadFloat32x8((*[8]float32)(bp[16:24]))
		ap := a[3*p : 3*p+3 : 3*p+3]
		x0 := archsimd.BroadcastFloat32x8(ap[0])
		x1 := archsimd.BroadcastFloat32x8(ap[1])
		x2 := archsimd.BroadcastFloat32x8(ap[2])
		c00, c01, c02 = x0.MulAdd(b0, c00), x0.MulAdd(b1, c01), x0.MulAdd(b2, c02)
		c10, c11, c12 = x1.MulAdd(b0, c10), x1.MulAdd(b1, c11), x1.MulAdd(b2, c12)
		c20, c21, c22 = x2.MulAdd(b0, c20), x2.MulAdd(b1, c21), x2.MulAdd(b2, c22)
	}
	r := c[0:24:24]
	archsimd.LoadFloat32x8((*[8]float32)(r[0:8])).Add(c00).Store((*[8]float32)(r[0:8]))
	archsimd.LoadFloat32x8((*[8]float32)(r[8:16])).Add(c01).Store((*[8]float32)(r[8:16]))
	archsimd.LoadFloat32x8((*[8]float32)(r[16:24])).Add(c02).Store((*[8]float32)(r[16:24]))
	r = c[ldc : ldc+24 : ldc+24]
	archsimd.LoadFloat32x8((*[8]float32)(r[0:8])).Add(c10).Store((*[8]float32)(r[0:8]))
	archsimd.LoadFloat32x8((*[8]float32)(r[8:16])).Add(c11).Store((*[8]float32)(r[8:16]))
	archsimd.LoadFloat32x8((*[8]float32)(r[16:24])).Add(c12).Store((*[8]float32)(r[16:24]))
	r = c[2*ldc : 2*ldc+24 : 2*ldc+24]
	archsimd.LoadFloat32x8((*[8]float32)(r[0:8])).Add(c20).Store((*[8]float32)(r[0:8]))
	archsimd.LoadFloat32x8((*[8]float32)(r[8:16])).Add(c21).Store((*[8]float32)(r[8:16]))
	archsimd.LoadFloat32x8((*[8]float32)(r[16:24])).Add(c22).Store((*[8]float32)(r[16:24]))
	archsimd.ClearAVXUpperBits() // leave the thread clean for SSE code (internal/avx)
}

// kernel3x12f64 is the AVX2+FMA float64 micro-kernel: c[i*ldc+j] += Σ_p a[3p+i]·b[12p+j], i < 3, j < 12.
func kernel3x12f64(kc int, a, b, c []float64, ldc int) {
	var c00, c01, c02, c10, c11, c12, c20, c21, c22 archsimd.Float64x4
	a, b = a[:3*kc], b[:12*kc]
	for p := range kc {
		bp := b[12*p : 12*p+12 : 12*p+12]
		b0 := archsimd.LoadFloat64x4((*[4]float64)(bp[0:4]))
		b1 := archsimd.LoadFloat64x4((*[4]float64)(bp[4:8]))
		b2 := archsimd.LoadFloat64x4((*[4]float64)(bp[8:12]))
		ap := a[3*p : 3*p+3 : 3*p+3]
		x0 := archsimd.BroadcastFloat64x4(ap[0])
		x1 := archsimd.BroadcastFloat64x4(ap[1])
		x2 := archsimd.BroadcastFloat64x4(ap[2])
		c00, c01, c02 = x0.MulAdd(b0, c00), x0.MulAdd(b1, c01), x0.MulAdd(b2, c02)
		c10, c11, c12 = x1.MulAdd(b0, c10), x1.MulAdd(b1, c11), x1.MulAdd(b2, c12)
		c20, c21, c22 = x2.MulAdd(b0, c20), x2.MulAdd(b1, c21), x2.MulAdd(b2, c22)
	}
	r := c[0:12:12]
	archsimd.LoadFloat64x4((*[4]float64)(r[0:4])).Add(c00).Store((*[4]float64)(r[0:4]))
	archsimd.LoadFloat64x4((*[4]float64)(r[4:8])).Add(c01).Store((*[4]float64)(r[4:8]))
	archsimd.LoadFloat64x4((*[4]float64)(r[8:12])).Add(c02).Store((*[4]float64)(r[8:12]))
	r = c[ldc : ldc+12 : ldc+12]
	archsimd.LoadFloat64x4((*[4]float64)(r[0:4])).Add(c10).Store((*[4]float64)(r[0:4]))
	archsimd.LoadFloat64x4((*[4]float64)(r[4:8])).Add(c11).Store((*[4]float64)(r[4:8]))
	archsimd.LoadFloat64x4((*[4]float64)(r[8:12])).Add(c12).Store((*[4]float64)(r[8:12]))
	r = c[2*ldc : 2*ldc+12 : 2*ldc+12]
	archsimd.LoadFloat64x4((*[4]float64)(r[0:4])).Add(c20).Store((*[4]float64)(r[0:4]))
	archsimd.LoadFloat64x4((*[4]float64)(r[4:8])).Add(c21).Store((*[4]float64)(r[4:8]))
	archsimd.LoadFloat64x4((*[4]float64)(r[8:12])).Add(c22).Store((*[4]float64)(r[8:12]))
	archsimd.ClearAVXUpperBits() // leave the thread clean for SSE code (internal/avx)
}
