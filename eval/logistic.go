package eval

import (
	"math"

	"github.com/gosimclr/gosimclr/internal/avx"
	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// logistic is the probe's objective on a fixed set of standardised rows: the mean cross-entropy of softmax
// regression plus an L2 penalty on the weights (not the bias),
//
//	z_i = W ᵀx_i + b,   p_ic = exp(z_ic) / Σ_c' exp(z_ic'),
//	f(W, b) = (1/n) Σ_i −log p_{i,y_i} + (λ/2)‖W‖²,
//	∂f/∂z_ic = (p_ic − [c = y_i])/n =: g_ic,   ∂f/∂W = Xᵀg + λW,   ∂f/∂b = Σ_i g_i,
//
// with θ = (W [d, C] row-major, then b [C]) in float64. The products X·W and Xᵀ·g run in float32 through
// logits and gradW (kernel.go) on blocks of logisticBlock rows, so each block is read from memory once per
// evaluation and reused from cache for Xᵀ·g; everything else (softmax, sums) is float64. The rows are split into a fixed
// number of stripes whose partial sums are added in order, so f and ∂f do not depend on the number of
// goroutines.
type logistic struct {
	x             []float32 // [n, dPad] standardised rows, zero-padded
	y             []int     // [n]
	n, d, classes int
	dPad, cPad    int // d rounded up to featAlign, classes to classAlign
	lambda        float64
	wt            []float32 // [cPad, dPad] Wᵀ in float32, zero-padded
	stripes       []stripe
}

// stripe is the scratch and the partial sums of one stripe of rows.
type stripe struct {
	lo, hi int
	loss   float64
	right  int       // rows whose argmax logit is the label (for accuracy)
	gw     []float64 // [cPad, dPad] (Σ Xᵀg)ᵀ over the stripe
	gb     []float64 // [classes]
	z      []float32 // [logisticBlock, cPad] logits of one block
	g8     []float32 // [logisticBlock, cPad, 8] ∂f/∂z of one block, each value repeated in 8 lanes
	gw32   []float32 // [cPad, dPad] (Xᵀg)ᵀ of one block
	e      []float64 // [classes] scratch
}

const (
	logisticBlock   = 128 // rows per block: 128 rows of 784 float32 are 400 KiB, within L2
	logisticStripes = 16  // fixed, so results do not depend on GOMAXPROCS
	flushBlocks     = 8   // blocks whose Xᵀg is summed in float32 before it is added to the float64 sum
)

func newLogistic(x []float32, y []int, d, classes int, lambda float64) *logistic {
	n := len(y)
	l := &logistic{x: x, y: y, n: n, d: d, classes: classes, lambda: lambda}
	l.dPad, l.cPad = roundUp(d, featAlign), roundUp(classes, classAlign)
	l.wt = make([]float32, l.cPad*l.dPad)
	ns := min(logisticStripes, n)
	for s := range ns {
		l.stripes = append(l.stripes, stripe{lo: s * n / ns, hi: (s + 1) * n / ns})
	}
	return l
}

// dim is the length of θ.
func (l *logistic) dim() int { return l.d*l.classes + l.classes }

// eval returns f(θ) and writes ∂f/∂θ into grad when grad is not nil.
func (l *logistic) eval(theta, grad []float64) float64 {
	l.setWeights(theta)
	b := theta[l.d*l.classes:]
	hostmath.ParallelBlocks(len(l.stripes), 1, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			l.stripe(&l.stripes[s], b, grad != nil)
		}
	})
	var loss, w2 float64
	for _, v := range theta[:l.d*l.classes] {
		w2 += v * v
	}
	if grad != nil {
		clear(grad)
	}
	for s := range l.stripes {
		st := &l.stripes[s]
		loss += st.loss
		if grad == nil {
			continue
		}
		for p := range l.d {
			for c := range l.classes {
				grad[p*l.classes+c] += st.gw[c*l.dPad+p]
			}
		}
		for c := range l.classes {
			grad[l.d*l.classes+c] += st.gb[c]
		}
	}
	if grad != nil {
		for i, v := range theta[:l.d*l.classes] {
			grad[i] += l.lambda * v
		}
	}
	return loss/float64(l.n) + l.lambda/2*w2
}

