package ref

import (
	"math"
	"testing"
)

// twoSteps runs two updates of a one-value trainable parameter p = 1 with gradients 0.5 then −1, lr = 0.1,
// next to a frozen parameter whose gradient is large.
func twoSteps[T Float](update func(params, grads [][]T, trainable []bool)) (p, frozen T) {
	params := [][]T{{1}, {7}}
	trainable := []bool{true, false}
	update(params, [][]T{{0.5}, {100}}, trainable)
	update(params, [][]T{{-1}, {100}}, trainable)
	return params[0][0], params[1][0]
}

// TestSGD: p = 1 − 0.1·0.5 = 0.95, then 0.95 + 0.1·1 = 1.05.
func TestSGD(t *testing.T) {
	p, frozen := twoSteps(func(params, grads [][]float64, tr []bool) { SGD(params, grads, tr, 0.1) })
	if math.Abs(p-1.05) > 1e-15 || frozen != 7 {
		t.Errorf("SGD: p = %.17g, frozen = %g; want 1.05, 7", p, frozen)
	}
}

// TestAdam, by hand (β1 = 0.9, β2 = 0.999, ε = 1e-8, lr = 0.1):
//
//	t=1, g=0.5: m = 0.05, v = 0.00025; m̂ = 0.05/0.1 = 0.5, v̂ = 0.00025/0.001 = 0.25;
//	            p = 1 − 0.1·0.5/(0.5 + 1e-8) = 0.900000002
//	t=2, g=−1:  m = 0.045 − 0.1 = −0.055, v = 0.00024975 + 0.001 = 0.00124975;
//	            m̂ = −0.055/0.19 = −0.28947368421052632, v̂ = 0.00124975/0.001999 = 0.62518759379689845;
//	            p = 0.900000002 + 0.1·0.28947368421052632/(0.79068805… + 1e-8) = 0.93661035424056…
func TestAdam(t *testing.T) {
	const want = 0.9366103542405653
	var st64 *AdamState[float64]
	p, frozen := twoSteps(func(params, grads [][]float64, tr []bool) {
		if st64 == nil {
			st64 = NewAdamState(params, tr)
		}
		Adam(params, grads, tr, 0.1, st64)
	})
	if math.Abs(p-want) > 1e-15 || frozen != 7 || st64.Step != 2 {
		t.Errorf("Adam: p = %.17g, frozen = %g, t = %d; want %.17g, 7, 2", p, frozen, st64.Step, want)
	}
	if math.Abs(st64.M[0][0]+0.055) > 1e-17 || math.Abs(st64.V[0][0]-0.00124975) > 1e-18 || st64.M[1] != nil {
		t.Errorf("Adam state m = %v, v = %v; want [[-0.055] []], [[0.00124975] []]", st64.M, st64.V)
	}
	var st32 *AdamState[float32]
	p32, _ := twoSteps(func(params, grads [][]float32, tr []bool) {
		if st32 == nil {
			st32 = NewAdamState(params, tr)
		}
		Adam(params, grads, tr, 0.1, st32)
	})
	if math.Abs(float64(p32)-want) > 1e-7 {
		t.Errorf("Adam float32: p = %g, want %g", p32, want)
	}
}
