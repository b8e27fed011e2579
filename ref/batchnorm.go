package ref

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// Batch-norm constants, as ops.BNMomentum and ops.BNEpsilon (PyTorch's defaults; the momentum weighs
// the old running value, as Keras's does).
const (
	BNMomentum = 0.9  // running ← BNMomentum·running + (1−BNMomentum)·batch statistic
	BNEpsilon  = 1e-5 // ε of (x−μ)/√(σ²+ε)
)

// bnBlock is the number of rows of one partial sum of the per-channel statistics. It is fixed, and the
// partial sums are added in order, so that the results do not depend on the number of goroutines.
const bnBlock = 256

// BatchNormCache holds what BatchNormBackward and BatchNormRunning need from one BatchNormForward, and the
// buffers later calls on the same cache reuse.
type BatchNormCache[T Float] struct {
	Rows, C  int // x viewed as [Rows, C], Rows = B·H·W values per channel
	Training bool
	Scale    []T       // γ, not copied
	Mean     []float64 // μ: the batch mean in training, the running mean in evaluation   [C]
	Var      []float64 // σ²: the biased batch variance in training, the running variance in evaluation   [C]
	Rstd     []float64 // 1/√(σ²+ε)   [C]
	XHat     []T       // (x−μ)/√(σ²+ε)   [Rows, C]
	Y        []T       // γ·x̂ + β   [Rows, C]
	DX       []T       // the last backward's ∂L/∂x   [Rows, C]
}

// BatchNormForward is the twin of ops.BatchNorm: it normalises x [rows, ch] (a feature map [B, H, W, C]
// with rows = B·H·W) per channel (Ioffe & Szegedy 2015, Alg. 1),
//
//	training:   μ = (1/n) Σ x,  σ² = (1/n) Σ (x−μ)²  over the n = rows values of a channel (two passes)
//	evaluation: μ = runMean,  σ² = runVar
//	y = γ·x̂ + β,  x̂ = (x−μ)/√(σ²+ε),  ε = BNEpsilon
//
// The sums accumulate in float64 in fixed blocks of rows, in parallel; x̂ and y are rounded to T. scale γ,
// bias β, runMean and runVar have ch values (the running ones are read only in evaluation). A non-nil dst has
// its buffers reused; nil allocates. It panics if a shape does not match or, in training, rows < 2.
func BatchNormForward[T Float](dst *BatchNormCache[T], x, scale, bias, runMean, runVar []T, rows, ch int, training bool) *BatchNormCache[T] {
	checkRows("BatchNormForward", x, rows, ch)
	for _, p := range [][]T{scale, bias, runMean, runVar} {
		if len(p) != ch {
			panic(fmt.Sprintf("ref: BatchNormForward: want %d values per parameter, got %d", ch, len(p)))
		}
	}
	if training && rows < 2 {
		panic(fmt.Sprintf("ref: BatchNormForward in training needs ≥ 2 values per channel, got %d", rows))
	}
	c := dst
	if c == nil {
		c = new(BatchNormCache[T])
	}
	c.Rows, c.C, c.Training, c.Scale = rows, ch, training, scale
	c.Mean, c.Var, c.Rstd = resize(c.Mean, ch), resize(c.Var, ch), resize(c.Rstd, ch)
	c.XHat, c.Y = resize(c.XHat, rows*ch), resize(c.Y, rows*ch)
	if training {
		n := float64(rows)
		sum := channelSums(rows, ch, 1, func(i int, acc []float64) {
			for j, v := range x[i*ch : (i+1)*ch] {
				acc[j] += float64(v)
			}
		})
		for j := range ch {
			c.Mean[j] = sum[j] / n // μ
		}
		sq := channelSums(rows, ch, 1, func(i int, acc []float64) {
			for j, v := range x[i*ch : (i+1)*ch] {
				d := float64(v) - c.Mean[j]
				acc[j] += d * d
			}
		})
		for j := range ch {
			c.Var[j] = sq[j] / n // σ², biased
		}
	} else {
		for j := range ch {
			c.Mean[j], c.Var[j] = float64(runMean[j]), float64(runVar[j])
		}
	}
	for j := range ch {
		c.Rstd[j] = 1 / math.Sqrt(c.Var[j]+BNEpsilon)
	}
	hostmath.ParallelFor(rows, max(1, 1<<13/ch), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xs, xh, y := x[i*ch:(i+1)*ch], c.XHat[i*ch:(i+1)*ch], c.Y[i*ch:(i+1)*ch]
			for j, v := range xs {
				h := (float64(v) - c.Mean[j]) * c.Rstd[j] // x̂
				xh[j] = T(h)
				y[j] = T(h*float64(scale[j]) + float64(bias[j])) // γ·x̂ + β
			}
		}
	})
	return c
}

