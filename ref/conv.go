package ref

import (
	"fmt"

	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// ConvShape is the geometry of a 2-D convolution of x [B, H, W, C] (NHWC, as the graph code and arch use)
// with weights [KH, KW, C, Out], stride Stride and Pad zeros on each side of both spatial axes.
type ConvShape struct {
	B, H, W, C  int
	KH, KW, Out int
	Stride, Pad int
}

// OutSize returns the output's spatial size H' = ⌊(H + 2·Pad − KH)/Stride⌋ + 1 and W' likewise.
func (s ConvShape) OutSize() (ho, wo int) {
	return (s.H+2*s.Pad-s.KH)/s.Stride + 1, (s.W+2*s.Pad-s.KW)/s.Stride + 1
}

// patchLen is the length of one im2col row, KH·KW·C.
func (s ConvShape) patchLen() int { return s.KH * s.KW * s.C }

// checkConv panics unless s is a valid convolution with a non-empty output and x, w have its sizes.
func checkConv[T Float](fn string, s ConvShape, x, w []T) {
	if s.B < 1 || s.H < 1 || s.W < 1 || s.C < 1 || s.KH < 1 || s.KW < 1 || s.Out < 1 || s.Stride < 1 || s.Pad < 0 ||
		s.H+2*s.Pad < s.KH || s.W+2*s.Pad < s.KW {
		panic(fmt.Sprintf("ref: %s: invalid convolution %+v", fn, s))
	}
	if len(x) != s.B*s.H*s.W*s.C || len(w) != s.patchLen()*s.Out {
		panic(fmt.Sprintf("ref: %s: want x [%d, %d, %d, %d] and w [%d, %d, %d, %d], got %d and %d values",
			fn, s.B, s.H, s.W, s.C, s.KH, s.KW, s.C, s.Out, len(x), len(w)))
	}
}

// Conv2DCache holds what Conv2DBackward needs from one Conv2DForward, and the buffers that later calls on
// the same cache reuse.
type Conv2DCache[T Float] struct {
	Shape   ConvShape
	W       []T // the weights, not copied
	Patches []T // im2col(x) [B·H'·W', KH·KW·C]; Conv2DBackward overwrites it with ∂L/∂patches
	Y       []T // the output [B, H', W', Out]
	DW, DX  []T // the last backward's ∂L/∂w and ∂L/∂x
	dwPart  []T // weightGrad's partial products
}

// Conv2DForward is the twin of ops.Conv2D: the cross-correlation of x [B, H, W, C] with w [KH, KW, C, Out],
//
//	y[b, p, q, o] = Σ_{i<KH, j<KW, c} x̃[b, s·p+i, s·q+j, c] · w[i, j, c, o],   x̃ = x zero-padded by Pad
//
// computed as im2col: the patches P [B·H'·W', KH·KW·C], row (b, p, q) holding x̃[b, s·p+i, s·q+j, c] in
// (i, j, c) order, times w read as [KH·KW·C, Out], so Y = P·W is already [B, H', W', Out]. The im2col is
// parallel over output rows and the product is MatMul. A non-nil dst has its buffers reused (the result is
// dst); nil allocates. It panics if the shapes do not match.
func Conv2DForward[T Float](dst *Conv2DCache[T], s ConvShape, x, w []T) *Conv2DCache[T] {
	checkConv("Conv2DForward", s, x, w)
	c := dst
	if c == nil {
		c = new(Conv2DCache[T])
	}
	c.Shape, c.W = s, w
	ho, wo := s.OutSize()
	m, k := s.B*ho*wo, s.patchLen()
	c.Patches = resize(c.Patches, m*k)
	im2col(c.Patches, x, s)
	c.Y = MatMul(resize(c.Y, m*s.Out), c.Patches, w, m, k, s.Out, false, false) // P·W   [B·H'·W', Out]
	return c
}

// Conv2DBackward returns ∂L/∂w and, if wantDX, ∂L/∂x, given dy = ∂L/∂y [B, H', W', Out]. Backward of
//
//	Y = P·W:   ∂L/∂W = Pᵀ ∂L/∂Y  (weightGrad),   ∂L/∂P = ∂L/∂Y Wᵀ  (MatMul with transB, no explicit transpose)
//	P = im2col(x):   ∂L/∂x = col2im(∂L/∂P), each patch entry added back to the pixel it was copied from
//	                 (padding entries are dropped)
//
// The results are the cache's DW and DX buffers, overwritten by the next backward on c. ∂L/∂P is written
// over c.Patches, so a cache supports one backward per forward. Without wantDX, dx is nil.
func Conv2DBackward[T Float](c *Conv2DCache[T], dy []T, wantDX bool) (dw, dx []T) {
	s := c.Shape
	ho, wo := s.OutSize()
	m, k := s.B*ho*wo, s.patchLen()
	checkRows("Conv2DBackward", dy, m, s.Out)
	c.DW = resize(c.DW, k*s.Out)
	c.dwPart = weightGrad(c.DW, c.dwPart, c.Patches, dy, m, k, s.Out) // Pᵀ ∂L/∂Y   [KH·KW·C, Out]
	if !wantDX {
		return c.DW, nil
	}
	dp := MatMul(c.Patches, dy, c.W, m, s.Out, k, false, true) // ∂L/∂Y Wᵀ   [B·H'·W', KH·KW·C]
	c.DX = resize(c.DX, s.B*s.H*s.W*s.C)
	col2im(c.DX, dp, s)
	return c.DW, c.DX
}

// dwChunk is the number of patch rows in one partial product of weightGrad.
const dwChunk = 2048

// weightGrad sets dst [k, out] to Pᵀ G for p [m, k] and g [m, out], where m = B·H'·W' is long and k, out are
// short. MatMul packs all of its second operand before it starts; for m in the hundreds of thousands that
// buffer is tens of megabytes, freshly allocated (page faults, a clear) and out of cache. So the rows are
// split into chunks of dwChunk whose products P_cᵀ G_c run in parallel and are then added in chunk order, so
// that the result does not depend on the number of goroutines. Each chunk's product is computed as P_cᵀ G_c
// (transA) or, when the micro-kernel's column tile nr wastes less on k than on out (out = 64 pads to 96 for
// nr = 48, k = 9·64 = 576 not at all), as (G_cᵀ P_c)ᵀ, transposed while adding. part is scratch, returned
// for reuse.
func weightGrad[T Float](dst, part, p, g []T, m, k, out int) []T {
	trans := hostmath.TileCols[T](k)*out < hostmath.TileCols[T](out)*k // does G_cᵀ P_c waste less of the tiles?
	chunks := (m + dwChunk - 1) / dwChunk
	if chunks == 1 && !trans {
		MatMul(dst, p, g, k, m, out, true, false)
		return part
	}
	part = resize(part, chunks*k*out)
	hostmath.ParallelFor(chunks, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			r0, r1 := ch*dwChunk, min(m, (ch+1)*dwChunk)
			pc, gc, dc := p[r0*k:r1*k], g[r0*out:r1*out], part[ch*k*out:(ch+1)*k*out]
			if trans {
				MatMul(dc, gc, pc, out, r1-r0, k, true, false) // G_cᵀ P_c   [out, k]
			} else {
				MatMul(dc, pc, gc, k, r1-r0, out, true, false) // P_cᵀ G_c   [k, out]
			}
		}
	})
	hostmath.ParallelFor(k, max(1, 1<<12/out), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := dst[i*out : (i+1)*out]
			for o := range row {
				var sum T
				for ch := range chunks {
					if trans {
						sum += part[(ch*out+o)*k+i]
					} else {
						sum += part[(ch*k+i)*out+o]
					}
				}
				row[o] = sum
			}
		}
	})
	return part
}

