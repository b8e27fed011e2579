package ref

import (
	"fmt"
	"math"

	"github.com/gosimclr/gosimclr/internal/hostmath"
	"github.com/gosimclr/gosimclr/recipe"
)

// SGD updates the trainable params in place, the twin of optim's "sgd":
//
//	p ← p − lr·g
//
// Parameters whose trainable entry is false are left alone (their gradients are not read and may be nil).
// It panics if the lists differ in length or a trainable gradient in size.
func SGD[T Float](params, grads [][]T, trainable []bool, lr float64) {
	checkUpdate("SGD", params, grads, trainable)
	for i, p := range params {
		if !trainable[i] {
			continue
		}
		for j, g := range grads[i] {
			p[j] = T(float64(p[j]) - lr*float64(g))
		}
	}
}

// SGDMomentum updates the trainable params and their momentum buffers bufs in place, the twin of optim's
// "sgd" with momentum μ and weight decay λ (PyTorch's SGD):
//
//	g' = g + λ p;  b ← μ b + g';  p ← p − lr·b
//
// Each value is computed in float64 and rounded to T; bufs[i] is nil for a parameter that is not trainable.
func SGDMomentum[T Float](params, grads [][]T, trainable []bool, lr, momentum, decay float64, bufs [][]T) {
	checkUpdate("SGDMomentum", params, grads, trainable)
	for i, p := range params {
		if !trainable[i] {
			continue
		}
		for j, g := range grads[i] {
			gj := float64(g) + decay*float64(p[j])
			b := momentum*float64(bufs[i][j]) + gj
			bufs[i][j] = T(b)
			p[j] = T(float64(p[j]) - lr*b)
		}
	}
}

// LARS updates the trainable params and their momentum buffers bufs in place, the twin of optim's "lars"
// (You et al. 2017, as in SimCLR's implementation):
//
//	g' = g + λ p;  r = η‖p‖/‖g'‖ (1 where either norm is 0);  b ← μ b + lr·r·g';  p ← p − b
//
// with η = trust. excluded[i] (biases and batch-norm parameters) drops the weight decay and the ratio (r = 1).
func LARS[T Float](params, grads [][]T, trainable, excluded []bool, lr, momentum, decay, trust float64, bufs [][]T) {
	checkUpdate("LARS", params, grads, trainable)
	for i, p := range params {
		if !trainable[i] {
			continue
		}
		g := make([]float64, len(p))
		var pn, gn float64
		for j, gj := range grads[i] {
			g[j] = float64(gj)
			if !excluded[i] {
				g[j] += decay * float64(p[j])
			}
			pn += float64(p[j]) * float64(p[j])
			gn += g[j] * g[j]
		}
		r := 1.0
		if !excluded[i] && pn > 0 && gn > 0 {
			r = trust * math.Sqrt(pn) / math.Sqrt(gn)
		}
		for j := range p {
			b := momentum*float64(bufs[i][j]) + lr*r*g[j]
			bufs[i][j] = T(b)
			p[j] = T(float64(p[j]) - b)
		}
	}
}

// AdamState is Adam's state: the step count t and the moment estimates m and v of each parameter (nil for
// those that are not trainable), in T like the graph's.
type AdamState[T Float] struct {
	Step int
	M, V [][]T
}

// NewAdamState returns the zero state (t = 0, m = v = 0) for params.
func NewAdamState[T Float](params [][]T, trainable []bool) *AdamState[T] {
	s := &AdamState[T]{M: make([][]T, len(params)), V: make([][]T, len(params))}
	for i, p := range params {
		if trainable[i] {
			s.M[i], s.V[i] = make([]T, len(p)), make([]T, len(p))
		}
	}
	return s
}

// Adam updates the trainable params and the state in place, the twin of optim's "adam" (Kingma & Ba 2015,
// Algorithm 1, in PyTorch's form, with ε outside the square root):
//
//	t ← t+1;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  p ← p − lr · (m/(1−β1^t)) / (√(v/(1−β2^t)) + ε)
//
// Each value is computed in float64 and rounded to T. Parameters whose trainable entry is false are left
// alone. It panics if the lists differ in length or do not match the state.
func Adam[T Float](params, grads [][]T, trainable []bool, lr float64, s *AdamState[T]) {
	checkUpdate("Adam", params, grads, trainable)
	if len(s.M) != len(params) || len(s.V) != len(params) {
		panic(fmt.Sprintf("ref: Adam: state for %d params, got %d", len(s.M), len(params)))
	}
	s.Step++
	const beta1, beta2, eps = recipe.AdamBeta1, recipe.AdamBeta2, recipe.AdamEpsilon
	// p −= lr·(m/bc1)/(√(v/bc2) + ε) = stepSize·m/(√v·rbc2 + ε): one square root and one division a value.
	stepSize := lr / (1 - math.Pow(beta1, float64(s.Step)))
	rbc2 := 1 / math.Sqrt(1-math.Pow(beta2, float64(s.Step)))
	for i, p := range params {
		if !trainable[i] {
			continue
		}
		m, v, g := s.M[i], s.V[i], grads[i]
		hostmath.ParallelFor(len(p), 1<<15, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				gj := float64(g[j])
				mj := beta1*float64(m[j]) + (1-beta1)*gj
				vj := beta2*float64(v[j]) + (1-beta2)*gj*gj
				m[j], v[j] = T(mj), T(vj)
				p[j] = T(float64(p[j]) - stepSize*mj/(math.Sqrt(vj)*rbc2+eps))
			}
		})
	}
}

// checkUpdate panics unless params, grads and trainable line up.
func checkUpdate[T Float](fn string, params, grads [][]T, trainable []bool) {
	if len(grads) != len(params) || len(trainable) != len(params) {
		panic(fmt.Sprintf("ref: %s: %d params, %d grads, %d trainable flags", fn, len(params), len(grads), len(trainable)))
	}
	for i, p := range params {
		if trainable[i] && len(grads[i]) != len(p) {
			panic(fmt.Sprintf("ref: %s: param %d has %d values, its gradient %d", fn, i, len(p), len(grads[i])))
		}
	}
}
