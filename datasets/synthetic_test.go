package datasets

import (
	"math"
	"slices"
	"testing"
)

// dist returns the Euclidean distance between a and b.
func dist(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}

// checkShape fails t unless p has n points of dimension d, k labels and per points per label.
func checkShape(t *testing.T, p Points, n, d, k, per int) {
	t.Helper()
	if p.N != n || p.D != d || p.K != k || len(p.X) != n*d || len(p.Labels) != n {
		t.Fatalf("%s: N, D, K, len(X), len(Labels) = %d, %d, %d, %d, %d, want %d, %d, %d, %d, %d",
			p.Name, p.N, p.D, p.K, len(p.X), len(p.Labels), n, d, k, n*d, n)
	}
	counts := make([]int, k)
	for _, l := range p.Labels {
		if l < 0 || l >= k {
			t.Fatalf("%s: label %d outside [0, %d)", p.Name, l, k)
		}
		counts[l]++
	}
	for l, c := range counts {
		if c != per {
			t.Errorf("%s: label %d has %d points, want %d", p.Name, l, c, per)
		}
	}
	for i, v := range p.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s: X[%d] = %g", p.Name, i, v)
		}
	}
}

func TestSyntheticReproducible(t *testing.T) {
	specs := []ClusterSpec{
		{K: 3, D: 5, PerCluster: 20, Shape: "gaussian", Radius: 0.3, Centers: "random", Scale: 2, Seed: 7},
		{K: 4, D: 2, PerCluster: 10, Shape: "ball", Radius: 0.8, Centers: "grid", Spacing: 2, Seed: 7, Shuffle: true},
	}
	for _, s := range specs {
		a, err := Clusters(s)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Clusters(s)
		if !slices.Equal(a.X, b.X) || !slices.Equal(a.Labels, b.Labels) {
			t.Errorf("%s: the same seed gave different points", a.Name)
		}
		s.Seed++
		c, _ := Clusters(s)
		if slices.Equal(a.X, c.X) {
			t.Errorf("%s: seeds %d and %d gave the same points", a.Name, s.Seed-1, s.Seed)
		}
	}
	if !slices.Equal(FourDisks(1).X, FourDisks(1).X) || slices.Equal(FourDisks(1).X, FourDisks(2).X) {
		t.Error("FourDisks: not a function of its seed alone")
	}
	if !slices.Equal(FourAnnuli(1).X, FourAnnuli(1).X) || slices.Equal(FourAnnuli(1).X, FourAnnuli(2).X) {
		t.Error("FourAnnuli: not a function of its seed alone")
	}
}

func TestSyntheticCenters(t *testing.T) {
	for _, tc := range []struct {
		s    ClusterSpec
		want []float64
	}{
		{ClusterSpec{K: 4, D: 2, Centers: "grid", Spacing: 2}, []float64{-1, -1, -1, 1, 1, -1, 1, 1}},
		{ClusterSpec{K: 3, D: 1, Centers: "grid", Spacing: 1}, []float64{-1, 0, 1}},
		{ClusterSpec{K: 2, D: 3, Centers: "grid", Spacing: 4}, []float64{0, -2, 0, 0, 2, 0}},
		{ClusterSpec{K: 4, D: 2, Centers: "circle", Scale: 5}, []float64{5, 0, 0, 5, -5, 0, 0, -5}},
		{ClusterSpec{K: 4, D: 3, Centers: "lattice", Spacing: 2},
			[]float64{-1, -1, -1, -1, -1, 1, -1, 1, -1, -1, 1, 1}},
	} {
		got := clusterCenters(tc.s, newRand(0))
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-12 {
				t.Errorf("%s K=%d D=%d: centres %v, want %v", tc.s.Centers, tc.s.K, tc.s.D, got, tc.want)
				break
			}
		}
	}
	if m := latticeSide(9, 2); m != 3 {
		t.Errorf("latticeSide(9, 2) = %d, want 3", m)
	}
	if m := latticeSide(10, 2); m != 4 {
		t.Errorf("latticeSide(10, 2) = %d, want 4", m)
	}
}

