package ref

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// convDirect is the convolution by its definition, six nested loops in float64.
func convDirect(x, w []float64, s ConvShape) []float64 {
	ho, wo := s.OutSize()
	y := make([]float64, s.B*ho*wo*s.Out)
	for b := range s.B {
		for p := range ho {
			for q := range wo {
				for o := range s.Out {
					var sum float64
					for i := range s.KH {
						for j := range s.KW {
							yi, xj := s.Stride*p+i-s.Pad, s.Stride*q+j-s.Pad
							if yi < 0 || yi >= s.H || xj < 0 || xj >= s.W {
								continue
							}
							for c := range s.C {
								sum += x[((b*s.H+yi)*s.W+xj)*s.C+c] * w[((i*s.KW+j)*s.C+c)*s.Out+o]
							}
						}
					}
					y[((b*ho+p)*wo+q)*s.Out+o] = sum
				}
			}
		}
	}
	return y
}

// convShapes are the geometries the convolution tests sweep: strides 1 and 2, padding 0 and 1, C = 1 and 3,
// odd sizes, 1×1, 3×3, 2×3 and 7×7 kernels.
var convShapes = []ConvShape{
	{B: 2, H: 5, W: 4, C: 1, KH: 3, KW: 3, Out: 2, Stride: 1, Pad: 1},
	{B: 2, H: 5, W: 6, C: 3, KH: 3, KW: 3, Out: 4, Stride: 1, Pad: 0},
	{B: 1, H: 7, W: 5, C: 3, KH: 3, KW: 3, Out: 2, Stride: 2, Pad: 1},
	{B: 3, H: 6, W: 6, C: 1, KH: 3, KW: 3, Out: 3, Stride: 2, Pad: 0},
	{B: 2, H: 4, W: 5, C: 3, KH: 1, KW: 1, Out: 2, Stride: 2, Pad: 0},
	{B: 1, H: 4, W: 5, C: 2, KH: 2, KW: 3, Out: 3, Stride: 1, Pad: 1},
	{B: 1, H: 9, W: 8, C: 3, KH: 7, KW: 7, Out: 2, Stride: 2, Pad: 3},
}

// TestConv2D: the im2col forward equals the definition, and the backward equals central finite differences
// of L = Σ r ⊙ y for w and x.
func TestConv2D(t *testing.T) {
	const h = 1e-4
	r := rand.New(rand.NewPCG(61, 62))
	var c *Conv2DCache[float64] // one cache for all shapes: buffers are resized between them
	for _, s := range convShapes {
		t.Run(fmt.Sprintf("%+v", s), func(t *testing.T) {
			ho, wo := s.OutSize()
			x, w := randSlice[float64](r, s.B*s.H*s.W*s.C), randSlice[float64](r, s.KH*s.KW*s.C*s.Out)
			rw := randSlice[float64](r, s.B*ho*wo*s.Out)
			c = Conv2DForward(c, s, x, w)
			if e := relErr(c.Y, convDirect(x, w, s)); e > 1e-14 {
				t.Fatalf("forward differs from the definition by %.3g", e)
			}
			loss := weighted(c.Y, rw)
			dw, dx := Conv2DBackward(c, rw, true)
			fdW := centralDiff(func(v []float64) float64 { return weighted(convDirect(x, v, s), rw) }, w, h)
			fdX := centralDiff(func(v []float64) float64 { return weighted(convDirect(v, w, s), rw) }, x, h)
			if e := relErrFloor(dw, fdW, fdFloor(loss, h, len(fdW))); e > 1e-6 {
				t.Errorf("∂L/∂w: relative error %.3g", e)
			}
			if e := relErrFloor(dx, fdX, fdFloor(loss, h, len(fdX))); e > 1e-6 {
				t.Errorf("∂L/∂x: relative error %.3g", e)
			}
		})
	}
}

