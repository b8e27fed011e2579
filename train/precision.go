package train

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/models"
)

// Mixed precision (--dtype bfloat16). The master parameters, the optimiser state, the views' augmentation and
// the loss stay in the Stepper's DType (float32); only the model's forward pass, and with it autodiff's
// backward pass through it, runs in the compute dtype:
//
//	params₁₆ = bf16(params),  views₁₆ = bf16(views)      at the start of the forward pass
//	z = f32(model(params₁₆, views₁₆))                    before the loss
//	∂L/∂params = f32(∂L/∂params₁₆)                       the casts' gradients
//
// Why z and not the logits: NT-Xent's logits s_ik/τ are the Gram matrix of z over τ. Rounded to bfloat16 (8
// significant bits: relative error ≤ 2⁻⁸, absolute ≤ 2⁻⁹ for ½ ≤ |s| < 1) a cosine carries an error up to
// 2⁻⁹/τ in its logit, 0.02 at τ = 0.1: a 2% error in every exp(s_ik/τ); and a row sum of 2N exponentials
// accumulated in bfloat16 drops every term below half an ulp of the sum. Casting z up first keeps the
// [2N, 2N] Gram matrix, the log-sum-exp and the loss in float32: the loss sees z's own rounding only.
// Measured (TestMixedPrecisionStep's MLP, xla:cpu): the whole loss in bfloat16 came out 2.6% off the float32
// step's, with z cast first 0.035%. The cost is the Gram product in float32, 2N·2N·k multiply-adds.
//
// Batch-norm running statistics (arch.Param.Statistic) stay float32 and are not cast; ops.BatchNorm normalises
// a bfloat16 input in their dtype. Updated in bfloat16, m·mean + (1−m)·μ with m = 0.9 would stop moving once
// (1−m)·|μ − mean| fell below half an ulp (2⁻⁸ of the value): a dead band of ~4% around the batch statistic.
//
// Evaluation (Featurizer: features, kNN, probe, export) runs the float32 master weights in float32.
//
// No loss scaling: bfloat16 has float32's 8 exponent bits (smallest normal ~1.2e-38), so gradients do not
// underflow as they do in float16 (smallest normal 6.1e-5), which needs a scaled loss.

// computeDType returns the dtype the forward pass computes in: s.Compute, or s.DType where it is unset.
func (s *Stepper) computeDType() dtypes.DType {
	if s.Compute == dtypes.InvalidDType {
		return s.DType
	}
	return s.Compute
}

// mixedForward is forward in the compute dtype: params (but not batch-norm statistics) and views cast to it,
// and the latents, features and new statistics cast back to s.DType.
func (s *Stepper) mixedForward(params []*graph.Node, views *graph.Node) models.Output {
	dt := s.computeDType()
	if dt == s.DType {
		return s.forward(params, views)
	}
	specs := s.Model.Params()
	low := make([]*graph.Node, len(params))
	for i, p := range params {
		low[i] = p
		if !specs[i].Statistic {
			low[i] = graph.ConvertDType(p, dt)
		}
	}
	out := s.forward(low, graph.ConvertDType(views, dt))
	out.Z = graph.ConvertDType(out.Z, s.DType)
	out.Features = graph.ConvertDType(out.Features, s.DType)
	for i, v := range out.Stats {
		out.Stats[i] = graph.ConvertDType(v, s.DType)
	}
	return out
}

// precision returns the dtype of the parameters and everything but the model's passes (float64 or float32), and
// that of the model's passes in training: bfloat16 for --dtype bfloat16, else unset (the same).
func (c Config) precision() (master, compute dtypes.DType) {
	switch c.DType {
	case "float64":
		return dtypes.Float64, dtypes.InvalidDType
	case "bfloat16":
		return dtypes.Float32, dtypes.BFloat16
	}
	return dtypes.Float32, dtypes.InvalidDType
}
