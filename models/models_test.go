package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/internal/backendtest"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/ref"
)

var testBackend compute.Backend

// TestMain runs the tests on the Go backend and on xla:cpu where its plugin is installed; GOMLX_BACKEND=xla:cuda
// (or a plugin path) runs them on that backend alone: the GPU check.
func TestMain(m *testing.M) {
	os.Exit(backendtest.Main(m, func(b compute.Backend, _ string) { testBackend = b }, ""))
}

func tensorOf(dt dtypes.DType, v []float64, dims ...int) *tensors.Tensor {
	if dt == dtypes.Float64 {
		return tensors.FromFlatDataAndDimensions(append([]float64(nil), v...), dims...)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensors.FromFlatDataAndDimensions(f, dims...)
}

func flat(t *tensors.Tensor) []float64 {
	if t.DType() == dtypes.Float64 {
		v, _ := tensors.CopyFlatData[float64](t)
		return v
	}
	v, _ := tensors.CopyFlatData[float32](t)
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// graphGrads returns the loss and its gradient with respect to every parameter of enc on views x [2N, In].
func graphGrads(t *testing.T, enc Encoder, params [][]float64, x []float64, n2 int, cfg losses.Config, dt dtypes.DType) (float64, [][]float64) {
	t.Helper()
	specs := enc.Params()
	args := []any{tensorOf(dt, x, n2, enc.Body.(MLPBody).In)}
	for i, p := range params {
		args = append(args, tensorOf(dt, p, specs[i].Dims...))
	}
	outs, err := graph.CallOnceN(testBackend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		z := enc.Forward(in[1:], in[0], true).Z
		loss := losses.Loss(z, cfg).Loss
		return append([]*graph.Node{loss}, graph.Gradient(loss, in[1:]...)...)
	}, args...)
	if err != nil {
		t.Fatal(err)
	}
	grads := make([][]float64, len(params))
	for i := range grads {
		grads[i] = flat(outs[1+i])
	}
	return flat(outs[0])[0], grads
}

// refGrads is the same computation on the reference in float64 or float32.
func refGrads[T ref.Float](enc Encoder, params [][]float64, x []float64, n2 int, cfg losses.Config) (float64, [][]float64) {
	ps := ref.ConvertParams[T](params)
	xs := ref.ConvertParams[T]([][]float64{x})[0]
	a := enc.Body.(MLPBody).MLP
	nm := len(a.Params())
	mc := ref.MLPForward(a, ps[:nm], xs, n2)
	z, k := mc.Out, a.Out
	var hc *ref.HeadCache[T]
	if enc.Head.Out > 0 {
		hc = ref.HeadForward(enc.Head, ps[nm:], z, n2)
		z, k = hc.Out, enc.Head.Out
	}
	r := ref.Loss(z, n2, k, ref.LossConfig{Kernel: cfg.Kernel, Part: cfg.Part, Temperature: cfg.Temperature})
	dz := r.DZ
	var dHead [][]T
	if hc != nil {
		dHead, dz = ref.HeadBackward(hc, dz)
	}
	grads, _ := ref.MLPBackward(mc, dz)
	grads = append(grads, dHead...)
	out := make([][]float64, len(grads))
	for i, g := range grads {
		out[i] = make([]float64, len(g))
		for j, v := range g {
			out[i][j] = float64(v)
		}
	}
	return r.Loss, out
}

func relNorm(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), 1e-12)
}

func compare(t *testing.T, name string, enc Encoder, params [][]float64, x []float64, n2 int, cfg losses.Config) {
	t.Helper()
	specs := enc.Params()
	for _, c := range []struct {
		dt  dtypes.DType
		tol float64
	}{{dtypes.Float64, 1e-9}, {dtypes.Float32, 1e-4}} {
		gl, gg := graphGrads(t, enc, params, x, n2, cfg, c.dt)
		var rl float64
		var rg [][]float64
		if c.dt == dtypes.Float64 {
			rl, rg = refGrads[float64](enc, params, x, n2, cfg)
		} else {
			rl, rg = refGrads[float32](enc, params, x, n2, cfg)
		}
		if e := math.Abs(gl-rl) / math.Max(math.Abs(rl), 1); e > c.tol {
			t.Errorf("%s/%s: loss %.12g, reference %.12g", name, c.dt, gl, rl)
		}
		for i := range gg {
			if e := relNorm(gg[i], rg[i]); e > c.tol || math.IsNaN(e) {
				t.Errorf("%s/%s: ∂L/∂%s relative error %.3g > %g", name, c.dt, specs[i].Name, e, c.tol)
			}
		}
	}
}