// TestWeightGrad checks weightGrad's chunked products, in both orientations, against the triple loop, with
// m spanning several chunks and a short last one.
func TestWeightGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(65, 66))
	const m = 2*dwChunk + 77
	for _, sz := range [][2]int{{9, 32}, {48, 20}, {3, 5}} {
		k, out := sz[0], sz[1]
		p, g := randSlice[float64](r, m*k), randSlice[float64](r, m*out)
		want := make([]float64, k*out)
		for row := range m {
			for i := range k {
				for o := range out {
					want[i*out+o] += p[row*k+i] * g[row*out+o]
				}
			}
		}
		got := make([]float64, k*out)
		weightGrad(got, nil, p, g, m, k, out)
		if e := relErr(got, want); e > 1e-13 {
			t.Errorf("k=%d out=%d: relative error %.3g", k, out, e)
		}
		got32 := make([]float32, k*out)
		weightGrad(got32, nil, toF32(p), toF32(g), m, k, out)
		if e := relErr(got32, want); e > 1e-5 {
			t.Errorf("float32 k=%d out=%d: relative error %.3g", k, out, e)
		}
	}
}

// TestConv2DHand checks one convolution by hand: a 3×3 image 1…9, a 2×2 kernel of ones, stride 1, padding
// 0, gives the four window sums 12, 16, 24, 28; with r = 1 everywhere ∂L/∂x counts the windows holding each
// pixel and ∂L/∂w sums each tap's pixels.
func TestConv2DHand(t *testing.T) {
	s := ConvShape{B: 1, H: 3, W: 3, C: 1, KH: 2, KW: 2, Out: 1, Stride: 1}
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	c := Conv2DForward(nil, s, x, []float64{1, 1, 1, 1})
	if e := relErr(c.Y, []float64{12, 16, 24, 28}); e != 0 {
		t.Errorf("y = %v", c.Y)
	}
	dw, dx := Conv2DBackward(c, []float64{1, 1, 1, 1}, true)
	if e := relErr(dx, []float64{1, 2, 1, 2, 4, 2, 1, 2, 1}); e != 0 {
		t.Errorf("dx = %v", dx)
	}
	if e := relErr(dw, []float64{1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9}); e != 0 {
		t.Errorf("dw = %v", dw)
	}
	if _, dx := Conv2DBackward(Conv2DForward(c, s, x, []float64{1, 1, 1, 1}), []float64{1, 1, 1, 1}, false); dx != nil {
		t.Error("dx without wantDX")
	}
}

// TestConv2DFloat32 checks float32 against float64 on a shape large enough for MatMul's blocked kernels.
func TestConv2DFloat32(t *testing.T) {
	s := ConvShape{B: 4, H: 12, W: 10, C: 8, KH: 3, KW: 3, Out: 16, Stride: 1, Pad: 1}
	r := rand.New(rand.NewPCG(63, 64))
	ho, wo := s.OutSize()
	x, w, dy := randSlice[float64](r, s.B*s.H*s.W*s.C), randSlice[float64](r, 9*s.C*s.Out), randSlice[float64](r, s.B*ho*wo*s.Out)
	c64 := Conv2DForward(nil, s, x, w)
	c32 := Conv2DForward(nil, s, toF32(x), toF32(w))
	if e := relErr(c32.Y, c64.Y); e > 1e-6 {
		t.Errorf("y: float32 differs by %.3g", e)
	}
	dw64, dx64 := Conv2DBackward(c64, dy, true)
	dw32, dx32 := Conv2DBackward(c32, toF32(dy), true)
	if e := relErr(dw32, dw64); e > 1e-6 {
		t.Errorf("dw: float32 differs by %.3g", e)
	}
	if e := relErr(dx32, dx64); e > 1e-6 {
		t.Errorf("dx: float32 differs by %.3g", e)
	}
}

func BenchmarkConv2D(b *testing.B) {
	for _, s := range []ConvShape{
		{B: 512, H: 28, W: 28, C: 1, KH: 3, KW: 3, Out: 32, Stride: 1, Pad: 1},
		{B: 512, H: 14, W: 14, C: 32, KH: 3, KW: 3, Out: 64, Stride: 1, Pad: 1},
		{B: 32, H: 32, W: 32, C: 64, KH: 3, KW: 3, Out: 64, Stride: 1, Pad: 1},
	} {
		b.Run(fmt.Sprintf("b=%d/hw=%d/c=%d/out=%d", s.B, s.H, s.C, s.Out), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			ho, wo := s.OutSize()
			x, w, dy := randSlice[float32](r, s.B*s.H*s.W*s.C), randSlice[float32](r, 9*s.C*s.Out), randSlice[float32](r, s.B*ho*wo*s.Out)
			var c *Conv2DCache[float32]
			b.ReportAllocs()
			for b.Loop() {
				c = Conv2DForward(c, s, x, w)
				Conv2DBackward(c, dy, true)
			}
		})
	}
}
