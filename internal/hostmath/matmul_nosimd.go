//go:build !goexperiment.simd || !amd64

package hostmath

// kernelFor returns the plain-Go micro-kernel: without GOEXPERIMENT=simd on amd64 there is no other.
func kernelFor[T Float]() kernel[T] { return kernel[T]{mr: 2, nr: 4, fn: kernelGo[T]} }
