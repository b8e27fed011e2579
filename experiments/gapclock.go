package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// The loss-gap clock (issue 24 point 1): instead of steps, the loss gap to the regular N-gon at which a run lost
// its clusters. Whether depth changes it is asked as an equivalence question, with the margin declared here
// before the committed cells were analysed this way:
//
//	Δ = log(median gap at the event, deeper) − log(median gap at the event, L = 1)   (Kaplan–Meier medians)
//	equivalent  ⇔  the 90% bootstrap interval of Δ lies inside (−log 1.5, +log 1.5)
//
// that is, the two medians within a factor 1.5 of each other, by two one-sided tests at 5% each (TOST, Schuirmann
// 1987). A comparison whose median is not reached in one of the groups (no events to place it) is "not testable"
// and left out of the counts.

// equivMargin is the equivalence margin on Δ, declared before computing: a factor 1.5 between median gaps.
var equivMargin = math.Log(1.5)

// equivLevel is the level of the bootstrap interval of the TOST (90%: two one-sided tests at 5%).
const equivLevel = 0.90

// equivBoot is the number of bootstrap resamples and equivSeed the seed of their generator.
const (
	equivBoot = 2000
	equivSeed = 24
)

// gapRef bounds every loss gap of the sweep from above (NT-Xent's gap is below 2/τ + log 2N): the loss-gap clock
// u = log(gapRef/gap) is then ≥ 0 and grows as training approaches the regular N-gon.
const gapRef = 1e3

// gapAt is the loss gap of cell cl at the logged step of its persistence event (or, censored, at its last logged
// step), and the silhouette there. Gaps below 1e-9 (float32 rounding at the minimum) count as 1e-9.
func gapAt(cl dwCell, lmin float64) (gap, sil float64) {
	i := len(cl.Steps) - 1
	if cl.Persistence.Event {
		i = slices.Index(cl.Steps, int(cl.Persistence.Time))
	}
	return max(cl.Loss[i]-lmin, 1e-9), cl.Silhouette[i]
}

// gapClock is a cell's persistence on the loss-gap clock, u = log(gapRef/gap at the event), censored where the
// persistence is.
func gapClock(cl dwCell, lmin float64) survival.Obs {
	g, _ := gapAt(cl, lmin)
	return survival.Obs{Time: math.Log(gapRef / g), Event: cl.Persistence.Event}
}

// gapOfClock turns a time u of the gap clock back into a gap.
func gapOfClock(u float64) float64 { return gapRef * math.Exp(-u) }

// equivalence is the TOST of one comparison on the gap clock.
type equivalence struct {
	// Delta is Δ, log(median gap deeper / median gap shallower) (NaN when not testable); Lo, Hi its 90% bootstrap
	// interval (±Inf where more than 5% of the resamples put the median past the data).
	Delta, Lo, Hi float64
	Testable      bool
}

// Verdict is "equivalent" (interval inside the margin), "different" (interval outside 0 and not inside the
// margin), "inconclusive" (neither), or "not testable".
func (e equivalence) Verdict() string {
	switch {
	case !e.Testable:
		return "not testable"
	case e.Lo > -equivMargin && e.Hi < equivMargin:
		return "equivalent"
	case e.Lo > 0 || e.Hi < 0:
		return "different"
	}
	return "inconclusive"
}

// medianDiff is the Δ of two samples on the gap clock: log gap = log gapRef − u, so Δ = −(median u_a − median u_b);
// NaN when either median is not reached.
func medianDiff(a, b []survival.Obs) float64 {
	ea, eb := survival.Median(a, 0.95), survival.Median(b, 0.95)
	if ea.MedianCensored || eb.MedianCensored || math.IsNaN(ea.Median) || math.IsNaN(eb.Median) {
		return math.NaN()
	}
	return -(ea.Median - eb.Median)
}

