package ref

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// PoolShape is the geometry of a K×K max-pool with stride Stride and padding Pad of x [B, H, W, C].
type PoolShape struct {
	B, H, W, C     int
	K, Stride, Pad int
}

// OutSize returns H' = ⌊(H + 2·Pad − K)/Stride⌋ + 1 and W' likewise. For the 2×2 pool with stride 2 this is
// ⌊H/2⌋: an odd last row or column is dropped, as ops.MaxPool does.
func (s PoolShape) OutSize() (ho, wo int) {
	return (s.H+2*s.Pad-s.K)/s.Stride + 1, (s.W+2*s.Pad-s.K)/s.Stride + 1
}

// MaxPoolCache holds what MaxPoolBackward needs from one MaxPoolForward, and the buffers later calls on the
// same cache reuse.
type MaxPoolCache[T Float] struct {
	Shape PoolShape
	Arg   []int32 // the index in x of each output's maximum   [B, H', W', C]
	Y     []T     // the output   [B, H', W', C]
	DX    []T     // the last backward's ∂L/∂x   [B, H, W, C]
}

// MaxPoolForward is the twin of ops.MaxPool:
//
//	y[b, p, q, c] = max_{i,j<K} x̃[b, s·p+i, s·q+j, c],   x̃ = x padded by Pad values that are never a maximum
//
// (the graph pads with −MaxFloat32; here padded positions are skipped; 0 ≤ Pad < K keeps a real pixel in
// every window). It records the position of the first maximum of each window in row-major (i, j) order,
// which is where the backward sends the gradient. A non-nil dst has its buffers reused; nil allocates. It
// runs in parallel over output rows and panics if the shapes do not fit.
func MaxPoolForward[T Float](dst *MaxPoolCache[T], s PoolShape, x []T) *MaxPoolCache[T] {
	if s.B < 1 || s.H < 1 || s.W < 1 || s.C < 1 || s.K < 1 || s.Stride < 1 || s.Pad < 0 || s.Pad >= s.K ||
		s.H+2*s.Pad < s.K || s.W+2*s.Pad < s.K || len(x) != s.B*s.H*s.W*s.C || len(x) > math.MaxInt32 {
		panic(fmt.Sprintf("ref: MaxPoolForward: invalid pool %+v for %d values", s, len(x)))
	}
	c := dst
	if c == nil {
		c = new(MaxPoolCache[T])
	}
	c.Shape = s
	ho, wo := s.OutSize()
	n := s.B * ho * wo * s.C
	c.Y, c.Arg = resize(c.Y, n), resizeInt32(c.Arg, n)
	if s.K == 2 && s.Stride == 2 && s.Pad == 0 {
		maxPool2x2(c.Y, c.Arg, x, s)
		return c
	}
	hostmath.ParallelFor(s.B*ho, max(1, 1<<12/(wo*s.C)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, p := r/ho, r%ho
			for q := range wo {
				out := (r*wo + q) * s.C
				y, arg := c.Y[out:out+s.C], c.Arg[out:out+s.C]
				first := true
				for i := range s.K {
					yi := s.Stride*p + i - s.Pad
					if yi < 0 || yi >= s.H {
						continue
					}
					for j := range s.K {
						xj := s.Stride*q + j - s.Pad
						if xj < 0 || xj >= s.W {
							continue
						}
						at := ((b*s.H+yi)*s.W + xj) * s.C
						px := x[at : at+s.C]
						if first { // the first real pixel starts every channel's maximum
							copy(y, px)
							for ch := range arg {
								arg[ch] = int32(at + ch)
							}
							first = false
							continue
						}
						for ch, v := range px {
							if v > y[ch] { // strictly greater: ties keep the earlier position
								y[ch], arg[ch] = v, int32(at+ch)
							}
						}
					}
				}
			}
		}
	})
	return c
}

// maxPool2x2 is MaxPoolForward's loop for K = Stride = 2, Pad = 0, written without unpredictable branches
// (random data makes each comparison a coin toss): with the window a b / c d, the first maximum in row-major
// order is in the top pair if max(a, b) ≥ max(c, d), and within a pair the left value unless the right one is
// strictly greater. The comparisons become conditional moves.
func maxPool2x2[T Float](y []T, arg []int32, x []T, s PoolShape) {
	ho, wo, c := s.H/2, s.W/2, s.C
	hostmath.ParallelFor(s.B*ho, max(1, 1<<12/(wo*c)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			top := ((r/ho*s.H + 2*(r%ho)) * s.W) * c // first value of the window's top row
			bot := top + s.W*c
			for q := range wo {
				ta, ba := top+2*q*c, bot+2*q*c // a and c; b and d follow each by c
				xa, xb, xc, xd := x[ta:ta+c], x[ta+c:ta+2*c], x[ba:ba+c], x[ba+c:ba+2*c]
				out := (r*wo + q) * c
				yo, ao := y[out:out+c], arg[out:out+c]
				for ch := range yo {
					va, vb, vc, vd := xa[ch], xb[ch], xc[ch], xd[ch]
					m0, m1 := max(va, vb), max(vc, vd)
					i0, i1 := int32(ta+ch), int32(ba+ch)
					if vb > va {
						i0 += int32(c)
					}
					if vd > vc {
						i1 += int32(c)
					}
					if m1 > m0 {
						i0 = i1
					}
					yo[ch], ao[ch] = max(m0, m1), i0
				}
			}
		}
	})
}

// MaxPoolBackward returns ∂L/∂x given dy = ∂L/∂y [B, H', W', C]. Backward of y = max_{window} x̃: the whole
// ∂L/∂y goes to the window's first maximum (in row-major window order), summed where overlapping windows
// (stride < K) pick the same pixel. This matches graph.MaxPool (SelectAndScatter), the Go backend's fast
// path of the small CNN and ops.MaxPool, whose chain of Max sends a tie to its earlier operand.
// ops.MaxPool's 2×2 form on the Go backend, a ReduceMax, differs on ties only: each tied maximum receives the
// whole gradient.
// Continuous random inputs have no ties almost surely. The result is the cache's DX buffer, overwritten by
// the next backward on c. It runs in parallel over images.
func MaxPoolBackward[T Float](c *MaxPoolCache[T], dy []T) []T {
	s := c.Shape
	ho, wo := s.OutSize()
	checkRows("MaxPoolBackward", dy, s.B*ho*wo, s.C)
	img, outImg := s.H*s.W*s.C, ho*wo*s.C
	c.DX = resize(c.DX, s.B*img)
	hostmath.ParallelFor(s.B, 1, func(lo, hi int) {
		clear(c.DX[lo*img : hi*img])
		for o := lo * outImg; o < hi*outImg; o++ { // an image's maxima lie in the same image
			c.DX[c.Arg[o]] += dy[o]
		}
	})
	return c.DX
}

// resizeInt32 is resize for index buffers.
func resizeInt32(buf []int32, n int) []int32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]int32, n)
}