// im2col writes the patches of x for convolution s into dst [B·H'·W', KH·KW·C], in parallel over output
// rows (b, p). For stride 1 the KW taps of one kernel row read KW·C contiguous values of x, copied at once.
func im2col[T Float](dst, x []T, s ConvShape) {
	ho, wo := s.OutSize()
	k, rowLen := s.patchLen(), s.KW*s.C
	hostmath.ParallelFor(s.B*ho, max(1, 1<<14/(wo*k)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, p := r/ho, r%ho
			img := x[b*s.H*s.W*s.C : (b+1)*s.H*s.W*s.C]
			for q := range wo {
				row := dst[(r*wo+q)*k : (r*wo+q+1)*k]
				x0 := s.Stride*q - s.Pad // first input column of the window
				for i := range s.KH {
					seg := row[i*rowLen : (i+1)*rowLen]
					y := s.Stride*p + i - s.Pad
					if y < 0 || y >= s.H {
						clear(seg)
						continue
					}
					line := img[y*s.W*s.C : (y+1)*s.W*s.C]
					if x0 >= 0 && x0+s.KW <= s.W { // the whole kernel row lies inside the image
						src := line[x0*s.C : (x0+s.KW)*s.C]
						if len(src) < 16 { // a loop beats memmove's call for a few values (C = 1)
							for t, v := range src {
								seg[t] = v
							}
						} else {
							copy(seg, src)
						}
						continue
					}
					for j := range s.KW {
						xc, tap := x0+j, seg[j*s.C:(j+1)*s.C]
						if xc < 0 || xc >= s.W {
							clear(tap)
						} else {
							copy(tap, line[xc*s.C:(xc+1)*s.C])
						}
					}
				}
			}
		}
	})
}

// col2im sets dst [B, H, W, C] to the sum, over every patch entry of dp [B·H'·W', KH·KW·C], of the entry
// added at the pixel im2col copied it from. Images are independent, so it runs in parallel over b.
func col2im[T Float](dst, dp []T, s ConvShape) {
	ho, wo := s.OutSize()
	k, img := s.patchLen(), s.H*s.W*s.C
	hostmath.ParallelFor(s.B, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			out := dst[b*img : (b+1)*img]
			clear(out)
			for p := range ho {
				for q := range wo {
					row := dp[((b*ho+p)*wo+q)*k:][:k]
					x0 := s.Stride*q - s.Pad
					for i := range s.KH {
						y := s.Stride*p + i - s.Pad
						if y < 0 || y >= s.H {
							continue
						}
						line := out[y*s.W*s.C : (y+1)*s.W*s.C]
						if x0 >= 0 && x0+s.KW <= s.W { // the kernel row's KW·C values are contiguous in x
							seg := line[x0*s.C : (x0+s.KW)*s.C]
							for t, v := range row[i*s.KW*s.C : (i+1)*s.KW*s.C] {
								seg[t] += v
							}
							continue
						}
						for j := range s.KW {
							xc := x0 + j
							if xc < 0 || xc >= s.W {
								continue
							}
							px := line[xc*s.C : (xc+1)*s.C]
							for ch, v := range row[(i*s.KW+j)*s.C:][:s.C] {
								px[ch] += v
							}
						}
					}
				}
			}
		}
	})
}

// resize returns buf[:n] if buf can hold n values, else a new slice of length n. The contents are
// unspecified: callers overwrite them.
func resize[T Float](buf []T, n int) []T {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]T, n)
}