// equivalenceTest is the TOST of deeper (a) against shallower (b): Δ from the data, its interval from equivBoot
// resamples of each group's runs (with replacement, each group apart; percentile interval at equivLevel). A
// resample whose median is not reached puts its Δ at the end of the interval it would move: −Inf when a's median
// is not reached (a's gap at the event below anything observed), +Inf when b's is, and both ends when neither is
// (it counts as −Inf for the lower end and +Inf for the upper). An end that lands on such a resample is infinite,
// and the comparison cannot be equivalent.
func equivalenceTest(a, b []survival.Obs, seed uint64) equivalence {
	e := equivalence{Delta: medianDiff(a, b), Lo: math.NaN(), Hi: math.NaN()}
	if math.IsNaN(e.Delta) || len(a) < 2 || len(b) < 2 {
		return e
	}
	rng := rand.New(rand.NewPCG(equivSeed, seed))
	lo, hi := make([]float64, 0, equivBoot), make([]float64, 0, equivBoot)
	ra, rb := make([]survival.Obs, len(a)), make([]survival.Obs, len(b))
	for range equivBoot {
		for i := range ra {
			ra[i] = a[rng.IntN(len(a))]
		}
		for i := range rb {
			rb[i] = b[rng.IntN(len(b))]
		}
		ea, eb := survival.Median(ra, 0.95), survival.Median(rb, 0.95)
		d := -(ea.Median - eb.Median)
		switch {
		case ea.MedianCensored && eb.MedianCensored:
			lo, hi = append(lo, math.Inf(-1)), append(hi, math.Inf(1))
			continue
		case ea.MedianCensored:
			d = math.Inf(-1)
		case eb.MedianCensored:
			d = math.Inf(1)
		}
		lo, hi = append(lo, d), append(hi, d)
	}
	slices.Sort(lo)
	slices.Sort(hi)
	e.Lo, e.Hi = quantileSorted(lo, (1-equivLevel)/2), quantileSorted(hi, (1+equivLevel)/2)
	e.Testable = true
	return e
}

// quantileSorted is the q-quantile of sorted xs, the order statistic ⌈q·n⌉ (the percentile interval's ends).
func quantileSorted(xs []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

// arcFamily is the symmetric-arc family of configurations of K equal clusters of n points on S¹: cluster c spread
// evenly over an arc of half-width w centred at angle 2πc/K. At w = 0 every cluster is one point (the K-point
// configuration); at w = π/K − π/N (N = Kn) the points are the regular N-gon with contiguous clusters. It returns,
// for each of points half-widths from the first to the last, the silhouette (chord distances, as Silhouette) and
// the NT-Xent loss gap to the regular N-gon (equal views, temperature tau: the loss of lossOfRegularPolygon's
// derivation, for any configuration).
func arcFamily(k, n int, tau float64, points int) (w, sil, gap []float64) {
	bigN := k * n
	wMax := math.Pi/float64(k) - math.Pi/float64(bigN)
	labels := make([]int, bigN)
	for i := range labels {
		labels[i] = i / n
	}
	lmin := lossOfRegularPolygon(bigN, tau)
	for j := range points {
		hw := wMax * float64(j) / float64(points-1)
		theta := make([]float64, bigN)
		for i := range theta {
			c, p := i/n, i%n
			off := 0.0
			if n > 1 {
				off = hw * (2*float64(p)/float64(n-1) - 1)
			}
			theta[i] = 2*math.Pi*float64(c)/float64(k) + off
		}
		z := make([]float64, 2*bigN)
		for i, t := range theta {
			z[2*i], z[2*i+1] = math.Cos(t), math.Sin(t)
		}
		w = append(w, hw)
		sil = append(sil, Silhouette(latentSet{Z: z, N: bigN, K: 2, Labels: labels, C: k, Sphere: true}))
		gap = append(gap, lossOfAngles(theta, tau)-lmin)
	}
	return w, sil, gap
}

// lossOfAngles is the NT-Xent loss (exp kernel, temperature tau) of the 2N views of N points at angles theta on
// S¹ with both views of each point equal: every view has its partner at cosine 1 and two copies of every other
// point, so
//
//	L = (1/N) Σ_p log(1 + 2 Σ_{q≠p} e^{(cos(θ_p − θ_q) − 1)/τ})
//
// (−1/τ cancels the factored-out e^{1/τ}, as in lossOfRegularPolygon).
func lossOfAngles(theta []float64, tau float64) float64 {
	var sum float64
	for p, a := range theta {
		s := 1.0
		for q, b := range theta {
			if q != p {
				s += 2 * math.Exp((math.Cos(a-b)-1)/tau)
			}
		}
		sum += math.Log(s)
	}
	return sum / float64(len(theta))
}

// gapAtSilhouette is the gap of the arc family where its silhouette first falls to thr (linear between the two
// half-widths around the crossing), with that half-width; NaN when the family never reaches thr.
func gapAtSilhouette(w, sil, gap []float64, thr float64) (g, hw float64) {
	for j := 1; j < len(sil); j++ {
		if sil[j-1] >= thr && sil[j] < thr {
			f := (sil[j-1] - thr) / (sil[j-1] - sil[j])
			return gap[j-1] + f*(gap[j]-gap[j-1]), w[j-1] + f*(w[j]-w[j-1])
		}
	}
	return math.NaN(), math.NaN()
}

// describeArc words a half-width of the arc family for K clusters: arcs of 2w and gaps of 2π/K − 2w, in degrees.
func describeArc(v vals, name string, hw float64, k int) string {
	arc := 2 * hw * 180 / math.Pi
	return fmt.Sprintf("arcs of %s° with gaps of %s° between them", v.num(name+"/arc_deg", arc, "%.0f"),
		v.num(name+"/between_deg", 360/float64(k)-arc, "%.0f"))
}
