// Package recipe names the choices of a training recipe that the graph code (packages losses and optim) and
// its pure-Go twin (package ref) both implement: the loss's kernel and part, and the optimiser with Adam's
// constants. It imports no GoMLX, so each name and constant is declared once, here; losses, optim and ref
// refer to it.
package recipe

// Kernels are the similarity functions η of the generalised loss (Calder & Lee 2025, §3, equation number
// unverified; the exact family is ours, see doc/design.md).
const (
	KernelExp      = "exp"      // η = exp(cos/τ): NT-Xent
	KernelGaussian = "gaussian" // η = exp(−‖z−z'‖²/(2τ)) on unnormalised latents (authors' later code)
	KernelLinear   = "linear"   // η = 1 + cos + 1e-6; τ unused
)

// Parts of the loss that can be optimised.
const (
	PartFull    = "ntxent"  // alignment + uniformity: the whole loss
	PartAlign   = "align"   // the alignment (attraction) part alone
	PartUniform = "uniform" // the uniformity (repulsion) part alone
)

// Optimiser names.
const (
	SGD  = "sgd"  // with optional momentum and weight decay (PyTorch's SGD)
	Adam = "adam" // Kingma & Ba 2015
	LARS = "lars" // You et al. 2017, as in SimCLR's implementation
)

// Kernels, Parts and Optimizers list the valid names, in the order help texts show them.
var (
	Kernels    = []string{KernelExp, KernelGaussian, KernelLinear}
	Parts      = []string{PartFull, PartAlign, PartUniform}
	Optimizers = []string{SGD, Adam, LARS}
)

// Adam's constants (Kingma & Ba 2015; PyTorch defaults):
//
//	m ← β1 m + (1−β1) g,   v ← β2 v + (1−β2) g²,   p ← p − lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + ε)
const (
	AdamBeta1   = 0.9   // β1
	AdamBeta2   = 0.999 // β2
	AdamEpsilon = 1e-8  // ε
)
