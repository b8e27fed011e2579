package datasets

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Points is a labelled point cloud held on the host: n points of dimension d, row-major.
//
//	X[i*D + j] = coordinate j of point i,   Labels[i] ∈ {0, …, K−1}
type Points struct {
	X      []float64 // [N·D], row-major
	N, D   int       // number of points, dimension
	Labels []int     // [N], the generating cluster (or ring) of each point
	K      int       // number of distinct labels
	Name   string    // a short name for logs and config.json, e.g. "four-disks"
}

// Row returns point i as a slice aliasing p.X.
func (p Points) Row(i int) []float64 { return p.X[i*p.D : (i+1)*p.D] }

// Shuffle permutes the points (and their labels) in place with a Fisher–Yates shuffle driven by rng.
func (p Points) Shuffle(rng *rand.Rand) {
	rng.Shuffle(p.N, func(i, j int) {
		p.Labels[i], p.Labels[j] = p.Labels[j], p.Labels[i]
		ri, rj := p.Row(i), p.Row(j)
		for c := range ri {
			ri[c], rj[c] = rj[c], ri[c]
		}
	})
}

// pcgStream is the second PCG word: one fixed stream, so that Seed alone selects the sequence.
const pcgStream = 0x5349_4d43_4c52 // "SIMCLR"

// newRand returns the generator used by every function of this file: PCG(seed, pcgStream).
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, pcgStream)) }

// ClusterSpec describes K clusters of PerCluster points each in R^D.
//
// Shape chooses the law of a point around its centre c:
//
//	"gaussian": x = c + Radius·g,            g ~ N(0, I_D)           (Radius is the per-coordinate std)
//	"ball":     x = c + Radius·U^(1/D)·g/‖g‖, U ~ U[0,1), g ~ N(0, I_D) (uniform in the D-ball of radius Radius)
//
// Centers chooses the centres c_0 … c_{K−1}:
//
//	"grid":    a centred grid in the first two coordinates, n1 = ⌈√K⌉ columns along coordinate 1, spacing
//	           Spacing; c_j = ((j div n1 − (n0−1)/2)·Spacing, (j mod n1 − (n1−1)/2)·Spacing, 0, …).
//	           K = 4, Spacing = 2 gives the authors' (−1,−1), (−1,1), (1,−1), (1,1). With D = 1 it is a line.
//	"lattice": a centred D-dimensional grid of side m = min{m : m^D ≥ K}, spacing Spacing; c_j has the base-m
//	           digits of j (most significant first) as coordinates.
//	"circle":  c_j = (Scale·cos(2πj/K), Scale·sin(2πj/K), 0, …); needs D ≥ 2.
//	"random":  c_j uniform in the box [−Scale, Scale]^D, drawn from the seed before the points.
//
// Points come grouped by cluster (label j in rows j·PerCluster … (j+1)·PerCluster−1) unless Shuffle is set, in which
// case they are shuffled once, from the same generator, after they are drawn.
type ClusterSpec struct {
	K, D, PerCluster int
	Shape            string  // "gaussian" or "ball"
	Radius           float64 // std (gaussian) or radius (ball), ≥ 0
	Centers          string  // "grid", "lattice", "circle" or "random"
	Spacing          float64 // distance between neighbouring centres for "grid" and "lattice", > 0
	Scale            float64 // circle radius ("circle") or half-width of the box ("random"), > 0
	Seed             uint64
	Shuffle          bool
}

// validate reports the first problem of s, phrased as what to change.
func (s ClusterSpec) validate() error {
	switch {
	case s.K < 1:
		return fmt.Errorf("datasets: clusters: K must be ≥ 1, got %d", s.K)
	case s.D < 1:
		return fmt.Errorf("datasets: clusters: D must be ≥ 1, got %d", s.D)
	case s.PerCluster < 1:
		return fmt.Errorf("datasets: clusters: PerCluster must be ≥ 1, got %d", s.PerCluster)
	case s.K > math.MaxInt32/s.PerCluster || s.K*s.PerCluster > math.MaxInt32/s.D:
		return fmt.Errorf("datasets: clusters: K·PerCluster·D = %d·%d·%d is too large", s.K, s.PerCluster, s.D)
	case !(s.Radius >= 0) || math.IsInf(s.Radius, 0):
		return fmt.Errorf("datasets: clusters: Radius must be finite and ≥ 0, got %g", s.Radius)
	case s.Shape != "gaussian" && s.Shape != "ball":
		return fmt.Errorf("datasets: clusters: Shape must be \"gaussian\" or \"ball\", got %q", s.Shape)
	}
	switch s.Centers {
	case "grid", "lattice":
		if !(s.Spacing > 0) || math.IsInf(s.Spacing, 0) {
			return fmt.Errorf("datasets: clusters: %s centres need a finite Spacing > 0, got %g", s.Centers, s.Spacing)
		}
	case "circle", "random":
		if !(s.Scale > 0) || math.IsInf(s.Scale, 0) {
			return fmt.Errorf("datasets: clusters: %s centres need a finite Scale > 0, got %g", s.Centers, s.Scale)
		}
		if s.Centers == "circle" && s.D < 2 {
			return fmt.Errorf("datasets: clusters: circle centres need D ≥ 2, got %d", s.D)
		}
	default:
		return fmt.Errorf("datasets: clusters: Centers must be \"grid\", \"lattice\", \"circle\" or \"random\", got %q",
			s.Centers)
	}
	return nil
}

