package experiments

import (
	"math"
	"slices"
	"sort"
)

// The three groups (paper.md §6.2): a map invariant to the diagonal shift x + ξ(1,1) depends on x only through
// u = x₁ − x₂, and the disks (−1,−1) and (1,1) both have u ≈ 0, so no invariant code can tell labels 0 and 3 apart
// (the four-label probe's ceiling is 3/4); (−1,1) at u ≈ −2 and (1,−1) at u ≈ +2 stay distinct.
var (
	diskName  = []string{"(−1,−1)", "(−1,1)", "(1,−1)", "(1,1)"}
	diskGroup = []int{0, 1, 2, 0} // label → group
	groupName = []string{"(−1,−1)∪(1,1)", "(−1,1)", "(1,−1)"}
)

// Thresholds of the three-group criterion (ours).
const (
	sil3Threshold    = 0.5  // three-group silhouette of the 1-D codes
	overlapThreshold = 0.05 // fraction of points on the wrong side of the best two cuts
)

// groups3 holds the three-group metrics of N 1-D codes z.
//
//	Silhouette: mean silhouette by group, 1-D Euclidean distance |z_i − z_j| (Rousseeuw 1987)
//	Overlap:    1 − the accuracy of the best split of the line by two cuts into three intervals, one per group,
//	            over the 3! orders of the groups (exact): the fraction of points no interval code can place
//	Gap:        smallest gap between the ranges [min, max] of groups adjacent in the order of their means, over
//	            the range of all codes; < 0 when the ranges overlap
//	Probe:      accuracy of the linear probe (ProbeAccuracy, softmax regression) on the three groups
type groups3 struct{ Silhouette, Overlap, Gap, Probe float64 }

// formed3 is the criterion: three groups formed.
//
// The overlap is 1 − (a count)/N, so "at most 5%" must survive its rounding: 1 − 380/400 is 0.05000000000000004
// in float64. thresholdTol absorbs that.
func formed3(g groups3) bool {
	return g.Silhouette >= sil3Threshold && g.Overlap <= overlapThreshold+thresholdTol
}

// thresholdTol is the rounding slack of formed3's overlap comparison.
const thresholdTol = 1e-12

// measure3 measures the codes z [N] of points with four-disk labels by their three groups.
func measure3(z []float64, labels []int) groups3 {
	g := make([]int, len(labels))
	for i, l := range labels {
		g[i] = diskGroup[l]
	}
	s := latentSet{Z: z, N: len(z), K: 1, Labels: g, C: 3}
	return groups3{Silhouette: Silhouette(s), Overlap: 1 - intervalAccuracy(z, g), Gap: groupGap(z, g), Probe: ProbeAccuracy(s)}
}

// intervalAccuracy is the accuracy of the best rule "group π₀ below c₁ ≤ group π₁ below c₂ ≤ group π₂" over cuts
// c₁ ≤ c₂ between distinct codes and orders π of the groups 0, 1, 2. For a fixed order and upper cut j (in sorted
// order) the best lower cut i ≤ j maximises P₀(i) − P₁(i), Pₖ(i) = #{group πₖ among the i smallest}: O(N) per order.
func intervalAccuracy(z []float64, g []int) float64 {
	n := len(z)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return z[idx[a]] < z[idx[b]] })
	cut := func(k int) bool { return k == 0 || k == n || z[idx[k-1]] < z[idx[k]] } // no cut between equal codes
	best := 0
	for _, p := range [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		var cnt [3]int // Pₖ(j), by group
		total2 := 0
		for _, v := range g {
			if v == p[2] {
				total2++
			}
		}
		bestLow := math.MinInt // max over valid i ≤ j of P₀(i) − P₁(i)
		for j := 0; j <= n; j++ {
			if cut(j) {
				bestLow = max(bestLow, cnt[p[0]]-cnt[p[1]])
				best = max(best, bestLow+cnt[p[1]]+total2-cnt[p[2]])
			}
			if j < n {
				cnt[g[idx[j]]]++
			}
		}
	}
	return float64(best) / float64(n)
}

// groupGap is the Gap of groups3.
func groupGap(z []float64, g []int) float64 {
	lo, hi := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}, [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	var mean [3]float64
	var cnt [3]int
	for i, v := range z {
		lo[g[i]], hi[g[i]] = min(lo[g[i]], v), max(hi[g[i]], v)
		mean[g[i]] += v
		cnt[g[i]]++
	}
	order := []int{0, 1, 2}
	sort.Slice(order, func(a, b int) bool {
		return mean[order[a]]/float64(cnt[order[a]]) < mean[order[b]]/float64(cnt[order[b]])
	})
	span := slices.Max(z) - slices.Min(z)
	if span == 0 {
		return 0
	}
	return min(lo[order[1]]-hi[order[0]], lo[order[2]]-hi[order[1]]) / span
}
