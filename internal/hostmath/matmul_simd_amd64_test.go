//go:build goexperiment.simd

package hostmath

import (
	"simd/archsimd"
	"testing"
)

func TestMatMulKernelSIMD(t *testing.T) {
	if archsimd.X86.AVX512() {
		t.Run("avx512/float32", func(t *testing.T) { testMatMul(t, withKernel(kernel[float32]{3, 48, kernel3x48f32})) })
		t.Run("avx512/float64", func(t *testing.T) { testMatMul(t, withKernel(kernel[float64]{3, 24, kernel3x24f64})) })
	}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		t.Run("avx2/float32", func(t *testing.T) { testMatMul(t, withKernel(kernel[float32]{3, 24, kernel3x24f32})) })
		t.Run("avx2/float64", func(t *testing.T) { testMatMul(t, withKernel(kernel[float64]{3, 12, kernel3x12f64})) })
	}
}
