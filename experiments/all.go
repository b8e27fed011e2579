package experiments

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// Experiment is one `simclr experiment NAME`. Bind registers its flags on fs, with the quick or the full
// defaults, and returns the function that runs it with the settings the flags hold after parsing.
type Experiment struct {
	Name, Summary string
	Bind          func(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error)
}

// Experiments lists every experiment in the order All runs them.
var Experiments = []Experiment{
	{"loss-landscape", "loss of invariant embeddings against the closed forms (paper Fig. 1, Prop. 2.1)", bindLandscape},
	{"particle-vs-network", "particle gradient descent vs one- and four-layer networks on the circle (Figs. 4/5)", bindParticleVsNetwork},
	{"depth-width", "cluster persistence against depth × width × parameterisation, networks and particles on one loss (survival analysis)", bindDepthWidth},
	{"ntk", "empirical NTK under NT-Xent: scale-free drift against width, kernel locality against depth, prediction 6(c)", bindNTK},
	{"mean-field", "1/√m against 1/m under the Gaussian-kernel loss (it sees ‖g‖): scale-free NTK drift against width", bindMeanField},
	{"authors-1d", "the authors' later 1-D setting: four disks, diagonal shift, Gaussian kernel, T = f − f0 + b", bindAuthors1D},
	{"methods", "target 9: depth-width's cluster persistence under SimCLR, VICReg and BYOL (survival analysis)", bindMethods},
	{"mnist-012", "MNIST digits 0, 1, 2: deep and one-hidden-layer MLPs, same metrics and persistence", bindMNIST},
	{"effective-step", "depth against the effective step size: persistence on the clock of the cumulative effective step (one Cox model)", bindEffectiveStep},
	{"full-length", "a depth-width subset run to the end without the stop rule: thresholds 0.65–0.78, the end of training", bindFullLength},
	{"temperature", "persistence against the temperature τ ∈ {0.05 … 2}: particles, 1- and 4-layer networks", bindFactor("temperature")},
	{"kernel", "persistence against the similarity η (exponential, Gaussian, linear): particles, 1- and 4-layer networks", bindFactor("kernel")},
	{"unequal", "persistence with one cluster 4× the others against equal clusters: particles, 1- and 4-layer networks", bindFactor("unequal")},
}

// Find returns the experiment called name.
func Find(name string) (Experiment, bool) {
	for _, e := range Experiments {
		if e.Name == name {
			return e, true
		}
	}
	return Experiment{}, false
}

// All runs every experiment with its default settings (quick or full as cm.Quick says) into cm.OutDir/NAME and
// assembles cm.OutDir/REPORT.md from their summaries (Report). An experiment that fails writes no summary and
// the others still run; the returned error lists the failures.
func All(cm Common) error {
	var failed []string
	for _, e := range Experiments {
		fs := pflag.NewFlagSet(e.Name, pflag.ContinueOnError)
		runFn := e.Bind(fs, cm.Quick)
		cm.logf("== %s\n", e.Name)
		r, err := runFn(cm)
		if err != nil {
			cm.logf("%s failed: %v\n", e.Name, err)
			failed = append(failed, fmt.Sprintf("%s: %v", e.Name, err))
			continue
		}
		cm.logf("%s: %.1f s\n", e.Name, r.Seconds)
	}
	if err := Report(cm.OutDir); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("experiments: %d failed: %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}