// Clusters draws the point cloud described by s. Its name is "clusters-<Shape>-<Centers>".
// The same spec (Seed included) always gives the same points, bit for bit.
func Clusters(s ClusterSpec) (Points, error) {
	if err := s.validate(); err != nil {
		return Points{}, err
	}
	rng := newRand(s.Seed)
	centers := clusterCenters(s, rng) // [K·D]
	n := s.K * s.PerCluster
	p := Points{X: make([]float64, n*s.D), N: n, D: s.D, Labels: make([]int, n), K: s.K,
		Name: "clusters-" + s.Shape + "-" + s.Centers}
	for i := range n {
		k := i / s.PerCluster
		p.Labels[i] = k
		row, c := p.Row(i), centers[k*s.D:(k+1)*s.D]
		if s.Shape == "ball" {
			sampleBall(row, s.Radius, rng)
		} else {
			for j := range row {
				row[j] = s.Radius * rng.NormFloat64()
			}
		}
		for j := range row {
			row[j] += c[j]
		}
	}
	if s.Shuffle {
		p.Shuffle(rng)
	}
	return p, nil
}

// clusterCenters returns the K centres of s as a row-major [K·D] slice; s must be valid.
func clusterCenters(s ClusterSpec, rng *rand.Rand) []float64 {
	c := make([]float64, s.K*s.D)
	switch s.Centers {
	case "grid":
		n1 := int(math.Ceil(math.Sqrt(float64(s.K))))
		n0 := (s.K + n1 - 1) / n1
		for j := range s.K {
			if s.D == 1 { // a line: the one coordinate holds the whole index
				c[j] = (float64(j) - float64(s.K-1)/2) * s.Spacing
				continue
			}
			c[j*s.D] = (float64(j/n1) - float64(n0-1)/2) * s.Spacing
			c[j*s.D+1] = (float64(j%n1) - float64(n1-1)/2) * s.Spacing
		}
	case "lattice":
		m := latticeSide(s.K, s.D)
		for j := range s.K {
			q := j
			for a := s.D - 1; a >= 0; a-- { // least significant digit in the last coordinate
				c[j*s.D+a] = (float64(q%m) - float64(m-1)/2) * s.Spacing
				q /= m
			}
		}
	case "circle":
		for j := range s.K {
			phi := 2 * math.Pi * float64(j) / float64(s.K)
			c[j*s.D], c[j*s.D+1] = s.Scale*math.Cos(phi), s.Scale*math.Sin(phi)
		}
	case "random":
		for i := range c {
			c[i] = s.Scale * (2*rng.Float64() - 1)
		}
	}
	return c
}

// latticeSide returns the smallest m ≥ 1 with m^d ≥ k, without overflow.
func latticeSide(k, d int) int {
	for m := 1; ; m++ {
		p := 1
		for range d {
			p *= m
			if p >= k {
				return m
			}
		}
	}
}

// sampleDirection writes into x a direction uniform on the unit sphere: g/‖g‖ with g ~ N(0, I_d).
func sampleDirection(x []float64, rng *rand.Rand) {
	var norm2 float64
	for norm2 == 0 { // g = 0 has probability 0 but would divide by zero
		norm2 = 0
		for j := range x {
			x[j] = rng.NormFloat64()
			norm2 += x[j] * x[j]
		}
	}
	norm := math.Sqrt(norm2)
	for j := range x {
		x[j] /= norm
	}
}

// sampleBall writes into x a point uniform in the ball of the given radius around the origin:
//
//	x = radius · U^(1/d) · g/‖g‖,   g ~ N(0, I_d), U ~ U[0,1)
//
// (a uniform direction times the radius law P(r ≤ t) = (t/radius)^d).
func sampleBall(x []float64, radius float64, rng *rand.Rand) {
	sampleDirection(x, rng)
	r := radius * math.Pow(rng.Float64(), 1/float64(len(x)))
	for j := range x {
		x[j] *= r
	}
}

