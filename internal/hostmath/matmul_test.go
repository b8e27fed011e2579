package hostmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// matMulCheck compares got = op(a)·op(b) with a float64 triple loop, allowing per element
// 4k·ε_T·Σ_p |op(a)_ip op(b)_pj| (the bound on the rounding error of any summation order).
func matMulCheck[T Float](t *testing.T, got, a, b []T, m, k, n int, transA, transB bool) {
	t.Helper()
	eps := 1e-16
	if _, ok := any(T(0)).(float32); ok {
		eps = 6e-8
	}
	for i := range m {
		for j := range n {
			var want, mag float64
			for p := range k {
				ai, bj := a[i*k+p], b[p*n+j]
				if transA {
					ai = a[p*m+i]
				}
				if transB {
					bj = b[j*k+p]
				}
				want += float64(ai) * float64(bj)
				mag += math.Abs(float64(ai) * float64(bj))
			}
			if d := math.Abs(float64(got[i*n+j]) - want); d > 4*float64(k)*eps*mag+1e-300 {
				t.Fatalf("(%d,%d) = %g, want %g (|diff| %g)", i, j, got[i*n+j], want, d)
			}
		}
	}
}

var matMulSizes = [][3]int{{1, 1, 1}, {3, 5, 7}, {2, 1, 9}, {17, 33, 9}, {31, 129, 47}, {97, 130, 101},
	{5, 1000, 7}, {50, 40, 1601}, {200, 300, 150}, {257, 255, 129}}

func randSlice[T Float](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(r.NormFloat64())
	}
	return s
}

func testMatMul[T Float](t *testing.T, mul func(dst, a, b []T, m, k, n int, ta, tb bool) []T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, sz := range matMulSizes {
		m, k, n := sz[0], sz[1], sz[2]
		if testing.Short() && m*k*n > 1e6 {
			continue
		}
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			t.Run(fmt.Sprintf("m=%d/k=%d/n=%d/tA=%v/tB=%v", m, k, n, tr[0], tr[1]), func(t *testing.T) {
				a, b := randSlice[T](r, m*k), randSlice[T](r, k*n)
				dst := randSlice[T](r, m*n) // overwritten, not accumulated into
				got := mul(dst, a, b, m, k, n, tr[0], tr[1])
				matMulCheck(t, got, a, b, m, k, n, tr[0], tr[1])
				if got2 := mul(nil, a, b, m, k, n, tr[0], tr[1]); !slices.Equal(got2, got) {
					t.Errorf("nil dst gives a different result")
				}
			})
		}
	}
}

func TestMatMul(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testMatMul(t, MatMul[float32]) })
	t.Run("float64", func(t *testing.T) { testMatMul(t, MatMul[float64]) })
}

// withKernel runs the blocked path with a given micro-kernel, whatever the size, so that every kernel is
// checked on this machine whichever kernelFor picks.
func withKernel[T Float](kn kernel[T]) func(dst, a, b []T, m, k, n int, ta, tb bool) []T {
	return func(dst, a, b []T, m, k, n int, ta, tb bool) []T {
		if dst == nil {
			dst = make([]T, m*n)
		}
		clear(dst)
		gemm(dst, a, b, m, k, n, ta, tb, kn)
		return dst
	}
}

func TestMatMulKernelGo(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testMatMul(t, withKernel(kernel[float32]{2, 4, kernelGo[float32]})) })
	t.Run("float64", func(t *testing.T) { testMatMul(t, withKernel(kernel[float64]{2, 4, kernelGo[float64]})) })
}

func TestMatMulPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short a":   func() { MatMul(nil, make([]float64, 5), make([]float64, 6), 2, 3, 2, false, false) },
		"short dst": func() { MatMul(make([]float64, 3), make([]float64, 6), make([]float64, 6), 2, 3, 2, false, false) },
		"negative":  func() { MatMul[float64](nil, nil, nil, -1, 0, 0, false, false) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			f()
		})
	}
}

func BenchmarkMatMul(b *testing.B) {
	for _, n := range []int{256, 512} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchMatMul[float32](b, n) })
		b.Run(fmt.Sprintf("n=%d/dtype=float64", n), func(b *testing.B) { benchMatMul[float64](b, n) })
	}
}

func benchMatMul[T Float](b *testing.B, n int) {
	r := rand.New(rand.NewPCG(1, 1))
	x, y, c := randSlice[T](r, n*n), randSlice[T](r, n*n), make([]T, n*n)
	b.ReportAllocs()
	for b.Loop() {
		MatMul(c, x, y, n, n, n, false, false)
	}
	b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func TestPeakGFLOPS(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	g := PeakGFLOPS[float32](256, 50*time.Millisecond)
	t.Logf("MatMul float32 n=256: %.1f GFLOP/s", g)
	if !(g > 0.1) {
		t.Errorf("PeakGFLOPS = %g", g)
	}
}
