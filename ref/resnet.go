package ref

import (
	"fmt"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// convBN is a convolution without bias followed by batch normalisation, the unit ResNet-18 is made of. Its
// weights are params[param]; the batch norm's γ, β, running mean and running variance follow them.
type convBN[T Float] struct {
	param int
	conv  *Conv2DCache[T]
	bn    *BatchNormCache[T]
}

// ResNet18Cache holds what ResNet18Backward needs from one ResNet18Forward, and the buffers later calls on
// the same cache reuse.
type ResNet18Cache[T Float] struct {
	Arch     arch.ResNet18
	Params   [][]T // not copied
	Batch    int
	Training bool
	X        []T // input, not copied   [B, H, W, C]
	Features []T // the globally average-pooled output   [B, 8w]

	units []*convBN[T]     // in params order: the stem, then each block's conv_1, conv_2 and shortcut
	pool  *MaxPoolCache[T] // the ImageNet stem's 3×3 max-pool
	out   [][]T            // each block's output relu(y + shortcut)   [B, H_k, W_k, C_k]
	dh    []T              // backward buffer: ∂L/∂(last block's output)
}

// ResNet18Forward applies ResNet-18 a (arch.ResNet18) to x [batch, H, W, C] with params in the order of
// a.Params(), the twin of models.ResNet18:
//
//	stem:    h = relu(bn(conv_k×k,s(x)))  (CIFAR: k = 3, s = 1; ImageNet: k = 7, s = 2, then maxpool 3×3, s 2, pad 1)
//	block:   y = bn_2(conv3×3(relu(bn_1(conv3×3_s(h))))),  h ← relu(y + shortcut(h)),
//	         shortcut(h) = h, or bn(conv1×1_s(h)) where the block has a projection
//	output:  features_bc = mean_{p,q} h_bpqc   [batch, 8w]
//
// Convolutions pad by ⌊k/2⌋; batch norms use the batch's statistics in training and the running averages
// in evaluation (BatchNormForward). The features are the cache's Features; in training, Stats gives the new
// running averages. A non-nil dst has its buffers reused (the result is dst); nil allocates. It panics if a
// is invalid or a shape does not match.
func ResNet18Forward[T Float](dst *ResNet18Cache[T], a arch.ResNet18, params [][]T, x []T, batch int, training bool) *ResNet18Cache[T] {
	if err := a.Validate(); err != nil {
		panic(fmt.Sprintf("ref: ResNet18Forward: %v", err))
	}
	checkParams("ResNet18Forward", a.Params(), params)
	checkRows("ResNet18Forward", x, batch, a.H*a.W*a.C)
	c := dst
	if c == nil {
		c = new(ResNet18Cache[T])
	}
	blocks := a.Blocks()
	c.Arch, c.Params, c.Batch, c.Training, c.X = a, params, batch, training, x
	c.out = resizeSlices(c.out, len(blocks))
	next := 0
	unit := func(x []T, hh, hw, cin, k, stride, pad, cout int) (y []T, ho, wo int) {
		if next == len(c.units) {
			c.units = append(c.units, &convBN[T]{})
		}
		u := c.units[next]
		next++
		u.param = 5 * (next - 1)
		s := ConvShape{B: batch, H: hh, W: hw, C: cin, KH: k, KW: k, Out: cout, Stride: stride, Pad: pad}
		u.conv = Conv2DForward(u.conv, s, x, params[u.param])
		ho, wo = s.OutSize()
		p := params[u.param+1 : u.param+5]
		u.bn = BatchNormForward(u.bn, u.conv.Y, p[0], p[1], p[2], p[3], batch*ho*wo, cout, training)
		return u.bn.Y, ho, wo
	}
	k, stride, pool := a.StemKernel()
	w := a.Features() / 8
	h, hh, hw := unit(x, a.H, a.W, a.C, k, stride, k/2, w)
	reluInPlace(h)
	if pool {
		ps := PoolShape{B: batch, H: hh, W: hw, C: w, K: 3, Stride: 2, Pad: 1}
		c.pool = MaxPoolForward(c.pool, ps, h)
		h = c.pool.Y
		hh, hw = ps.OutSize()
	}
	for bi, b := range blocks {
		y, ho, wo := unit(h, hh, hw, b.In, 3, b.Stride, 1, b.Out)
		reluInPlace(y)
		y, _, _ = unit(y, ho, wo, b.Out, 3, 1, 1, b.Out)
		shortcut := h
		if b.Projection {
			shortcut, _, _ = unit(h, hh, hw, b.In, 1, b.Stride, 0, b.Out)
		}
		out := resize(c.out[bi], len(y))
		hostmath.ParallelFor(len(out), 1<<15, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				out[i] = max(y[i]+shortcut[i], 0) // relu(y + shortcut)
			}
		})
		c.out[bi], h, hh, hw = out, out, ho, wo
	}
	c.units = c.units[:next]
	c.Features = meanPool(resize(c.Features, batch*8*w), h, batch, hh*hw, 8*w)
	return c
}

