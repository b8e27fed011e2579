package train

import "math"

// The collapse ablations (issue 23, acceptance 4): settings that remove the term each method relies on to
// avoid a collapsed (constant) embedding, so that a run can show the term matters.
//
//	--vicreg-weights λ,μ,ν   VICReg's invariance, variance and covariance weights; μ = 0 drops the variance
//	                         hinge, and invariance + covariance alone are minimised by a constant z
//	                         (Bardes, Ponce & LeCun 2022, Table 7 ablates the terms)
//	--no-predictor           BYOL or MoCo v3 with the online latents as the predictions; BYOL without its
//	                         predictor collapses (Grill et al. 2020, §5, Table 5b: 0.3% top-1)

// ablate applies c's ablation settings to its method m.
func (c Config) ablate(m Method) Method {
	if len(c.VICRegWeights) == 3 {
		m.VICReg.Invariance, m.VICReg.Variance, m.VICReg.Covariance = c.VICRegWeights[0], c.VICRegWeights[1], c.VICRegWeights[2]
	}
	m.NoPredictor = c.NoPredictor
	return m
}

// checkAblation checks --vicreg-weights and --no-predictor: each applies to its methods only, the weights are
// three finite values ≥ 0, not all 0, and --no-predictor leaves no predictor width to set.
func (r resolved) checkAblation() error {
	if r.VICRegWeights != nil && r.Method != MethodVICReg {
		return usagef("--vicreg-weights does not apply to --method %s", r.Method)
	}
	if r.NoPredictor && !r.method().HasTarget() {
		return usagef("--no-predictor does not apply to --method %s (only byol and mocov3 have a predictor)", r.Method)
	}
	if r.NoPredictor && r.PredictorHidden != 0 {
		return usagef("--predictor-hidden does not apply with --no-predictor, got %d", r.PredictorHidden)
	}
	if r.Method != MethodVICReg {
		return nil
	}
	w := r.VICRegWeights
	bad := len(w) != 3
	sum := 0.0
	for _, v := range w {
		bad = bad || !(v >= 0) || math.IsInf(v, 0)
		sum += v
	}
	if bad || sum == 0 {
		return usagef("--vicreg-weights must be three weights λ,μ,ν ≥ 0 (invariance, variance, covariance), not all 0, got %v", w)
	}
	return nil
}
