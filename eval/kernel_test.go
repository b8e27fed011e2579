package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernels checks logits and gradW, with the micro-kernels in use (AVX2 under GOEXPERIMENT=simd) and with
// the plain-Go ones, against float64 loops; the shapes cover the left-over rows of logits.
func TestKernels(t *testing.T) {
	simd := [2]func(x, wt []float32, dPad int, z []float32, ldz int){dot4x2, dot4x2Go}
	simdOuter := [2]func(int, []float32, int, []float32, int, []float32){outer2x32, outer2x32Go}
	defer func() { dot4x2, outer2x32 = simd[0], simdOuter[0] }()
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range []struct{ rows, dPad, cPad int }{{1, 32, 2}, {4, 32, 2}, {7, 64, 4}, {130, 96, 12}} {
		for k, name := range []string{"kernel", "go"} {
			dot4x2, outer2x32 = simd[k], simdOuter[k]
			t.Run(fmt.Sprintf("%s/rows=%d/d=%d/c=%d", name, s.rows, s.dPad, s.cPad), func(t *testing.T) {
				x, wt, g := normals(r, s.rows*s.dPad), normals(r, s.cPad*s.dPad), normals(r, s.rows*s.cPad)
				g8 := make([]float32, 8*len(g))
				for i, v := range g {
					for l := range 8 {
						g8[8*i+l] = v
					}
				}
				z, gwt := make([]float32, s.rows*s.cPad), make([]float32, s.cPad*s.dPad)
				logits(z, x, s.rows, s.dPad, wt, s.cPad)
				gradW(gwt, x, s.rows, s.dPad, g8, s.cPad)
				gradW(gwt, x, s.rows, s.dPad, g8, s.cPad) // it adds: twice the product
				for i := range s.rows {
					for c := range s.cPad {
						var want float64
						for p := range s.dPad {
							want += float64(x[i*s.dPad+p]) * float64(wt[c*s.dPad+p])
						}
						if got := float64(z[i*s.cPad+c]); math.Abs(got-want) > 1e-5*float64(s.dPad) {
							t.Fatalf("z[%d,%d] = %v, want %v", i, c, got, want)
						}
					}
				}
				for c := range s.cPad {
					for p := range s.dPad {
						var want float64
						for i := range s.rows {
							want += float64(g[i*s.cPad+c]) * float64(x[i*s.dPad+p])
						}
						if got := float64(gwt[c*s.dPad+p]) / 2; math.Abs(got-want) > 1e-5*float64(s.rows) {
							t.Fatalf("gᵀ_W[%d,%d] = %v, want %v", c, p, got, want)
						}
					}
				}
			})
		}
	}
}

// BenchmarkKernels times logits and gradW on one 128-row block of MNIST-sized rows (d = 784 padded to 800,
// 10 classes), the inner loop of the probe, from cache.
func BenchmarkKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 12))
	rows, dPad, cPad := logisticBlock, 800, 10
	x, wt, g8 := normals(r, rows*dPad), normals(r, cPad*dPad), normals(r, rows*cPad*8)
	z, gwt := make([]float32, rows*cPad), make([]float32, cPad*dPad)
	flops := float64(2 * rows * dPad * cPad)
	b.Run("op=logits", func(b *testing.B) {
		for b.Loop() {
			logits(z, x, rows, dPad, wt, cPad)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
	})
	b.Run("op=gradW", func(b *testing.B) {
		for b.Loop() {
			gradW(gwt, x, rows, dPad, g8, cPad)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
	})
}
