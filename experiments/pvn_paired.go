package experiments

import (
	"fmt"
	"math"
	"slices"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// pvnCreatedPaired is the table of clusters created (a run whose silhouette starts below the threshold and rises
// to it: its first logged step at or above it) and the comparison of each network with the particles of the
// same seed: longer when the network's persistence outlasts an event of the particles', shorter the other way,
// undecided when censoring hides the order; with the two-sided sign test of the decided pairs.
func pvnCreatedPaired(v vals, c ParticleVsNetworkConfig, methods []method, runs map[string][]pvnRun, thr float64) (string, []pairCount) {
	var counts []pairCount
	var rows, pairRows [][]string
	obs := map[string]map[uint64]sweepLike{}
	for mi, m := range methods {
		k := fmt.Sprintf("created/m%d", mi)
		obs[m.name] = map[uint64]sweepLike{}
		var below, made int
		var at []float64
		for _, r := range runs[m.name] {
			ss := make([]float64, len(r.tj.rows))
			for i, g := range r.tj.rows {
				ss[i] = g.Silhouette
			}
			last := c.Steps
			if r.diverged {
				last = r.tj.steps[len(r.tj.steps)-1]
			}
			o, never := persistenceOf(r.tj.steps, ss, thr, c.window(m), last)
			obs[m.name][r.seed] = sweepLike{o, never}
			if ss[0] >= thr {
				continue
			}
			below++
			if i := slices.IndexFunc(ss, func(x float64) bool { return x >= thr }); i >= 0 {
				made++
				at = append(at, float64(r.tj.steps[i]))
			}
		}
		step := "–"
		if len(at) > 0 {
			step = rangeVals(v, k+"/step", at, "%.0f")
		}
		rows = append(rows, []string{m.name, v.count(k+"/runs", len(runs[m.name])), v.count(k+"/below", below), v.count(k+"/made", made), step})
	}
	for mi, m := range methods[1:] {
		k := fmt.Sprintf("paired/m%d", mi+1)
		var longer, shorter, undecided int
		for seed, net := range obs[m.name] {
			p, ok := obs[methods[0].name][seed]
			if !ok || net.never || p.never {
				undecided++
				continue
			}
			switch {
			case p.o.Event && net.o.Time > p.o.Time:
				longer++
			case net.o.Event && p.o.Time > net.o.Time:
				shorter++
			default:
				undecided++
			}
		}
		counts = append(counts, pairCount{longer, shorter, undecided})
		pairRows = append(pairRows, []string{m.name, v.count(k+"/longer", longer), v.count(k+"/shorter", shorter),
			v.count(k+"/undecided", undecided), v.num(k+"/sign_p", signTestP(longer, shorter), "%.2g")})
	}
	return "\nClusters created (issue 24 point 4: the silhouette starting below the threshold and rising to it, an outcome of its own; " +
		"such runs have no persistence time until it does):\n\n" + markdown([]string{"method", "runs", "started below the threshold",
		"rose to it", "first step at or above it (mean [min, max])"}, rows) +
		"\nEach network against the particles of the same seed (persistence on steps; decided only where censoring allows):\n\n" +
		markdown([]string{"network", "kept the clusters longer", "shorter", "undecided", "two-sided sign test p"}, pairRows), counts
}

// pairCount is one network against the particles of the same seed: seeds where it kept the clusters longer,
// shorter, and where censoring or invisible clusters leave the order undecided.
type pairCount struct{ longer, shorter, undecided int }

// sweepLike is one run's persistence and whether its clusters were never visible.
type sweepLike struct {
	o     survival.Obs
	never bool
}

// signTestP is the two-sided exact binomial (sign) test p-value of a successes against b failures at p = 1/2.
func signTestP(a, b int) float64 {
	n := a + b
	if n == 0 {
		return 1
	}
	k := min(a, b)
	var tail float64
	for i := 0; i <= k; i++ {
		tail += math.Exp(lchoose(n, i) - float64(n)*math.Ln2)
	}
	return math.Min(1, 2*tail)
}

// lchoose is log C(n, k).
func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
