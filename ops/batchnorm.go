package ops

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

// Batch-norm constants (PyTorch's defaults; PyTorch's momentum 0.1 weighs the batch statistic, ours the old
// running value, as Keras does).
const (
	BNMomentum = 0.9  // running ← BNMomentum·running + (1−BNMomentum)·batch statistic
	BNEpsilon  = 1e-5 // ε of (x−μ)/√(σ²+ε)
)

// BatchNorm normalises x [B, …, C] per channel (the last axis) over all other axes (Ioffe & Szegedy 2015,
// Alg. 1) and returns y and the new running averages:
//
//	training:  μ = mean(x), σ² = mean((x−μ)²) over B, H, W;  y = γ·(x−μ)/√(σ²+ε) + β
//	           mean' = m·mean + (1−m)·μ,  var' = m·var + (1−m)·σ²·n/(n−1)   (n = values per channel)
//	evaluation: y = γ·(x−mean)/√(var+ε) + β;  mean' = mean, var' = var
//
// with m = BNMomentum, ε = BNEpsilon. The running variance is the unbiased one, as PyTorch keeps. scale, bias,
// runMean and runVar have shape [C]. It panics if n < 2 in training.
//
// On XLA it is the backend's fused BatchNormForTraining / BatchNormForInference (the gradient of the first,
// BatchNormGrad, is exact; GoMLX has none for the second, so evaluation mode is not differentiable there). On the Go backend, which has neither, and on any backend that lacks them, it is written out in
// stock ops, exactly: gradients flow through μ and σ² (norm.BatchNorm's fallback puts StopGradient on them, 29%
// off a finite difference), and it uses Div and Sqrt because autodiff has no gradient for Rsqrt.
//
// Mixed precision: when x is of another dtype than the running statistics (bfloat16 activations, float32
// statistics), x, scale and bias are converted to the statistics' dtype, the batch norm computed there, and y
// converted back to x's dtype, as flax and PyTorch's autocast compute batch norm in float32.
func BatchNorm(x, scale, bias, runMean, runVar *graph.Node, training bool) (y, newMean, newVar *graph.Node) {
	c := x.Shape().Dimensions[x.Rank()-1]
	for _, p := range []*graph.Node{scale, bias, runMean, runVar} {
		p.AssertDims(c)
	}
	if dt := runMean.DType(); x.DType() != dt {
		y, newMean, newVar = BatchNorm(graph.ConvertDType(x, dt), graph.ConvertDType(scale, dt), graph.ConvertDType(bias, dt), runMean, runVar, training)
		return graph.ConvertDType(y, x.DType()), newMean, newVar
	}
	fused := compute.OpTypeBatchNormForInference
	if training {
		fused = compute.OpTypeBatchNormForTraining
	}
	if !Substitute(x.Graph()) && hasOp(x.Graph(), fused) {
		return fusedBatchNorm(x, scale, bias, runMean, runVar, training)
	}
	axes := make([]int, x.Rank()-1)
	for i := range axes {
		axes[i] = i
	}
	if !training {
		y = normalize(x, graph.ExpandLeftToRank(runMean, x.Rank()), graph.ExpandLeftToRank(runVar, x.Rank()), scale, bias)
		return y, runMean, runVar
	}
	n := x.Shape().Size() / c
	if n < 2 {
		panic(fmt.Sprintf("ops: BatchNorm in training needs ≥ 2 values per channel, got x %s", x.Shape()))
	}
	mu := graph.ReduceAndKeep(x, graph.ReduceMean, axes...)                                  // [1, …, C]
	sigma2 := graph.ReduceAndKeep(graph.Square(graph.Sub(x, mu)), graph.ReduceMean, axes...) // biased
	y = normalize(x, mu, sigma2, scale, bias)
	newMean, newVar = runningAverages(runMean, runVar, graph.Reshape(mu, c), graph.Reshape(sigma2, c), n)
	return y, newMean, newVar
}

// normalize returns γ·(x−μ)/√(σ²+ε) + β with μ, σ² broadcastable to x and γ, β of shape [C].
func normalize(x, mu, sigma2, scale, bias *graph.Node) *graph.Node {
	r := x.Rank()
	xhat := graph.Div(graph.Sub(x, mu), graph.Sqrt(graph.AddScalar(sigma2, BNEpsilon)))
	return graph.Add(graph.Mul(xhat, graph.ExpandLeftToRank(scale, r)), graph.ExpandLeftToRank(bias, r))
}

// runningAverages returns the updated running mean and unbiased variance from the batch's μ and biased σ² over
// n values, outside autodiff.
func runningAverages(runMean, runVar, mu, sigma2 *graph.Node, n int) (newMean, newVar *graph.Node) {
	mu, sigma2 = graph.StopGradient(mu), graph.StopGradient(sigma2)
	newMean = graph.Add(graph.MulScalar(runMean, BNMomentum), graph.MulScalar(mu, 1-BNMomentum))
	unbiased := graph.MulScalar(sigma2, float64(n)/float64(n-1))
	newVar = graph.Add(graph.MulScalar(runVar, BNMomentum), graph.MulScalar(unbiased, 1-BNMomentum))
	return newMean, newVar
}

// fusedBatchNorm is BatchNorm computed by the backend's BatchNormForTraining / BatchNormForInference.
func fusedBatchNorm(x, scale, bias, runMean, runVar *graph.Node, training bool) (y, newMean, newVar *graph.Node) {
	axis := x.Rank() - 1
	if !training {
		return graph.InternalBatchNormForInference(x, scale, bias, runMean, runVar, BNEpsilon, axis), runMean, runVar
	}
	c := x.Shape().Dimensions[axis]
	y, mu, sigma2 := graph.InternalBatchNormForTraining(x, scale, bias, BNEpsilon, axis)
	newMean, newVar = runningAverages(runMean, runVar, mu, sigma2, x.Shape().Size()/c)
	return y, newMean, newVar
}