// TestSyntheticClusters checks labels, counts, the ball radius, the uniformity of the ball's radius law and that
// each cluster's mean is near its centre.
func TestSyntheticClusters(t *testing.T) {
	const per = 2000
	for _, s := range []ClusterSpec{
		{K: 4, D: 2, PerCluster: per, Shape: "ball", Radius: 0.8, Centers: "grid", Spacing: 2, Seed: 1},
		{K: 5, D: 3, PerCluster: per, Shape: "ball", Radius: 0.5, Centers: "random", Scale: 3, Seed: 2, Shuffle: true},
		{K: 6, D: 4, PerCluster: per, Shape: "gaussian", Radius: 0.5, Centers: "circle", Scale: 5, Seed: 3},
		{K: 3, D: 1, PerCluster: per, Shape: "gaussian", Radius: 1, Centers: "lattice", Spacing: 4, Seed: 4},
	} {
		p, err := Clusters(s)
		if err != nil {
			t.Fatal(err)
		}
		checkShape(t, p, s.K*per, s.D, s.K, per)
		centers := clusterCenters(s, newRand(s.Seed)) // random centres are the generator's first draws
		means := make([]float64, s.K*s.D)
		inner := 0 // points within Radius/2 of their centre
		for i := range p.N {
			k, row := p.Labels[i], p.Row(i)
			c := centers[k*s.D : (k+1)*s.D]
			for j := range row {
				means[k*s.D+j] += row[j] / per
			}
			r := dist(row, c)
			if s.Shape == "ball" && r > s.Radius {
				t.Fatalf("%s: point %d at distance %g > radius %g from its centre", p.Name, i, r, s.Radius)
			}
			if r < s.Radius/2 {
				inner++
			}
		}
		// The mean of `per` draws has std ≤ Radius/√per per coordinate; allow 5 of them.
		for i := range means {
			if math.Abs(means[i]-centers[i]) > 5*s.Radius/math.Sqrt(per) {
				t.Errorf("%s: cluster mean %v, centres %v", p.Name, means, centers)
				break
			}
		}
		if s.Shape == "ball" { // P(r < R/2) = 2^−D for a uniform ball
			got, want := float64(inner)/float64(p.N), math.Pow(0.5, float64(s.D))
			if math.Abs(got-want) > 0.02 {
				t.Errorf("%s: fraction within R/2 is %.3f, want %.3f", p.Name, got, want)
			}
		}
	}
}

func TestSyntheticFourDisks(t *testing.T) {
	p := FourDisks(42)
	checkShape(t, p, 1600, 2, 4, 400)
	centers := [][]float64{{-1, -1}, {-1, 1}, {1, -1}, {1, 1}}
	for i := range p.N {
		if r := dist(p.Row(i), centers[p.Labels[i]]); r > 0.8 {
			t.Fatalf("point %d at distance %g > 0.8 from centre %v", i, r, centers[p.Labels[i]])
		}
	}
	if slices.IsSorted(p.Labels) {
		t.Error("labels are sorted: the points were not shuffled")
	}
}

func TestSyntheticAnnuli(t *testing.T) {
	p := FourAnnuli(3)
	checkShape(t, p, 1200, 2, 4, 300)
	radii := []float64{0.2, 0.5, 0.8, 1.1}
	for i := range p.N {
		r := dist(p.Row(i), []float64{0, 0})
		if a := radii[p.Labels[i]]; r < a-1e-12 || r > a+0.2+1e-12 {
			t.Fatalf("point %d of ring %d at radius %g, want [%g, %g]", i, p.Labels[i], r, a, a+0.2)
		}
	}
	q, err := Annuli(AnnuliSpec{Radii: []float64{0, 2}, Width: 1, PerRing: 50, D: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, q, 100, 5, 2, 50)
	if !slices.IsSorted(q.Labels) {
		t.Error("unshuffled shells are not grouped by label")
	}
}

func TestSyntheticValidation(t *testing.T) {
	ok := ClusterSpec{K: 2, D: 2, PerCluster: 3, Shape: "ball", Radius: 1, Centers: "grid", Spacing: 1}
	if _, err := Clusters(ok); err != nil {
		t.Fatalf("valid spec rejected: %v", err)
	}
	bad := map[string]func(*ClusterSpec){
		"K=0":           func(s *ClusterSpec) { s.K = 0 },
		"D=0":           func(s *ClusterSpec) { s.D = 0 },
		"PerCluster<0":  func(s *ClusterSpec) { s.PerCluster = -1 },
		"huge":          func(s *ClusterSpec) { s.K, s.PerCluster = 1<<20, 1<<20 },
		"Radius<0":      func(s *ClusterSpec) { s.Radius = -1 },
		"Radius=NaN":    func(s *ClusterSpec) { s.Radius = math.NaN() },
		"Shape":         func(s *ClusterSpec) { s.Shape = "cube" },
		"Centers":       func(s *ClusterSpec) { s.Centers = "" },
		"Spacing=0":     func(s *ClusterSpec) { s.Spacing = 0 },
		"circle D=1":    func(s *ClusterSpec) { s.Centers, s.Scale, s.D = "circle", 1, 1 },
		"circle Scale":  func(s *ClusterSpec) { s.Centers = "circle" },
		"random Scale":  func(s *ClusterSpec) { s.Centers, s.Scale = "random", math.Inf(1) },
		"lattice Space": func(s *ClusterSpec) { s.Centers, s.Spacing = "lattice", -2 },
	}
	for name, mutate := range bad {
		s := ok
		mutate(&s)
		if _, err := Clusters(s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	okA := AnnuliSpec{Radii: []float64{1}, Width: 1, PerRing: 1, D: 2}
	for name, mutate := range map[string]func(*AnnuliSpec){
		"no radii": func(s *AnnuliSpec) { s.Radii = nil },
		"radius<0": func(s *AnnuliSpec) { s.Radii = []float64{1, -1} },
		"width=0":  func(s *AnnuliSpec) { s.Width = 0 },
		"PerRing":  func(s *AnnuliSpec) { s.PerRing = 0 },
		"D=0":      func(s *AnnuliSpec) { s.D = 0 },
	} {
		s := okA
		mutate(&s)
		if _, err := Annuli(s); err == nil {
			t.Errorf("annuli %s: no error", name)
		}
	}
}
