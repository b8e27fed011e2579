//go:build goexperiment.simd && amd64

package avx

import "simd/archsimd"

var hasAVX = archsimd.X86.AVX()

// Clean runs VZEROUPPER (archsimd.ClearAVXUpperBits) where the CPU has AVX; elsewhere it does nothing.
func Clean() {
	if hasAVX {
		archsimd.ClearAVXUpperBits()
	}
}

var scratch [16]float32

// Dirty runs one AVX instruction that writes a whole 256-bit register and leaves it dirty, as archsimd
// kernels do; it reports whether it could (the CPU has AVX2).
//
//go:noinline
func Dirty() bool {
	if !archsimd.X86.AVX2() {
		return false
	}
	v := archsimd.LoadFloat32x8Slice(scratch[:8])
	v.Add(v).StoreSlice(scratch[8:])
	return true
}

// Active reports whether this binary has SIMD kernels that can leave the upper bits dirty, and so needs the
// guards (a build with GOEXPERIMENT=simd on an AVX CPU).
func Active() bool { return hasAVX }
