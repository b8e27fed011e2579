package ref

import (
	"fmt"

	"github.com/gosimclr/gosimclr/arch"
)

// MLPCache holds what MLPBackward needs from one MLPForward: the inputs and every intermediate value.
type MLPCache[T Float] struct {
	Arch   arch.MLP
	Params [][]T // the parameters, not copied
	Batch  int
	X      []T   // input, not copied                  [B, In]
	Pre    [][]T // c_l·(h_{l−1} W_l) + b_l, per layer   [B, m]
	H      [][]T // h_l = σ(Pre[l]), per layer           [B, m]
	G      []T   // α_m·(h_L A), before normalisation   [B, k]
	Out    []T   // T: G normalised if Arch.Normalize, else G itself   [B, k]
}

// MLPForward applies the fully connected encoder a (arch/doc.go) to x [batch, a.In] with params in the
// order of a.Params(), the twin of models.MLP:
//
//	h_0 = x,  h_l = σ(c_l·(h_{l−1} W_l) + b_l),  g = α_m·(h_L A),  T = g/(‖g‖+1e-12) if a.Normalize, else g
//
// The output T [batch, a.Out] is the cache's Out. Products use MatMul in T. It panics if a is invalid or a
// shape does not match.
func MLPForward[T Float](a arch.MLP, params [][]T, x []T, batch int) *MLPCache[T] {
	if err := a.Validate(); err != nil {
		panic(fmt.Sprintf("ref: MLPForward: %v", err))
	}
	checkParams("MLPForward", a.Params(), params)
	checkRows("MLPForward", x, batch, a.In)
	c := &MLPCache[T]{Arch: a, Params: params, Batch: batch, X: x}
	h, fanIn := x, a.In
	for l := range a.Depth {
		pre := MatMul(nil, h, params[2*l], batch, fanIn, a.Width, false, false) // h_{l−1} W_l   [B, m]
		scaleAddBias(pre, T(a.HiddenMultiplier(l)), params[2*l+1])
		c.Pre = append(c.Pre, pre)
		h = Activate(nil, pre, a.Activation)
		c.H = append(c.H, h)
		fanIn = a.Width
	}
	c.G = MatMul(nil, h, params[2*a.Depth], batch, a.Width, a.Out, false, false) // h_L A   [B, k]
	scaleAddBias(c.G, T(a.OutputMultiplier()), nil)
	c.Out = c.G
	if a.Normalize {
		c.Out = Normalize(nil, c.G, batch, a.Out)
	}
	return c
}

// MLPBackward returns the gradients of a scalar L with respect to every parameter (in params order) and to
// the input, given dOut = ∂L/∂T [B, k]. Gradients of non-trainable parameters are computed too: the caller
// (an optimiser's trainable mask) decides what to do with them. See mlpBackward for the formulas.
func MLPBackward[T Float](c *MLPCache[T], dOut []T) (dParams [][]T, dx []T) {
	return mlpBackward(c, dOut, true)
}

// mlpBackward is MLPBackward; with wantDX false it skips ∂L/∂x (a B×In×m product), which training on fixed
// inputs never needs, and returns a nil dx. Backward of
//
//	T = g/(‖g‖+ε):             ∂L/∂g = NormalizeBackward(g, ∂L/∂T)
//	g = α_m·(h_L A):           ∂L/∂A = α_m h_Lᵀ ∂L/∂g,   ∂L/∂h_L = α_m ∂L/∂g Aᵀ
//	h_l = σ(pre_l):            ∂L/∂pre_l = ∂L/∂h_l ⊙ σ'(pre_l)
//	pre_l = c_l·(h_{l−1} W_l) + b_l:
//	                           ∂L/∂W_l = c_l h_{l−1}ᵀ ∂L/∂pre_l,  ∂L/∂b_l = Σ_batch ∂L/∂pre_l,
//	                           ∂L/∂h_{l−1} = c_l ∂L/∂pre_l W_lᵀ
func mlpBackward[T Float](c *MLPCache[T], dOut []T, wantDX bool) (dParams [][]T, dx []T) {
	a, p, b := c.Arch, c.Params, c.Batch
	checkRows("MLPBackward", dOut, b, a.Out)
	dParams = make([][]T, len(p))
	dg := dOut
	if a.Normalize {
		dg = NormalizeBackward(nil, c.G, dOut, b, a.Out) // ∂L/∂g   [B, k]
	}
	alpha := T(a.OutputMultiplier())
	hL := c.H[a.Depth-1]
	dA := MatMul(nil, hL, dg, a.Width, b, a.Out, true, false) // h_Lᵀ ∂L/∂g   [m, k]
	scaleAddBias(dA, alpha, nil)
	dParams[2*a.Depth] = dA
	dh := MatMul(nil, dg, p[2*a.Depth], b, a.Out, a.Width, false, true) // ∂L/∂g Aᵀ   [B, m]
	scaleAddBias(dh, alpha, nil)
	for l := a.Depth - 1; l >= 0; l-- {
		dPre := ActivateBackward(dh, c.Pre[l], dh, a.Activation) // ∂L/∂pre_l   [B, m]
		hPrev, fanIn := c.X, a.In
		if l > 0 {
			hPrev, fanIn = c.H[l-1], a.Width
		}
		cl := T(a.HiddenMultiplier(l))
		dW := MatMul(nil, hPrev, dPre, fanIn, b, a.Width, true, false) // h_{l−1}ᵀ ∂L/∂pre_l   [fanIn, m]
		scaleAddBias(dW, cl, nil)
		dParams[2*l], dParams[2*l+1] = dW, colSums(dPre, b, a.Width)
		if l == 0 && !wantDX {
			break
		}
		dh = MatMul(nil, dPre, p[2*l], b, a.Width, fanIn, false, true) // ∂L/∂pre_l W_lᵀ   [B, fanIn]
		scaleAddBias(dh, cl, nil)
	}
	if wantDX {
		dx = dh
	}
	return dParams, dx
}

