package ops

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// This file is the Go backend's fast path for stages of "3×3 convolution (stride 1, padding 1), 2×2 max-pool,
// bias, ReLU", the small CNN's building block. On that backend element-wise work costs 1–2 ns per value, any
// re-indexing op (Slice, Transpose, Pad, ReduceMax) 4–16 ns, a big 1-D Concatenate about memcpy speed, and a
// well-shaped matrix product 130–160 GFLOP/s. So the data are laid out so that
//
//   - im2col is one Concatenate of whole, zero-padded copies of the input (no Slice),
//   - every matrix product has its contraction axis where the kernels want it (no Transpose),
//   - the 2×2 pool is three element-wise Max of separately computed "phases" (no ReduceMax),
//   - the gradients are written by hand (customGradient), each a few element-wise passes.
//
// Layout. A feature map [C, B, H, W] is kept channel-first as P×P polyphase components X_rs[c,b,u,v] =
// x[c, b, P·u+r, P·v+s], P = 2^(stages left). Each component sits on a canvas of (H/P+1)×(W/P+1) per image, the
// image at rows and columns 1…, row and column 0 zero, and all images' canvases follow each other in one flat
// row per channel, [C, n·cs] (cs the canvas size). Reading a 3×3 neighbourhood is then a shift of the flat row
// by d = δr·wc + δs: the zero row and column separate the images and supply the padding.
//
// im2col by concatenation. Output phase (α, β) of a stage at (P·u+α, P·v+β) reads, for tap (i, j), component
// ((α+i−1) mod P, (β+j−1) mod P) shifted by d. Its patch row for tap k and channel c, over output positions t,
// is the component's row c preceded by a_k = cs − d_k zeros: t = cs + (canvas position), so each stage moves
// the images one canvas along the row. The nine blocks of a patch matrix are then one Concatenate of 1-D
// pieces, [0^{a_0}, Z_0, 0^{T−a_0+a_1}, Z_1, …, Z_8, 0^{T−a_8}] with Z the flattened component: between two
// channel rows every block has the same gap, which is what lets one flat concatenation produce all rows. Each
// row's last a_k values spill into the next row, so rows end with ≥ 2 empty canvases; with C > 1 a block has
// one extra all-zero "dummy" channel row (multiplied by zero weights) and rows keep their length; with C = 1
// the row grows by 2 canvases instead. A last row of ones carries the bias through the product.

// phased is a batch of feature maps in the polyphase canvas layout described above.
type phased struct {
	comps  []*graph.Node // p·p components, row-major in (r, s), each [C, n·hc·wc]
	p, c   int
	n      int // canvases per row: empty ones before first, the b images, empty ones after
	first  int // canvas index of the first of the b real images
	b      int
	hc, wc int // canvas height and width: H/p+1, W/p+1
}

func (f phased) cs() int { return f.hc * f.wc }

// phaseable reports whether x [B, H, W, C] can go through stages stages of the fast path.
func phaseable(x *graph.Node, stages int) bool {
	d := x.Shape().Dimensions
	p := 1 << stages
	return stages >= 1 && x.Rank() == 4 && d[1]%p == 0 && d[2]%p == 0 && x.DType().IsFloat()
}

// tail is the number of empty canvases after the images.
func (f phased) tail() int { return f.n - f.first - f.b }

// toPhased lays out the images x [B, H, W, C] as p×p polyphase components (H and W multiples of p), with
// tail empty canvases at the end of each row.
func toPhased(x *graph.Node, p, tail int) phased {
	d := x.Shape().Dimensions
	b, c, hp, wp := d[0], d[3], d[1]/p, d[2]/p
	f := phased{p: p, c: c, n: b + tail, b: b, hc: hp + 1, wc: wp + 1}
	y := graph.TransposeAllAxes(graph.Reshape(x, b, hp, p, wp, p, c), 2, 4, 5, 0, 1, 3) // [p, p, C, B, hp, wp]
	g, dt := x.Graph(), x.DType()
	y = graph.Concatenate([]*graph.Node{graph.Zeros(g, shapes.Make(dt, p, p, c, b, 1, wp)), y}, 4)
	y = graph.Concatenate([]*graph.Node{graph.Zeros(g, shapes.Make(dt, p, p, c, b, hp+1, 1)), y}, 5)
	y = graph.Concatenate([]*graph.Node{y, graph.Zeros(g, shapes.Make(dt, p, p, c, tail, hp+1, wp+1))}, 3)
	y = graph.Reshape(y, p*p, c, f.n*f.cs())
	for i := range p * p {
		f.comps = append(f.comps, graph.Reshape(graph.Slice(y, graph.AxisElem(i)), c, f.n*f.cs()))
	}
	return f
}

// fromPhased returns the real images of f (p = 1) as [B, H·W·C] in (h, w, c) order.
func fromPhased(f phased) *graph.Node {
	if f.p != 1 {
		panic(fmt.Sprintf("ops: fromPhased wants one component, got %d×%d", f.p, f.p))
	}
	h := graph.Reshape(f.comps[0], f.c, f.n, f.hc, f.wc)
	h = graph.Slice(h, graph.AxisRange(), graph.AxisRange(f.first, f.first+f.b), graph.AxisRangeToEnd(1), graph.AxisRangeToEnd(1))
	h = graph.TransposeAllAxes(h, 1, 2, 3, 0) // [B, H, W, C]
	return graph.Reshape(h, f.b, -1)
}

