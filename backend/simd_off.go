//go:build !goexperiment.simd

package backend

// SIMD tells whether the binary was built with GOEXPERIMENT=simd, which enables GoMLX's AVX2/AVX-512 kernels.
const SIMD = false