// FourDisks returns the authors' 2-D data set (paper.md §6.2, test-artificial-data.py): 4 disks of radius 0.8
// centred at (−1,−1), (−1,1), (1,−1), (1,1) (labels 0…3 in that order), 400 points each (N = 1600), each point
//
//	x = c + r·(cos φ, sin φ),   r = 0.8·√U,  φ = 2πV,   U, V ~ U[0,1)
//
// (uniform in the disk), shuffled once. The same seed always gives the same points.
func FourDisks(seed uint64) Points {
	const perDisk, radius = 400, 0.8
	centers := [4][2]float64{{-1, -1}, {-1, 1}, {1, -1}, {1, 1}}
	rng := newRand(seed)
	p := Points{X: make([]float64, 4*perDisk*2), N: 4 * perDisk, D: 2, Labels: make([]int, 4*perDisk), K: 4,
		Name: "four-disks"}
	for i := range p.N {
		k := i / perDisk
		r, phi := radius*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
		p.X[2*i], p.X[2*i+1] = centers[k][0]+r*math.Cos(phi), centers[k][1]+r*math.Sin(phi)
		p.Labels[i] = k
	}
	p.Shuffle(rng)
	return p
}

// AnnuliSpec describes concentric shells around the origin of R^D (annuli for D = 2): shell k holds PerRing points
// uniform in {x : Radii[k] ≤ ‖x‖ < Radii[k] + Width}, i.e.
//
//	x = r·g/‖g‖,   r = (a^D + U·((a+w)^D − a^D))^(1/D),   a = Radii[k], w = Width, g ~ N(0, I_D), U ~ U[0,1)
//
// Whether the authors' "radius r, width 0.2" means [r, r+w] (ours) or [r−w/2, r+w/2] is not known.
// Points come grouped by shell unless Shuffle is set.
type AnnuliSpec struct {
	Radii   []float64 // inner radii, each ≥ 0
	Width   float64   // > 0
	PerRing int
	D       int // ≥ 1; 2 gives annuli
	Seed    uint64
	Shuffle bool
}

// validate reports the first problem of s, phrased as what to change.
func (s AnnuliSpec) validate() error {
	switch {
	case len(s.Radii) == 0:
		return errors.New("datasets: annuli: Radii must hold at least one radius")
	case s.D < 1:
		return fmt.Errorf("datasets: annuli: D must be ≥ 1, got %d", s.D)
	case s.PerRing < 1:
		return fmt.Errorf("datasets: annuli: PerRing must be ≥ 1, got %d", s.PerRing)
	case len(s.Radii) > math.MaxInt32/s.PerRing || len(s.Radii)*s.PerRing > math.MaxInt32/s.D:
		return fmt.Errorf("datasets: annuli: rings·PerRing·D = %d·%d·%d is too large", len(s.Radii), s.PerRing, s.D)
	case !(s.Width > 0) || math.IsInf(s.Width, 0):
		return fmt.Errorf("datasets: annuli: Width must be finite and > 0, got %g", s.Width)
	}
	for k, r := range s.Radii {
		if !(r >= 0) || math.IsInf(r, 0) {
			return fmt.Errorf("datasets: annuli: Radii[%d] must be finite and ≥ 0, got %g", k, r)
		}
	}
	return nil
}

// Annuli draws the shells described by s; label k is shell k. Its name is "annuli".
// The same spec (Seed included) always gives the same points, bit for bit.
func Annuli(s AnnuliSpec) (Points, error) {
	if err := s.validate(); err != nil {
		return Points{}, err
	}
	rng := newRand(s.Seed)
	k, n := len(s.Radii), len(s.Radii)*s.PerRing
	p := Points{X: make([]float64, n*s.D), N: n, D: s.D, Labels: make([]int, n), K: k, Name: "annuli"}
	fd := float64(s.D)
	for i := range n {
		ring := i / s.PerRing
		p.Labels[i] = ring
		row, a := p.Row(i), s.Radii[ring]
		sampleDirection(row, rng)
		lo, hi := math.Pow(a, fd), math.Pow(a+s.Width, fd)
		r := math.Pow(lo+rng.Float64()*(hi-lo), 1/fd) // inverse of the CDF (r^D − a^D)/((a+w)^D − a^D)
		for j := range row {
			row[j] *= r
		}
	}
	if s.Shuffle {
		p.Shuffle(rng)
	}
	return p, nil
}

// FourAnnuli returns the authors' annuli (paper.md §6.2, switched off in test-artificial-data.py): 4 rings in 2-D
// with inner radii 0.2, 0.5, 0.8, 1.1 and width 0.2, 300 points each (N = 1200), shuffled once.
func FourAnnuli(seed uint64) Points {
	p, err := Annuli(AnnuliSpec{Radii: []float64{0.2, 0.5, 0.8, 1.1}, Width: 0.2, PerRing: 300, D: 2,
		Seed: seed, Shuffle: true})
	if err != nil {
		panic(err) // unreachable: the spec above is valid
	}
	return p
}