// tap is one block of a patch matrix: a component and its shift a (leading zeros).
type tap struct{ comp, a int }

// phaseTaps lists, for output phase (α, β) of a p×p input, the component and shift of each of the 9 taps.
func phaseTaps(f phased, alpha, beta int) []tap {
	taps := make([]tap, 0, 9)
	for i := range 3 {
		for j := range 3 {
			r, dr := floorMod(alpha+i-1, f.p)
			s, ds := floorMod(beta+j-1, f.p)
			taps = append(taps, tap{comp: r*f.p + s, a: f.cs() - (dr*f.wc + ds)})
		}
	}
	return taps
}

// floorMod returns x mod p in [0, p) and ⌊x/p⌋.
func floorMod(x, p int) (mod, div int) {
	div = int(math.Floor(float64(x) / float64(p)))
	return x - div*p, div
}

// im2col concatenates the 9 blocks 0^{a_k} ++ flat(comps[comp_k]) ++ zeros into patches [9·rows, rowLen]
// (see the file comment; rows is C+1 with the dummy channel, or 1), and with ones a last row of ones, so that
// the product's last weight column adds a bias.
func im2col(comps []*graph.Node, taps []tap, rows, rowLen int, ones bool) *graph.Node {
	g, dt := comps[0].Graph(), comps[0].DType()
	block := rows * rowLen
	zeros := func(n int) *graph.Node { return graph.Zeros(g, shapes.Make(dt, n)) }
	var pieces []*graph.Node
	prevTail := 0
	for _, t := range taps {
		z := graph.Reshape(comps[t.comp], -1)
		if lead := prevTail + t.a; lead > 0 {
			pieces = append(pieces, zeros(lead))
		}
		pieces = append(pieces, z)
		prevTail = block - t.a - z.Shape().Size()
		if prevTail < 0 {
			panic(fmt.Sprintf("ops: im2col: shift %d does not fit a block of %d", t.a, block))
		}
	}
	if prevTail > 0 {
		pieces = append(pieces, zeros(prevTail))
	}
	n := len(taps) * rows
	if ones {
		pieces, n = append(pieces, graph.Ones(g, shapes.Make(dt, rowLen))), n+1
	}
	return graph.Reshape(graph.Concatenate(pieces, 0), n, rowLen)
}

// validThreshold returns [1, n·cs] with 0 where a canvas holds a real pixel and +MaxFloat elsewhere, so that
// x > threshold is ReLU's mask on real pixels and false on borders and ghosts.
func validThreshold(g *graph.Graph, dt dtypes.DType, f phased) *graph.Node {
	thr := make([]float64, f.n*f.cs())
	for i := range f.n {
		for u := range f.hc {
			for v := range f.wc {
				if i < f.first || i >= f.first+f.b || u == 0 || v == 0 {
					thr[(i*f.hc+u)*f.wc+v] = math.MaxFloat32
				}
			}
		}
	}
	return graph.Reshape(graph.ConvertDType(graph.Const(g, thr), dt), 1, -1)
}

// ConvPoolStages is the small CNN's stack of stages relu(maxpool2×2(conv3×3(x, kernels[l])) + biases[l])
// (stride 1, padding 1, then a 2×2 max-pool with stride 2; relu after the pool gives the same function as before
// it, on a quarter of the values) applied to x [B, H, W, C], kernels[l] [3, 3, C_{l−1}, C_l], biases[l] [C_l].
// It returns the last feature map flattened, [B, H_L·W_L·C_L] in (h, w, c) order.
//
// On XLA each stage is graph.Convolve, MaxPool (a reshape and ReduceMax, see MaxPool), a broadcast Add and Max(·, 0). On the Go backend, when H and
// W are multiples of 2^L and x is float (the usual case), it is the fast path of this file and conv_stage.go;
// otherwise each stage is Conv2D, MaxPool, AddBias and ReLU, the general substitutes.
func ConvPoolStages(x *graph.Node, kernels, biases []*graph.Node) *graph.Node {
	n := len(kernels)
	if n == 0 || len(biases) != n || x.Rank() != 4 {
		panic(fmt.Sprintf("ops: ConvPoolStages wants x [B, H, W, C] and as many biases as kernels (≥ 1), got x %s, %d kernels, %d biases",
			x.Shape(), n, len(biases)))
	}
	if Substitute(x.Graph()) && !forceGeneral.Load() && phaseable(x, n) {
		f := toPhased(x, 1<<n, n+2)
		for l := range n {
			f = convPoolStage(f, kernels[l], biases[l])
		}
		return fromPhased(f)
	}
	h := x
	for l := range n {
		h = ReLU(AddBias(MaxPool(Conv2D(h, kernels[l], 1, 1), 2, 2, 0), biases[l])) // H and W halved
	}
	return graph.Reshape(h, h.Shape().Dimensions[0], -1)
}

// forceGeneral makes ConvPoolStages take the general substitutes on the Go backend even where the fast path
// applies, so that tests can compare the two.
var forceGeneral atomic.Bool