// Stats returns the new running averages of every batch norm after a training-mode forward, keyed by their
// index in params (running mean, running variance), as models.ResNet18's stats; nil in evaluation mode.
func (c *ResNet18Cache[T]) Stats() map[int][]T {
	if !c.Training {
		return nil
	}
	stats := make(map[int][]T, 2*len(c.units))
	for _, u := range c.units {
		i := u.param
		stats[i+3], stats[i+4] = BatchNormRunning(u.bn, c.Params[i+3], c.Params[i+4])
	}
	return stats
}

// ResNet18Backward returns the gradients of a scalar L with respect to the trainable parameters (in params
// order; nil for the running averages) and to the input, given dOut = ∂L/∂features [B, 8w]. See
// resnetBackward for the formulas.
func ResNet18Backward[T Float](c *ResNet18Cache[T], dOut []T) (dParams [][]T, dx []T) {
	return resnetBackward(c, dOut, true)
}

// resnetBackward is ResNet18Backward; with wantDX false it skips ∂L/∂x. Backward of, in reverse order,
//
//	features = mean_{p,q} h:     ∂L/∂h_bpqc = ∂L/∂features_bc / (H·W)
//	h' = relu(y + s):            g = ∂L/∂h' ⊙ 1[h' > 0];  ∂L/∂y = g, ∂L/∂s = g
//	y = bn_2(conv_2(r)):         BatchNormBackward, then Conv2DBackward give ∂L/∂γ_2, ∂L/∂β_2, ∂L/∂K_2, ∂L/∂r
//	r = relu(bn_1(conv_1(h))):   ∂L/∂r ⊙ 1[r > 0], then the same for bn_1 and conv_1: ∂L/∂h from this path
//	s = h or bn(conv1×1(h)):     ∂L/∂h += g, or the projection's backward of g
//	stem:                        MaxPoolBackward (ImageNet), relu's mask, BatchNormBackward, Conv2DBackward
//
// The batch norms are differentiated through the batch statistics in training (BatchNormBackward). The
// convolutions' gradients and dx are buffers of the cache, overwritten by the next backward on c.
func resnetBackward[T Float](c *ResNet18Cache[T], dOut []T, wantDX bool) (dParams [][]T, dx []T) {
	a, b := c.Arch, c.Batch
	f := a.Features()
	checkRows("ResNet18Backward", dOut, b, f)
	dParams = make([][]T, len(c.Params))
	unitBack := func(u *convBN[T], dy []T, wantDX bool) []T {
		dbn, dScale, dBias := BatchNormBackward(u.bn, dy)
		dParams[u.param+1], dParams[u.param+2] = dScale, dBias
		var dIn []T
		dParams[u.param], dIn = Conv2DBackward(u.conv, dbn, wantDX)
		return dIn
	}
	last := c.out[len(c.out)-1]
	hw := len(last) / (b * f)
	c.dh = resize(c.dh, len(last))
	hostmath.ParallelFor(b*hw, 1<<10, func(lo, hi int) { // ∂L/∂h = ∂L/∂features/(H·W), broadcast over p, q
		for r := lo; r < hi; r++ {
			for j, g := range dOut[(r/hw)*f : (r/hw+1)*f] {
				c.dh[r*f+j] = g / T(hw)
			}
		}
	})
	dh, ui := c.dh, len(c.units)
	blocks := a.Blocks()
	for bi := len(blocks) - 1; bi >= 0; bi-- {
		var sc *convBN[T]
		if blocks[bi].Projection {
			ui--
			sc = c.units[ui]
		}
		u1, u2 := c.units[ui-2], c.units[ui-1]
		ui -= 2
		reluMask(dh, c.out[bi]) // g
		dr := unitBack(u2, dh, true)
		reluMask(dr, u1.bn.Y) // ∂L/∂r ⊙ 1[r > 0]; u1.bn.Y holds r
		dIn := unitBack(u1, dr, true)
		var ds []T = dh // identity shortcut
		if sc != nil {
			ds = unitBack(sc, dh, true)
		}
		hostmath.ParallelFor(len(dIn), 1<<15, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dIn[i] += ds[i]
			}
		})
		dh = dIn
	}
	stem := c.units[0]
	if _, _, pool := a.StemKernel(); pool {
		dh = MaxPoolBackward(c.pool, dh)
	}
	reluMask(dh, stem.bn.Y)
	return dParams, unitBack(stem, dh, wantDX)
}

// meanPool returns dst_bc = (1/n) Σ_p x_bpc for x [batch, n, ch], summed in float64.
func meanPool[T Float](dst, x []T, batch, n, ch int) []T {
	hostmath.ParallelFor(batch, 1, func(lo, hi int) {
		acc := make([]float64, ch)
		for b := lo; b < hi; b++ {
			clear(acc)
			for p := range n {
				for j, v := range x[(b*n+p)*ch : (b*n+p+1)*ch] {
					acc[j] += float64(v)
				}
			}
			for j, s := range acc {
				dst[b*ch+j] = T(s / float64(n))
			}
		}
	})
	return dst
}

// reluInPlace sets x_i ← max(x_i, 0), in parallel.
func reluInPlace[T Float](x []T) {
	hostmath.ParallelFor(len(x), 1<<15, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			x[lo+i] = max(v, 0)
		}
	})
}

// resizeSlices returns s with length n, keeping its first buffers.
func resizeSlices[T Float](s [][]T, n int) [][]T {
	if len(s) >= n {
		return s[:n]
	}
	return append(s, make([][]T, n-len(s))...)
}