func randn(r *rand.Rand, n int) []float64 { return arch.Normal(r, n, 1) }

// TestGradientsMatchReferenceGrid is acceptance point 1 of the core issue for the network parameters: the
// one-hidden-layer network's loss gradients equal the reference's for N ∈ {1,4,64}, k ∈ {2,16,128},
// τ ∈ {0.05,0.5,2}.
func TestGradientsMatchReferenceGrid(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ns, ks, taus := []int{1, 4, 64}, []int{2, 16, 128}, []float64{0.05, 0.5, 2}
	if backendtest.XLA() { // the grid's corners: each graph compiles (~0.1 s on 2 cores)
		ns, ks, taus = []int{1, 64}, []int{2, 128}, []float64{0.05, 2}
	}
	for _, n := range ns {
		for _, k := range ks {
			enc := Encoder{Body: MLPBody{arch.MLP{In: 3, Width: 24, Depth: 1, Out: k, Activation: arch.Tanh, Scaling: arch.ScalingNTK, Trainable: arch.TrainBoth, Normalize: true}}}
			params := enc.Init(uint64(n*1000 + k))
			x := randn(r, 2*n*3)
			for _, tau := range taus {
				compare(t, fmt.Sprintf("n=%d/k=%d/tau=%g", n, k, tau), enc, params, x, 2*n, losses.Config{Temperature: tau})
			}
		}
	}
}

// TestGradientsMatchReferenceArchitectures sweeps every activation, scaling, depth, normalisation, kernel and
// the projection head at one size. On XLA, where each graph is compiled (~0.1 s each on 2 cores), it takes one
// depth, normalisation and kernel per activation and scaling, chosen so that every value of each occurs.
func TestGradientsMatchReferenceArchitectures(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := randn(r, 16*5)
	for ai, act := range arch.Activations {
		for si, sc := range arch.Scalings {
			for di, depth := range []int{1, 3} {
				for ni, norm := range []bool{true, false} {
					mlp := arch.MLP{In: 5, Width: 16, Depth: depth, Out: 4, Activation: act, Scaling: sc, Trainable: arch.TrainBoth, Normalize: norm, StandardHidden: depth == 3 && sc == arch.ScalingStandard}
					for ki, kernel := range losses.Kernels {
						if backendtest.XLA() && (di != (ai+si)%2 || ni != ai%2 || ki != (ai+si+ni)%len(losses.Kernels)) {
							continue
						}
						enc := Encoder{Body: MLPBody{mlp}}
						name := fmt.Sprintf("%s/%s/L=%d/norm=%v/%s", act, sc, depth, norm, kernel)
						compare(t, name, enc, enc.Init(7), x, 16, losses.Config{Kernel: kernel, Temperature: 0.5})
					}
				}
			}
		}
	}
	enc := Encoder{Body: MLPBody{arch.MLP{In: 5, Width: 16, Depth: 2, Out: 6, Activation: arch.GELU, Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth}}, Head: arch.Head{In: 6, Hidden: 12, Out: 3}}
	compare(t, "head", enc, enc.Init(3), x, 16, losses.Config{Temperature: 0.2})
}

