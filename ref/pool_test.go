package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// maxPoolDirect is the max-pool by its definition, padding by −Inf.
func maxPoolDirect(x []float64, s PoolShape) []float64 {
	ho, wo := s.OutSize()
	y := make([]float64, s.B*ho*wo*s.C)
	for b := range s.B {
		for p := range ho {
			for q := range wo {
				for c := range s.C {
					m := math.Inf(-1)
					for i := range s.K {
						for j := range s.K {
							yi, xj := s.Stride*p+i-s.Pad, s.Stride*q+j-s.Pad
							if yi >= 0 && yi < s.H && xj >= 0 && xj < s.W {
								m = max(m, x[((b*s.H+yi)*s.W+xj)*s.C+c])
							}
						}
					}
					y[((b*ho+p)*wo+q)*s.C+c] = m
				}
			}
		}
	}
	return y
}

// TestMaxPool: forward equals the definition and backward equals central finite differences (random data:
// no ties) for the 2×2 pool on even and odd sizes, the ImageNet stem's 3×3/2 pool with padding 1 and an
// overlapping 3×3/1 pool.
func TestMaxPool(t *testing.T) {
	const h = 1e-5
	r := rand.New(rand.NewPCG(71, 72))
	var c *MaxPoolCache[float64]
	for _, s := range []PoolShape{
		{B: 2, H: 4, W: 6, C: 3, K: 2, Stride: 2},
		{B: 2, H: 5, W: 7, C: 2, K: 2, Stride: 2},
		{B: 2, H: 8, W: 7, C: 2, K: 3, Stride: 2, Pad: 1},
		{B: 1, H: 4, W: 5, C: 3, K: 3, Stride: 1, Pad: 1},
	} {
		t.Run(fmt.Sprintf("%+v", s), func(t *testing.T) {
			ho, wo := s.OutSize()
			x, rw := randSlice[float64](r, s.B*s.H*s.W*s.C), randSlice[float64](r, s.B*ho*wo*s.C)
			c = MaxPoolForward(c, s, x)
			if !slices.Equal(c.Y, maxPoolDirect(x, s)) {
				t.Fatal("forward differs from the definition")
			}
			dx := MaxPoolBackward(c, rw)
			fd := centralDiff(func(v []float64) float64 { return weighted(maxPoolDirect(v, s), rw) }, x, h)
			if e := relErrFloor(dx, fd, fdFloor(weighted(c.Y, rw), h, len(fd))); e > 1e-6 {
				t.Errorf("∂L/∂x: relative error %.3g", e)
			}
		})
	}
	if h, w := (PoolShape{H: 7, W: 5, K: 2, Stride: 2}).OutSize(); h != 3 || w != 2 {
		t.Errorf("2×2 pool of 7×5 gives %d×%d, want 3×2 (odd row and column dropped)", h, w)
	}
}

// TestMaxPoolTies: a tied window sends the whole gradient to its first maximum in row-major order, as
// graph.MaxPool and the chains of Max in models do; overlapping windows add up at a shared maximum.
func TestMaxPoolTies(t *testing.T) {
	// One 2×2 window: values (row-major) 1, 3, 3, 3.
	c := MaxPoolForward(nil, PoolShape{B: 1, H: 2, W: 2, C: 1, K: 2, Stride: 2}, []float64{1, 3, 3, 3})
	if dx := MaxPoolBackward(c, []float64{5}); !slices.Equal(dx, []float64{0, 5, 0, 0}) || c.Y[0] != 3 {
		t.Errorf("tie: y = %v, dx = %v, want 3 and [0 5 0 0]", c.Y, dx)
	}
	// Many ties (values in {0, 1, 2}): the 2×2 pool's branch-free loop finds the first maximum of each window,
	// as a direct search does.
	r := rand.New(rand.NewPCG(73, 74))
	s := PoolShape{B: 2, H: 6, W: 7, C: 3, K: 2, Stride: 2}
	x := make([]float64, s.B*s.H*s.W*s.C)
	for i := range x {
		x[i] = float64(r.IntN(3))
	}
	c = MaxPoolForward(c, s, x)
	ho, wo := s.OutSize()
	for b := range s.B {
		for p := range ho {
			for q := range wo {
				for ch := range s.C {
					first := -1
					for _, d := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
						at := ((b*s.H+2*p+d[0])*s.W+2*q+d[1])*s.C + ch
						if first < 0 || x[at] > x[first] {
							first = at
						}
					}
					if o := ((b*ho+p)*wo+q)*s.C + ch; int(c.Arg[o]) != first {
						t.Fatalf("output %d: maximum at %d, want the first, %d", o, c.Arg[o], first)
					}
				}
			}
		}
	}
	// 3×3 stride 1 pad 1 on a 2×2 image with its maximum at (1, 1): all four windows pick it.
	c = MaxPoolForward(nil, PoolShape{B: 1, H: 2, W: 2, C: 1, K: 3, Stride: 1, Pad: 1}, []float64{-4, -3, -2, -1})
	if dx := MaxPoolBackward(c, []float64{1, 2, 3, 4}); !slices.Equal(dx, []float64{0, 0, 0, 10}) {
		t.Errorf("overlap: dx = %v, want [0 0 0 10]", dx)
	}
}
