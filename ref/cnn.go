package ref

import (
	"fmt"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// CNNCache holds what CNNBackward needs from one CNNForward, and the buffers later calls on the same cache
// reuse.
type CNNCache[T Float] struct {
	Arch   arch.CNN
	Params [][]T // not copied
	Batch  int
	X      []T                // input, not copied   [B, H, W, C]
	Conv   []*Conv2DCache[T]  // per stage: the 3×3 convolution
	Pool   []*MaxPoolCache[T] // per stage: the 2×2 pool, whose Y is then overwritten by a_l = relu(pool + b_l)
	Out    []T                // h = relu(flatten(a_L) W + b)   [B, Dense]

	dPre, dW, dA []T // backward buffers: ∂L/∂pre [B, Dense], ∂L/∂W [f, Dense], ∂L/∂a_L [B, f]
}

// CNNForward applies the small CNN a (arch.CNN) to x [batch, H, W, C] with params in the order of
// a.Params(), the twin of models.CNN:
//
//	a_0 = x,  a_l = relu(maxpool2×2(conv3×3(a_{l−1}, K_l)) + b_l),  h = relu(flatten(a_L) W + b)
//
// with "same" zero padding, stride 1, the pool dropping an odd last row or column, and flatten in (h, w, c)
// order, which for NHWC maps is no copy at all. Like the graph it adds the bias and applies relu after the
// pool, on a quarter of the values: the same function, since a 2×2 max commutes with adding a per-channel
// constant and with the monotone relu. The output h [batch, Dense] is the cache's Out. A non-nil dst has its
// buffers reused (the result is dst); nil allocates. It panics if a is invalid or a shape does not match.
func CNNForward[T Float](dst *CNNCache[T], a arch.CNN, params [][]T, x []T, batch int) *CNNCache[T] {
	if err := a.Validate(); err != nil {
		panic(fmt.Sprintf("ref: CNNForward: %v", err))
	}
	checkParams("CNNForward", a.Params(), params)
	checkRows("CNNForward", x, batch, a.H*a.W*a.C)
	n := len(a.Channels)
	c := dst
	if c == nil {
		c = new(CNNCache[T])
	}
	if len(c.Conv) != n {
		c.Conv, c.Pool = make([]*Conv2DCache[T], n), make([]*MaxPoolCache[T], n)
	}
	c.Arch, c.Params, c.Batch, c.X = a, params, batch, x
	h, hh, hw, in := x, a.H, a.W, a.C
	for l, ch := range a.Channels {
		s := ConvShape{B: batch, H: hh, W: hw, C: in, KH: 3, KW: 3, Out: ch, Stride: 1, Pad: 1}
		c.Conv[l] = Conv2DForward(c.Conv[l], s, h, params[2*l]) // [B, H_l, W_l, C_l]
		ps := PoolShape{B: batch, H: hh, W: hw, C: ch, K: 2, Stride: 2}
		c.Pool[l] = MaxPoolForward(c.Pool[l], ps, c.Conv[l].Y) // [B, ⌊H_l/2⌋, ⌊W_l/2⌋, C_l]
		h = c.Pool[l].Y
		biasReLU(h, params[2*l+1]) // a_l = relu(pool + b_l), in place
		hh, hw, in = hh/2, hw/2, ch
	}
	f := hh * hw * in
	c.Out = MatMul(resize(c.Out, batch*a.Dense), h, params[2*n], batch, f, a.Dense, false, false) // flatten(a_L) W   [B, Dense]
	biasReLU(c.Out, params[2*n+1])
	return c
}

// CNNBackward returns the gradients of a scalar L with respect to every parameter (in params order) and to
// the input, given dOut = ∂L/∂h [B, Dense]. See cnnBackward for the formulas. The weight gradients and dx
// are buffers of the cache, overwritten by the next backward on c (the bias gradients are new).
func CNNBackward[T Float](c *CNNCache[T], dOut []T) (dParams [][]T, dx []T) {
	return cnnBackward(c, dOut, true)
}

// cnnBackward is CNNBackward; with wantDX false it skips ∂L/∂x (the first layer's transposed convolution),
// which training never needs, and returns a nil dx. Backward of
//
//	h = relu(f W + b):              ∂L/∂pre = ∂L/∂h ⊙ 1[h > 0],  ∂L/∂W = fᵀ ∂L/∂pre,  ∂L/∂b = Σ_batch ∂L/∂pre,
//	                                ∂L/∂f = ∂L/∂pre Wᵀ   (f = flatten(a_L), the same memory as a_L)
//	a_l = relu(pool_l + b_l):       g_l = ∂L/∂a_l ⊙ 1[a_l > 0],  ∂L/∂b_l = Σ_{b,h,w} g_l
//	pool_l = maxpool2×2(y_l):       ∂L/∂y_l = MaxPoolBackward(g_l)   (to each window's first maximum)
//	y_l = conv3×3(a_{l−1}, K_l):    ∂L/∂K_l, ∂L/∂a_{l−1} = Conv2DBackward(∂L/∂y_l)
//
// A tie in a window (probability zero for continuous data) would send the gradient to its first maximum, as
// the Go backend's fast path does; its general substitutes (ops.MaxPool's 2×2 form, a ReduceMax) would send it
// to every tied maximum.
func cnnBackward[T Float](c *CNNCache[T], dOut []T, wantDX bool) (dParams [][]T, dx []T) {
	a, p, b := c.Arch, c.Params, c.Batch
	n := len(a.Channels)
	checkRows("CNNBackward", dOut, b, a.Dense)
	dParams = make([][]T, len(p))
	aL := c.Pool[n-1].Y
	f := len(aL) / b
	c.dPre = resize(c.dPre, len(dOut))
	copy(c.dPre, dOut)
	reluMask(c.dPre, c.Out)                                                        // ∂L/∂pre   [B, Dense]
	c.dW = MatMul(resize(c.dW, f*a.Dense), aL, c.dPre, f, b, a.Dense, true, false) // fᵀ ∂L/∂pre   [f, Dense]
	dParams[2*n], dParams[2*n+1] = c.dW, colSums(c.dPre, b, a.Dense)               // and Σ_batch ∂L/∂pre
	c.dA = MatMul(resize(c.dA, b*f), c.dPre, p[2*n], b, a.Dense, f, false, true)   // ∂L/∂pre Wᵀ   [B, f]
	dA := c.dA
	for l := n - 1; l >= 0; l-- {
		pool := c.Pool[l]
		reluMask(dA, pool.Y) // g_l, in place
		dParams[2*l+1] = colSums(dA, len(dA)/a.Channels[l], a.Channels[l])
		dy := MaxPoolBackward(pool, dA) // ∂L/∂y_l   [B, H_l, W_l, C_l]
		dParams[2*l], dA = Conv2DBackward(c.Conv[l], dy, l > 0 || wantDX)
	}
	return dParams, dA
}

// biasReLU sets x_ij ← max(x_ij + bias_j, 0) for x [rows, len(bias)], in parallel over rows.
func biasReLU[T Float](x, bias []T) {
	n := len(bias)
	hostmath.ParallelFor(len(x)/n, max(1, 1<<14/n), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := x[i*n : (i+1)*n]
			for j, bj := range bias {
				row[j] = max(row[j]+bj, 0)
			}
		}
	})
}

// reluMask sets d_i ← 0 where out_i ≤ 0, for out = relu(pre): out_i > 0 exactly when pre_i > 0, so this is
// relu's backward ∂L/∂pre = ∂L/∂out ⊙ 1[pre > 0] (derivative 0 at the kink, as ops.ReLU).
func reluMask[T Float](d, out []T) {
	hostmath.ParallelFor(len(d), 1<<15, func(lo, hi int) {
		for i, v := range out[lo:hi] {
			if v <= 0 {
				d[lo+i] = 0
			}
		}
	})
}
