package experiments

import (
	"github.com/gosimclr/gosimclr/internal/hostmath"
	"math"

	"github.com/gosimclr/gosimclr/datasets"

	"github.com/gosimclr/gosimclr/eval"
	"github.com/gosimclr/gosimclr/internal/avx"
)

// Geometry holds the cluster metrics of one configuration of latent points (one logged step).
//
//	Spread:     mean over clusters c of the RMS distance of the points of c to their cluster mean; on the sphere
//	            the angle between u_i and the mean direction m_c = Σ_{i∈c} u_i/‖Σ u_i‖ (radians)
//	MinSep:     smallest distance between two cluster means: on the sphere the angle between m_c and m_d
//	Silhouette: mean silhouette of the points by cluster label, Euclidean distance in the latent space (chord
//	            distance on the sphere), s_i = (b_i − a_i)/max(a_i, b_i) (Rousseeuw 1987)
//	Probe:      accuracy of a linear probe (softmax regression, eval.FitProbe) fitted on the latent points and
//	            scored on the same points: linear separability of the clusters
//	Uniformity: Wang & Isola's log mean_{i≠j} exp(−2‖u_i − u_j‖²) on u (NaN for a Euclidean latent space)
//	Loss:       the training loss at that step (on the augmented views)
//	OutNorm:    mean ‖g_i‖ of the output before its normalisation (the latents' own norm when there is none)
type Geometry struct {
	Spread, MinSep, Silhouette, Probe, Uniformity, Loss, OutNorm float64
}

// latentSet is N latent points of dimension k with their labels.
type latentSet struct {
	Z      []float64 // [N·k] row-major
	N, K   int       // points, latent dimension k
	Labels []int
	C      int  // number of clusters
	Sphere bool // measure on u = z/‖z‖ with angles, else Euclidean
}

// points returns the coordinates the metrics use: u on the sphere, z otherwise.
func (s latentSet) points() []float64 {
	if !s.Sphere {
		return s.Z
	}
	return hostmath.NormalizeRows[float64](nil, s.Z, s.N, s.K)
}

// angle returns the angle between unit vectors a and b as 2·asin(‖a − b‖/2), accurate near 0 where acos(a·b)
// is not.
func angle(a, b []float64) float64 { return 2 * math.Asin(min(1, hostDist(a, b)/2)) }

// clusterMeans returns the mean of each cluster's points [C·k]; on the sphere normalised to mean directions.
func clusterMeans(s latentSet, p []float64) []float64 {
	m := make([]float64, s.C*s.K)
	cnt := make([]int, s.C)
	for i := range s.N {
		c := s.Labels[i]
		cnt[c]++
		for j := range s.K {
			m[c*s.K+j] += p[i*s.K+j]
		}
	}
	for c := range s.C {
		for j := range s.K {
			m[c*s.K+j] /= float64(max(cnt[c], 1))
		}
	}
	if s.Sphere {
		return hostmath.NormalizeRows[float64](nil, m, s.C, s.K)
	}
	return m
}

// Spread is the mean over clusters of the RMS distance (angle on the sphere) of their points to the cluster mean.
func Spread(s latentSet) float64 {
	p := s.points()
	m := clusterMeans(s, p)
	sum, cnt := make([]float64, s.C), make([]int, s.C)
	for i := range s.N {
		c := s.Labels[i]
		var d float64
		if s.Sphere {
			d = angle(p[i*s.K:(i+1)*s.K], m[c*s.K:(c+1)*s.K])
		} else {
			d = hostDist(p[i*s.K:(i+1)*s.K], m[c*s.K:(c+1)*s.K])
		}
		sum[c] += d * d
		cnt[c]++
	}
	var total float64
	var nc int
	for c := range s.C {
		if cnt[c] > 0 {
			total += math.Sqrt(sum[c] / float64(cnt[c]))
			nc++
		}
	}
	return total / float64(nc)
}

// MinSeparation is the smallest distance (angle on the sphere) between two cluster means; +Inf for one cluster.
func MinSeparation(s latentSet) float64 {
	p := s.points()
	m := clusterMeans(s, p)
	best := math.Inf(1)
	for c := range s.C {
		for d := c + 1; d < s.C; d++ {
			a, b := m[c*s.K:(c+1)*s.K], m[d*s.K:(d+1)*s.K]
			if s.Sphere {
				best = min(best, angle(a, b))
			} else {
				best = min(best, hostDist(a, b))
			}
		}
	}
	return best
}