// BatchNormBackward returns ∂L/∂x, ∂L/∂γ and ∂L/∂β given dy = ∂L/∂y [rows, ch]. Backward of
//
//	y = γ·x̂ + β:   ∂L/∂β = Σ ∂L/∂y,   ∂L/∂γ = Σ ∂L/∂y·x̂   (sums over the n rows)
//	x̂ = (x−μ)/√(σ²+ε) with the batch's μ and σ² (training), differentiated through μ and σ² too:
//	               ∂L/∂x = (γ/√(σ²+ε))·(∂L/∂y − (1/n)∂L/∂β − x̂·(1/n)∂L/∂γ)
//	in evaluation μ and σ² are constants:   ∂L/∂x = (γ/√(σ²+ε))·∂L/∂y
//
// The training form collects Ioffe & Szegedy's (2015, §3) three paths: with ρ = (σ²+ε)^{−1/2},
// ∂μ/∂x_r = 1/n and ∂σ²/∂x_r = 2(x_r−μ)/n give ∂x̂_s/∂x_r = ρ(δ_rs − 1/n − x̂_r x̂_s/n), summed against
// γ·∂L/∂y_s. dx is the cache's DX buffer, overwritten by the next backward on c; dScale and dBias are new.
func BatchNormBackward[T Float](c *BatchNormCache[T], dy []T) (dx, dScale, dBias []T) {
	rows, ch := c.Rows, c.C
	checkRows("BatchNormBackward", dy, rows, ch)
	sums := channelSums(rows, ch, 2, func(i int, acc []float64) {
		xh := c.XHat[i*ch : (i+1)*ch]
		for j, g := range dy[i*ch : (i+1)*ch] {
			acc[j] += float64(g)                     // Σ ∂L/∂y
			acc[ch+j] += float64(g) * float64(xh[j]) // Σ ∂L/∂y·x̂
		}
	})
	dScale, dBias = make([]T, ch), make([]T, ch)
	coef := make([]float64, 3*ch) // per channel: γ/√(σ²+ε), and the two means subtracted in training
	n := float64(rows)
	for j := range ch {
		dBias[j], dScale[j] = T(sums[j]), T(sums[ch+j])
		coef[j] = float64(c.Scale[j]) * c.Rstd[j]
		if c.Training {
			coef[ch+j], coef[2*ch+j] = sums[j]/n, sums[ch+j]/n
		}
	}
	c.DX = resize(c.DX, rows*ch)
	hostmath.ParallelFor(rows, max(1, 1<<13/ch), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g, xh, dx := dy[i*ch:(i+1)*ch], c.XHat[i*ch:(i+1)*ch], c.DX[i*ch:(i+1)*ch]
			for j := range dx {
				dx[j] = T(coef[j] * (float64(g[j]) - coef[ch+j] - float64(xh[j])*coef[2*ch+j]))
			}
		}
	})
	return c.DX, dScale, dBias
}

// BatchNormRunning returns the running averages after the training-mode forward c, as ops.BatchNorm's
// newMean and newVar (outside autodiff there as here):
//
//	mean' = m·mean + (1−m)·μ,   var' = m·var + (1−m)·σ²·n/(n−1)   (m = BNMomentum; the unbiased variance)
//
// computed in float64 and rounded to T. In evaluation mode it returns copies of runMean and runVar.
func BatchNormRunning[T Float](c *BatchNormCache[T], runMean, runVar []T) (newMean, newVar []T) {
	newMean, newVar = make([]T, c.C), make([]T, c.C)
	if !c.Training {
		copy(newMean, runMean)
		copy(newVar, runVar)
		return newMean, newVar
	}
	unbias := float64(c.Rows) / float64(c.Rows-1)
	for j := range c.C {
		newMean[j] = T(BNMomentum*float64(runMean[j]) + (1-BNMomentum)*c.Mean[j])
		newVar[j] = T(BNMomentum*float64(runVar[j]) + (1-BNMomentum)*c.Var[j]*unbias)
	}
	return newMean, newVar
}

// channelSums returns the width·ch sums that row(i, acc) adds into acc for every row i < rows. Rows are
// summed in blocks of bnBlock in parallel and the blocks' sums added in order.
func channelSums(rows, ch, width int, row func(i int, acc []float64)) []float64 {
	nb := (rows + bnBlock - 1) / bnBlock
	part := make([]float64, nb*width*ch)
	hostmath.ParallelFor(nb, max(1, 1<<13/(bnBlock*ch)), func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			acc := part[blk*width*ch : (blk+1)*width*ch]
			for i := blk * bnBlock; i < min(rows, (blk+1)*bnBlock); i++ {
				row(i, acc)
			}
		}
	})
	sum := part[:width*ch]
	for blk := 1; blk < nb; blk++ {
		for j, v := range part[blk*width*ch : (blk+1)*width*ch] {
			sum[j] += v
		}
	}
	return sum
}