// TestParamCounts pins the parameter count of each encoder, as flax pins CNN_PARAMS.
func TestParamCounts(t *testing.T) {
	count := func(m Model) int {
		n := 0
		for _, p := range m.Params() {
			n += p.Size()
		}
		return n
	}
	for _, c := range []struct {
		m    Model
		want int
	}{
		{Encoder{Body: MLPBody{arch.MLP{In: 784, Width: 512, Depth: 1, Out: 128}}}, 784*512 + 512 + 512*128},
		{Encoder{Body: MLPBody{arch.MLP{In: 2, Width: 100, Depth: 1, Out: 1}}}, 2*100 + 100 + 100}, // no output bias: g = α Σ a_j σ(·)
		{Encoder{Body: MLPBody{arch.MLP{In: 784, Width: 100, Depth: 3, Out: 1}}, Head: arch.Head{In: 1, Hidden: 8, Out: 4}}, 784*100 + 100 + 2*(100*100+100) + 100 + (8 + 8 + 8*4 + 4)},
		{Particle{N: 1600, K: 2}, 3200},
	} {
		if got := count(c.m); got != c.want {
			t.Errorf("%+v: %d parameters, want %d", c.m, got, c.want)
		}
	}
}

// TestParticle: Forward gathers rows; Project puts them back on the sphere; Init is on the sphere.
func TestParticle(t *testing.T) {
	p := Particle{N: 5, K: 3}
	init := p.Init(1)[0]
	for i := range 5 {
		s := init[3*i]*init[3*i] + init[3*i+1]*init[3*i+1] + init[3*i+2]*init[3*i+2]
		if math.Abs(s-1) > 1e-9 {
			t.Errorf("initial point %d has squared norm %g", i, s)
		}
	}
	outs, err := graph.CallOnceN(testBackend, func(pts, idx *graph.Node) []*graph.Node {
		z := p.Forward([]*graph.Node{pts}, idx, true).Z
		return []*graph.Node{z, p.Project([]*graph.Node{graph.MulScalar(pts, 3)})[0]}
	}, tensorOf(dtypes.Float64, init, 5, 3), tensors.FromFlatDataAndDimensions([]int32{4, 0, 4}, 3))
	if err != nil {
		t.Fatal(err)
	}
	z, proj := flat(outs[0]), flat(outs[1])
	for j := range 3 {
		if z[j] != init[12+j] || z[3+j] != init[j] || z[6+j] != init[12+j] {
			t.Fatalf("gather wrong: %v", z)
		}
	}
	for i := range proj {
		if math.Abs(proj[i]-init[i]) > 1e-9 {
			t.Fatalf("Project(3p) ≠ p: %v vs %v", proj, init)
		}
	}
}

// TestGPUSubset is the short list of gradient-vs-reference cases that scripts/gpu-check.sh runs on an
// accelerator (8 compiled graphs: four encoders, float64 and float32), where the two full tests' 416 graphs
// would not fit the check's budget.
func TestGPUSubset(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	x := randn(r, 128*5)
	cases := []struct {
		name string
		enc  Encoder
		cfg  losses.Config
	}{
		{"tanh/ntk/k=128/n=64", Encoder{Body: MLPBody{arch.MLP{In: 5, Width: 24, Depth: 1, Out: 128, Activation: arch.Tanh, Scaling: arch.ScalingNTK, Trainable: arch.TrainBoth, Normalize: true}}}, losses.Config{Temperature: 0.5}},
		{"relu/standard/L=3", Encoder{Body: MLPBody{arch.MLP{In: 5, Width: 16, Depth: 3, Out: 4, Activation: arch.ReLU, Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth, Normalize: true, StandardHidden: true}}}, losses.Config{Temperature: 0.2}},
		{"softplus/mean-field/gaussian", Encoder{Body: MLPBody{arch.MLP{In: 5, Width: 16, Depth: 2, Out: 4, Activation: arch.Softplus, Scaling: arch.ScalingMeanField, Trainable: arch.TrainBoth}}}, losses.Config{Kernel: losses.KernelGaussian, Temperature: 0.5}},
		{"gelu/head", Encoder{Body: MLPBody{arch.MLP{In: 5, Width: 16, Depth: 2, Out: 6, Activation: arch.GELU, Scaling: arch.ScalingStandard, Trainable: arch.TrainBoth}}, Head: arch.Head{In: 6, Hidden: 12, Out: 3}}, losses.Config{Temperature: 0.2}},
	}
	for i, c := range cases {
		n2 := 16
		if i == 0 {
			n2 = 128
		}
		compare(t, c.name, c.enc, c.enc.Init(uint64(i+1)), x[:n2*5], n2, c.cfg)
	}
	t.Logf("%d graphs compiled on %s", 2*len(cases), testBackend.Name())
}