// Silhouette is the mean silhouette width of the points by label, with Euclidean distances between the metric
// points (chords on the sphere). A point alone in its cluster scores 0, as in scikit-learn.
func Silhouette(s latentSet) float64 {
	p := s.points()
	sums := make([]float64, s.C)
	cnt := make([]int, s.C)
	for i := range s.N {
		cnt[s.Labels[i]]++
	}
	var total float64
	for i := range s.N {
		clear(sums)
		pi := p[i*s.K : (i+1)*s.K]
		for j := range s.N {
			if j != i {
				sums[s.Labels[j]] += hostDist(pi, p[j*s.K:(j+1)*s.K])
			}
		}
		own := s.Labels[i]
		if cnt[own] < 2 {
			continue
		}
		a := sums[own] / float64(cnt[own]-1)
		b := math.Inf(1)
		for c := range s.C {
			if c != own && cnt[c] > 0 {
				b = min(b, sums[c]/float64(cnt[c]))
			}
		}
		if d := max(a, b); d > 0 && !math.IsInf(b, 1) {
			total += (b - a) / d
		}
	}
	return total / float64(s.N)
}

// probeLambda is the L2 penalty of the latent-point probe (one λ: no held-out split; ours).
const probeLambda = 1e-4

// ProbeAccuracy fits a linear probe on the latent points (z itself, standardised by eval.FitProbe) and
// returns its accuracy on the same points.
func ProbeAccuracy(s latentSet) float64 { return probeScore(s.Z, s.Labels, s.Z, s.Labels, s.K, s.C) }

// probeScore fits the latent-point probe (λ = probeLambda, 200 iterations) on the points train [n·k] and returns
// its accuracy on the points test; NaN when the fit fails.
func probeScore(train []float64, trainLabels []int, test []float64, testLabels []int, k, classes int) float64 {
	f32 := func(v []float64) []float32 {
		x := make([]float32, len(v))
		for i, a := range v {
			x[i] = float32(a)
		}
		return x
	}
	p, err := eval.FitProbe(f32(train), trainLabels, k, classes, eval.ProbeOptions{Lambdas: []float64{probeLambda}, MaxIter: 200})
	if err != nil {
		return math.NaN()
	}
	pred, err := p.Predict(f32(test))
	if err != nil {
		return math.NaN()
	}
	ok := 0
	for i, y := range pred {
		if y == testLabels[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(testLabels))
}

// Uniformity is Wang & Isola's (2020) uniformity of the N points on u: log mean_{i≠j} exp(−2‖u_i − u_j‖²);
// NaN for a Euclidean latent space.
func Uniformity(s latentSet) float64 {
	if !s.Sphere {
		return math.NaN()
	}
	u := s.points()
	var sum float64
	for i := range s.N {
		avx.Clean() // math.Exp below: see internal/avx
		for j := i + 1; j < s.N; j++ {
			d := hostDist(u[i*s.K:(i+1)*s.K], u[j*s.K:(j+1)*s.K])
			sum += 2 * math.Exp(-2*d*d)
		}
	}
	return math.Log(sum / float64(s.N*(s.N-1)))
}

// Measure computes every metric of s; loss is copied into the result.
func Measure(s latentSet, loss float64) Geometry {
	return Geometry{Spread: Spread(s), MinSep: MinSeparation(s), Silhouette: Silhouette(s), Probe: ProbeAccuracy(s),
		Uniformity: Uniformity(s), Loss: loss}
}

// probeThreshold is the secondary persistence measure's threshold (ours): clusters count as linearly separable
// while the probe accuracy is ≥ 0.95.
const probeThreshold = 0.95

// TrivialSilhouette is the silhouette s* of the trivial minimiser with the given labels: the n latent points
// spread evenly on S^{k−1} (uniformPoints) with each cluster on a contiguous block, the configuration the
// particle flow converges to. For K = 4 equal clusters on S¹ it is about 0.53 (chord distances).
func TrivialSilhouette(labels []int, classes, k int) float64 {
	n := len(labels)
	d := datasetsPointsForLabels(labels, classes)
	z := embed(d, "uniform-contiguous", k, 0, nil)
	return Silhouette(latentSet{Z: z, N: n, K: k, Labels: labels, C: classes, Sphere: true})
}

// SilThreshold is the primary persistence threshold (ours): halfway between perfectly collapsed clusters
// (silhouette 1) and the trivial minimiser (TrivialSilhouette), so "visible" means closer to the first.
func SilThreshold(labels []int, classes, k int) float64 {
	return (1 + TrivialSilhouette(labels, classes, k)) / 2
}

// datasetsPointsForLabels wraps labels as a data set with one dummy coordinate (for embed).
func datasetsPointsForLabels(labels []int, classes int) datasets.Points {
	return datasets.Points{X: make([]float64, len(labels)), N: len(labels), D: 1, Labels: labels, K: classes}
}

// hostDist is the Euclidean distance ‖a − b‖.
func hostDist(a, b []float64) float64 { return math.Sqrt(hostmath.SqDist(a, b)) }