// accuracy returns the fraction of rows whose largest logit is their label, and the mean cross-entropy
// (without the penalty) at θ.
func (l *logistic) accuracy(theta []float64) (acc, crossEntropy float64) {
	lambda := l.lambda
	l.lambda = 0
	crossEntropy = l.eval(theta, nil)
	l.lambda = lambda
	right := 0
	for _, st := range l.stripes {
		right += st.right
	}
	return float64(right) / float64(l.n), crossEntropy
}

// setWeights copies W of θ into the zero-padded float32 wt, transposed.
func (l *logistic) setWeights(theta []float64) {
	for p := range l.d {
		for c := range l.classes {
			l.wt[c*l.dPad+p] = float32(theta[p*l.classes+c])
		}
	}
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// stripe computes the loss (summed, not averaged), the number of rows predicted right and, if withGrad, the
// gradient sums of st's rows.
func (l *logistic) stripe(st *stripe, b []float64, withGrad bool) {
	dPad, cPad := l.dPad, l.cPad
	if st.z == nil {
		st.z, st.e = make([]float32, logisticBlock*cPad), make([]float64, l.classes)
	}
	if withGrad && st.gw == nil {
		st.gw, st.gb = make([]float64, cPad*dPad), make([]float64, l.classes)
		st.g8, st.gw32 = make([]float32, logisticBlock*cPad*8), make([]float32, cPad*dPad)
	}
	st.loss, st.right = 0, 0
	if withGrad {
		clear(st.gw)
		clear(st.gb)
	}
	invN := 1 / float64(l.n)
	for i0 := st.lo; i0 < st.hi; i0 += logisticBlock {
		rows := min(logisticBlock, st.hi-i0)
		x := l.x[i0*dPad : (i0+rows)*dPad]
		logits(st.z, x, rows, dPad, l.wt, cPad) // [rows, cPad]
		avx.Clean()                             // math.Exp below: see internal/avx
		for r := range rows {
			z, e, y := st.z[r*cPad:(r+1)*cPad], st.e, l.y[i0+r]
			zMax, best := math.Inf(-1), 0
			for c := range l.classes {
				e[c] = float64(z[c]) + b[c]
				if e[c] > zMax {
					zMax, best = e[c], c
				}
			}
			// Subtract the max only for numerical stability: e_c = exp(z_c − max), p_c = e_c / Σ e.
			zy, sum := e[y], 0.0
			for c := range l.classes {
				e[c] = math.Exp(e[c] - zMax)
				sum += e[c]
			}
			st.loss += zMax + math.Log(sum) - zy
			if best == y {
				st.right++
			}
			if !withGrad {
				continue
			}
			g := st.g8[r*cPad*8 : (r+1)*cPad*8]
			for c := range l.classes {
				gc := e[c] / sum
				if c == y {
					gc--
				}
				gc *= invN
				st.gb[c] += gc
				for k := range 8 {
					g[8*c+k] = float32(gc)
				}
			}
		}
		if withGrad {
			// Sum a few blocks in float32, then flush to float64: the flush costs as much as a kernel.
			if (i0-st.lo)%(flushBlocks*logisticBlock) == 0 {
				clear(st.gw32)
			}
			gradW(st.gw32, x, rows, dPad, st.g8, cPad) // [cPad, dPad]
			if i0+rows == st.hi || (i0-st.lo)%(flushBlocks*logisticBlock) == (flushBlocks-1)*logisticBlock {
				for i, v := range st.gw32 {
					st.gw[i] += float64(v)
				}
			}
		}
	}
}
