package experiments

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/internal/hostmath"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/ref"
)

// testBackend returns the backend of $GOMLX_BACKEND ("go" unless set; see TestMain).
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := backend.New(backend.Spec(""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// smallMLPs are the networks of the Jacobian tests: In = 2, width 5, depth 2, Out = 2, with and without the
// output normalisation, under both NTK-experiment scalings and a smooth and a piecewise-linear activation.
func smallMLPs() []arch.MLP {
	var as []arch.MLP
	for _, act := range []string{arch.Tanh, arch.LeakyReLU} {
		for _, s := range []string{arch.ScalingNTK, arch.ScalingMeanField} {
			for _, norm := range []bool{true, false} {
				as = append(as, arch.MLP{In: 2, Width: 5, Depth: 2, Out: 2, Activation: act, Scaling: s,
					Trainable: arch.TrainBoth, Normalize: norm})
			}
		}
	}
	return as
}

func name(a arch.MLP) string {
	return fmt.Sprintf("%s/%s/normalize=%v", a.Activation, a.Scaling, a.Normalize)
}

// relDiff returns ‖x − y‖/‖y‖.
func relDiff(x, y []float64) float64 {
	var num, den float64
	for i := range x {
		num += (x[i] - y[i]) * (x[i] - y[i])
		den += y[i] * y[i]
	}
	return math.Sqrt(num / den)
}

// TestJacobianFiniteDifferences checks mlpGraphs.Jacobian against central finite differences of ref.MLPForward
// (float64, step 1e-6) and against the Jacobian ref.MLPBackward gives with one-hot output gradients, the one
// ntk.go used before it ran on graphs.
func TestJacobianFiniteDifferences(t *testing.T) {
	b := testBackend(t)
	const p, h = 3, 1e-6
	x := []float64{0.3, -1.2, 1.1, 0.4, -0.7, -0.5} // [3, 2]
	for _, a := range smallMLPs() {
		t.Run(name(a), func(t *testing.T) {
			params := a.Init(7)
			got, err := newMLPGraphs(b, a, losses.Config{Temperature: 0.5}).Jacobian(params, x, p)
			if err != nil {
				t.Fatal(err)
			}
			var np int
			for _, v := range params {
				np += len(v)
			}
			k := a.Out
			if len(got) != p*k*np {
				t.Fatalf("J has %d entries, want %d·%d·%d", len(got), p, k, np)
			}
			fd, back := make([]float64, len(got)), make([]float64, len(got))
			col := 0
			for _, w := range params {
				for wi := range w {
					orig := w[wi]
					w[wi] = orig + h
					up := ref.MLPForward(a, params, x, p).Out
					w[wi] = orig - h
					down := ref.MLPForward(a, params, x, p).Out
					w[wi] = orig
					for r := range p * k {
						fd[r*np+col] = (up[r] - down[r]) / (2 * h)
					}
					col++
				}
			}
			for i := range p {
				cache := ref.MLPForward(a, params, x[i*a.In:(i+1)*a.In], 1)
				for o := range k {
					dOut := make([]float64, k)
					dOut[o] = 1
					dp, _ := ref.MLPBackward(cache, dOut)
					off := (i*k + o) * np
					for _, g := range dp {
						off += copy(back[off:], g)
					}
				}
			}
			if d := relDiff(got, fd); d > 1e-6 {
				t.Errorf("‖J − J_fd‖/‖J_fd‖ = %.3g, want ≤ 1e-6", d)
			}
			if d := relDiff(got, back); d > 1e-12 {
				t.Errorf("‖J − J_ref‖/‖J_ref‖ = %.3g, want ≤ 1e-12", d)
			}
		})
	}
}

// refOnestepCheck is onestepCheck as it was written on ref before it ran on graphs: ref.MLPForward/MLPBackward,
// ref.Loss's ∂L/∂z and Θ = J Jᵀ from ref.MLPBackward.
func refOnestepCheck(a arch.MLP, params [][]float64, v []float64, p2 int, tau, lr float64) float64 {
	cache := ref.MLPForward(a, params, v, p2)
	z := cache.Out
	g := ref.Loss(z, p2, a.Out, ref.LossConfig{Kernel: ref.KernelExp, Temperature: tau}).DZ
	dp, _ := ref.MLPBackward(cache, g)
	next := make([][]float64, len(params))
	for i, w := range params {
		next[i] = make([]float64, len(w))
		for j := range w {
			next[i][j] = w[j] - lr*dp[i][j]
		}
	}
	z1 := ref.MLPForward(a, next, v, p2).Out
	var np int
	for _, w := range params {
		np += len(w)
	}
	k := a.Out
	j := make([]float64, p2*k*np)
	for i := range p2 {
		c := ref.MLPForward(a, params, v[i*a.In:(i+1)*a.In], 1)
		for o := range k {
			dOut := make([]float64, k)
			dOut[o] = 1
			d, _ := ref.MLPBackward(c, dOut)
			off := (i*k + o) * np
			for _, gw := range d {
				off += copy(j[off:], gw)
			}
		}
	}
	theta := hostmath.MatMul(nil, j, j, p2*k, np, p2*k, false, true)
	pred := hostmath.MatMul(nil, theta, g, p2*k, p2*k, 1, false, false)
	var num, den float64
	for i := range z {
		obs := z1[i] - z[i]
		d := -lr*pred[i] - obs
		num += d * d
		den += obs * obs
	}
	return math.Sqrt(num / den)
}

// TestOnestepCheck runs the NTK experiment's one-step prediction check on graphs and on ref for a width-64
// network and 2×8 views: the relative errors agree to 1e-6, and they behave as a first-order prediction does,
// small at lr = 1e-3 and growing with lr.
func TestOnestepCheck(t *testing.T) {
	b := testBackend(t)
	const tau = 0.5
	rng := newRNG(3)
	v := make([]float64, 16*2) // [2P, 2], P = 8
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	for _, s := range []string{arch.ScalingNTK, arch.ScalingMeanField} {
		a := arch.MLP{In: 2, Width: 64, Depth: 1, Out: 2, Activation: arch.LeakyReLU, Scaling: s, Trainable: arch.TrainBoth, Normalize: true}
		g := newMLPGraphs(b, a, losses.Config{Kernel: losses.KernelExp, Temperature: tau})
		params := a.Init(1)
		prev := 0.0
		for _, lr := range []float64{1e-3, 1e-2, 1e-1} {
			got, err := onestepCheck(g, params, v, 16, lr)
			if err != nil {
				t.Fatal(err)
			}
			want := refOnestepCheck(a, params, v, 16, tau, lr)
			t.Logf("%s lr=%g: relative error %.6g (ref %.6g)", s, lr, got, want)
			if math.Abs(got-want) > 1e-6*want {
				t.Errorf("%s lr=%g: relative error %.12g, ref gives %.12g", s, lr, got, want)
			}
			if got <= prev || (lr == 1e-3 && got > 0.05) {
				t.Errorf("%s lr=%g: relative error %.4g after %.4g at the previous lr: not a first-order error", s, lr, got, prev)
			}
			prev = got
		}
	}
}
