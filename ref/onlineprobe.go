package ref

import (
	"fmt"
	"math"
)

// ProbeResult holds one evaluation of the online linear probe: the mean cross-entropy, the accuracy, and the
// gradient of the cross-entropy with respect to the weights w [F, C] and the bias b [C].
type ProbeResult[T Float] struct {
	CE, Accuracy float64
	DW, DB       []T
}

// OnlineProbe is the twin of losses.OnlineProbe: a linear classifier on the features h [M, F] (row-major)
// with labels y_i ∈ {0, …, C−1}, weights w [F, C] and bias b [C]:
//
//	ℓ_i = h_i w + b                                  (logits, [C])
//	CE  = (1/M) Σ_i ( log Σ_c exp ℓ_ic − ℓ_{i,y_i} )
//	acc = (1/M) Σ_i [ ℓ_{i,y_i} > max_{c≠y_i} ℓ_ic ]  (a tie is a miss: an all-zero probe scores 0)
//
// and its backward, with P_ic = softmax(ℓ_i)_c and e_{y} the one-hot row of y:
//
//	∂CE/∂ℓ_ic = (P_ic − [c = y_i]) / M,   ∂CE/∂w = hᵀ ∂CE/∂ℓ,   ∂CE/∂b = Σ_i ∂CE/∂ℓ_i
//
// Logits, the log-sum-exp and the sums are computed in float64; DW and DB are rounded to T once. It panics
// if the sizes do not match or a label is out of range.
func OnlineProbe[T Float](h []T, labels []int, f, classes int, w, b []T) ProbeResult[T] {
	m := len(labels)
	if len(h) != m*f || len(w) != f*classes || len(b) != classes || classes < 1 {
		panic(fmt.Sprintf("ref: OnlineProbe: h has %d values for %d rows of %d, w %d for [%d, %d], b %d", len(h), m, f, len(w), f, classes, len(b)))
	}
	dw, db := make([]float64, f*classes), make([]float64, classes)
	logits := make([]float64, classes)
	var ce float64
	hits := 0
	for i, y := range labels {
		if y < 0 || y >= classes {
			panic(fmt.Sprintf("ref: OnlineProbe: label %d of row %d is not in [0, %d)", y, i, classes))
		}
		row := h[i*f : (i+1)*f]
		for c := range classes {
			s := float64(b[c])
			for j, x := range row {
				s += float64(x) * float64(w[j*classes+c])
			}
			logits[c] = s
		}
		top, others := math.Inf(-1), math.Inf(-1) // max over all classes, and over c ≠ y
		for c, l := range logits {
			top = max(top, l)
			if c != y {
				others = max(others, l)
			}
		}
		if logits[y] > others {
			hits++
		}
		var sum float64
		for _, l := range logits {
			sum += math.Exp(l - top) // minus the row max only for numerical stability
		}
		ce += top + math.Log(sum) - logits[y]
		for c, l := range logits {
			g := math.Exp(l-top) / sum // P_ic
			if c == y {
				g--
			}
			g /= float64(m)
			db[c] += g
			for j, x := range row {
				dw[j*classes+c] += float64(x) * g
			}
		}
	}
	out := ProbeResult[T]{CE: ce / float64(m), Accuracy: float64(hits) / float64(m), DW: make([]T, len(dw)), DB: make([]T, len(db))}
	for i, v := range dw {
		out.DW[i] = T(v)
	}
	for i, v := range db {
		out.DB[i] = T(v)
	}
	return out
}
