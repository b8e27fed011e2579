package recipe

// Paper defaults of the non-SimCLR objectives, shared by package losses and its twin in package ref. Equation
// and section numbers are from memory of the papers and unverified against the PDFs unless stated.
const (
	// VICReg (Bardes, Ponce & LeCun 2022, §4.1 and Algorithm 1): λ (invariance), μ (variance) and ν
	// (covariance) weights, the target standard deviation γ and the ε under the square root.
	VICRegInvariance = 25.0
	VICRegVariance   = 25.0
	VICRegCovariance = 1.0
	VICRegGamma      = 1.0
	VICRegEpsilon    = 1e-4

	// Barlow Twins (Zbontar et al. 2021, §2 and §4): the off-diagonal weight λ, chosen by the authors for a
	// projector of d = 8192 and kept unscaled here (see losses.BarlowConfig), and the ε of the per-dimension
	// batch normalisation (PyTorch's BatchNorm1d default, which the authors' code uses; Eq. 2 has none).
	BarlowLambda  = 5e-3
	BarlowEpsilon = 1e-5

	// BYOL (Grill et al. 2020, §3.2): the base EMA rate of the target network, raised to 1 on a cosine schedule.
	BYOLTauBase = 0.996

	// MoCo v3 (Chen, Xie & He 2021, §3 and Algorithm 1): the InfoNCE temperature and the base momentum of the
	// key encoder (the same cosine schedule as BYOL's).
	MoCoV3Temperature = 0.2
	MoCoV3TauBase     = 0.99
)