// HeadCache holds what HeadBackward needs from one HeadForward.
type HeadCache[T Float] struct {
	Head   arch.Head
	Params [][]T // not copied
	Batch  int
	X      []T // input features, not copied   [B, In]
	Pre    []T // x W_1 + b_1                   [B, Hidden]
	H      []T // relu(Pre)                     [B, Hidden]
	Out    []T // p = H W_2 + b_2               [B, Out]
}

// HeadForward applies SimCLR's projection head h (arch.Head) to x [batch, h.In], the twin of models.Head:
//
//	p = relu(x W_1 + b_1) W_2 + b_2
//
// The output p [batch, h.Out] is the cache's Out. It panics if a shape does not match.
func HeadForward[T Float](h arch.Head, params [][]T, x []T, batch int) *HeadCache[T] {
	if err := h.Validate(); err != nil {
		panic(fmt.Sprintf("ref: HeadForward: %v", err))
	}
	checkParams("HeadForward", h.Params(), params)
	checkRows("HeadForward", x, batch, h.In)
	c := &HeadCache[T]{Head: h, Params: params, Batch: batch, X: x}
	c.Pre = MatMul(nil, x, params[0], batch, h.In, h.Hidden, false, false)
	scaleAddBias(c.Pre, 1, params[1])
	c.H = Activate(nil, c.Pre, arch.ReLU)
	c.Out = MatMul(nil, c.H, params[2], batch, h.Hidden, h.Out, false, false)
	scaleAddBias(c.Out, 1, params[3])
	return c
}

// HeadBackward returns the gradients with respect to the head's parameters (in order) and its input, given
// dOut = ∂L/∂p [B, Out]. Backward of
//
//	p = r W_2 + b_2:        ∂L/∂W_2 = rᵀ ∂L/∂p,  ∂L/∂b_2 = Σ_batch ∂L/∂p,  ∂L/∂r = ∂L/∂p W_2ᵀ
//	r = relu(y):            ∂L/∂y = ∂L/∂r ⊙ 1[y > 0]
//	y = x W_1 + b_1:        ∂L/∂W_1 = xᵀ ∂L/∂y,  ∂L/∂b_1 = Σ_batch ∂L/∂y,  ∂L/∂x = ∂L/∂y W_1ᵀ
func HeadBackward[T Float](c *HeadCache[T], dOut []T) (dParams [][]T, dx []T) {
	h, p, b := c.Head, c.Params, c.Batch
	checkRows("HeadBackward", dOut, b, h.Out)
	dW2 := MatMul(nil, c.H, dOut, h.Hidden, b, h.Out, true, false)
	dr := MatMul(nil, dOut, p[2], b, h.Out, h.Hidden, false, true)
	dy := ActivateBackward(dr, c.Pre, dr, arch.ReLU)
	dW1 := MatMul(nil, c.X, dy, h.In, b, h.Hidden, true, false)
	dx = MatMul(nil, dy, p[0], b, h.Hidden, h.In, false, true)
	return [][]T{dW1, colSums(dy, b, h.Hidden), dW2, colSums(dOut, b, h.Out)}, dx
}

// ConvertParams returns p (as arch's Init draws it) converted to T.
func ConvertParams[T Float](p [][]float64) [][]T {
	out := make([][]T, len(p))
	for i, v := range p {
		out[i] = make([]T, len(v))
		for j, x := range v {
			out[i][j] = T(x)
		}
	}
	return out
}

// scaleAddBias sets x_ij ← s·x_ij + bias_j for x [rows, len(bias)]; a nil bias adds nothing.
func scaleAddBias[T Float](x []T, s T, bias []T) {
	if bias == nil {
		if s != 1 {
			for i := range x {
				x[i] *= s
			}
		}
		return
	}
	n := len(bias)
	for i := 0; i < len(x); i += n {
		row := x[i : i+n]
		for j, bj := range bias {
			row[j] = s*row[j] + bj
		}
	}
}

// colSums returns Σ_i x_ij for x [rows, n], accumulated in float64.
func colSums[T Float](x []T, rows, n int) []T {
	s := make([]float64, n)
	for i := range rows {
		for j, v := range x[i*n : (i+1)*n] {
			s[j] += float64(v)
		}
	}
	out := make([]T, n)
	for j, v := range s {
		out[j] = T(v)
	}
	return out
}

// checkParams panics unless params match the shapes of want.
func checkParams[T Float](fn string, want []arch.Param, params [][]T) {
	if len(params) != len(want) {
		panic(fmt.Sprintf("ref: %s wants %d params, got %d", fn, len(want), len(params)))
	}
	for i, p := range want {
		if len(params[i]) != p.Size() {
			panic(fmt.Sprintf("ref: %s: param %s wants %v (%d values), got %d", fn, p.Name, p.Dims, p.Size(), len(params[i])))
		}
	}
}
