//go:build !(goexperiment.simd && amd64)

package avx

// Clean does nothing: without GOEXPERIMENT=simd (or off amd64) neither we nor GoMLX run AVX code.
func Clean() {}

// Dirty cannot run an AVX instruction in this build.
func Dirty() bool { return false }

// Active is false: nothing in this build leaves the upper bits dirty.
func Active() bool { return false }
