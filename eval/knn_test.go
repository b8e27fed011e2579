package eval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestKNNHandMade checks tiny cases whose vote can be done by hand. Test point (1, 0); train points on the
// unit circle have similarity cos θ with it.
func TestKNNHandMade(t *testing.T) {
	c60 := float32(math.Sqrt(3) / 2) // (1/2, ±√3/2) has similarity 1/2 with (1, 0)
	tests := []struct {
		name   string
		train  []float32
		labels []int
		k      int
		T      float64
		want   int
	}{
		// One neighbour at s = 0.9 against two at s = 0.5: exp(9) > 2·exp(5) at T = 0.1, the weight wins.
		{"weight beats majority T=0.1", []float32{0.9, 0.43589, 0.5, c60, 0.5, -c60}, []int{0, 1, 1}, 3, 0.1, 0},
		// At T = 1: exp(0.9) = 2.46 < 2·exp(0.5) = 3.30, the majority wins.
		{"majority wins T=1", []float32{0.9, 0.43589, 0.5, c60, 0.5, -c60}, []int{0, 1, 1}, 3, 1, 1},
		// At T = 0.5: exp(1.8) = 6.05 > 2·exp(1) = 5.44.
		{"weight wins T=0.5", []float32{0.9, 0.43589, 0.5, c60, 0.5, -c60}, []int{0, 1, 1}, 3, 0.5, 0},
		// k = 1 keeps only the nearest, whatever the others.
		{"k=1", []float32{0.5, c60, 1, 0.1, 0.5, -c60}, []int{1, 0, 1}, 1, 0.1, 0},
		// Norms do not matter: (100, 0) is as near as (1, 0).
		{"cosine not distance", []float32{100, 0, 0.9, 0.1}, []int{1, 0}, 1, 0.1, 1},
		// Equal similarities: the lower train index is kept.
		{"similarity tie keeps lower index", []float32{2, 0, 1, 0}, []int{1, 0}, 1, 0.1, 1},
		// Equal votes: the lower class wins.
		{"vote tie to lower class", []float32{0, 1, 0, -1}, []int{1, 0}, 2, 0.1, 0},
		// k above the train size: all three vote, as for k = 3.
		{"k clamped", []float32{0.9, 0.43589, 0.5, c60, 0.5, -c60}, []int{0, 1, 1}, 50, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := KNNPredict(tc.train, tc.labels, []float32{1, 0}, 2, 2, KNNOptions{K: tc.k, T: tc.T})
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != tc.want {
				t.Errorf("predicted %d, want %d", got[0], tc.want)
			}
			acc, err := KNN(tc.train, tc.labels, []float32{1, 0}, []int{tc.want}, 2, 2, KNNOptions{K: tc.k, T: tc.T})
			if err != nil || acc != 1 {
				t.Errorf("KNN = %v, %v; want 1, nil", acc, err)
			}
		})
	}
}

// bruteKNN is the definition of KNNPredict written plainly: float64 similarities, a full sort, the vote.
func bruteKNN(train []float32, labels []int, test []float32, dim, classes, k int, T float64) []int {
	norm := func(x []float32) []float64 {
		var ss float64
		for _, v := range x {
			ss += float64(v) * float64(v)
		}
		u := make([]float64, len(x))
		for j, v := range x {
			u[j] = float64(v) / (math.Sqrt(ss) + 1e-12)
		}
		return u
	}
	n, pred := len(labels), make([]int, len(test)/dim)
	u := norm(train) // row by row below
	for j := range n {
		copy(u[j*dim:(j+1)*dim], norm(train[j*dim:(j+1)*dim]))
	}
	for i := range pred {
		v := norm(test[i*dim : (i+1)*dim])
		sims, order := make([]float64, n), make([]int, n)
		for j := range n {
			for p, uj := range u[j*dim : (j+1)*dim] {
				sims[j] += v[p] * uj
			}
			order[j] = j
		}
		slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(sims[a], sims[b]) })
		votes := make([]float64, classes)
		for _, j := range order[:min(k, n)] {
			votes[labels[j]] += math.Exp(sims[j] / T)
		}
		for c := range votes {
			if votes[c] > votes[pred[i]] {
				pred[i] = c
			}
		}
	}
	return pred
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestKNNMatchesBruteForce compares the blocked, heap-based KNNPredict with bruteKNN on random data spanning
// several train blocks and test blocks.
func TestKNNMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	nTrain, nTest, dim, classes := knnTrainBlock+1500, knnTestBlock+37, 6, 5
	if testing.Short() {
		nTrain, nTest = 3000, 100
	}
	train, test := normals(r, nTrain*dim), normals(r, nTest*dim)
	labels := make([]int, nTrain)
	for i := range labels {
		labels[i] = r.IntN(classes)
	}
	for _, k := range []int{1, 7, 200} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			got, err := KNNPredict(train, labels, test, dim, classes, KNNOptions{K: k, T: 0.1})
			if err != nil {
				t.Fatal(err)
			}
			// Check every 9th row and those at a test-block boundary; the sorts of bruteKNN are slow.
			for i := range nTest {
				if i%9 != 0 && i%knnTestBlock > 1 && i%knnTestBlock < knnTestBlock-2 {
					continue
				}
				want := bruteKNN(train, labels, test[i*dim:(i+1)*dim], dim, classes, k, 0.1)[0]
				if got[i] != want {
					t.Errorf("test row %d: predicted %d, brute force %d", i, got[i], want)
				}
			}
		})
	}
}

// TestKNNSeparatedClusters: clusters far apart relative to their spread are classified perfectly.
func TestKNNSeparatedClusters(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	train, trainY := clusters(r, 2000, 16, 10, 20)
	test, testY := clusters(r, 500, 16, 10, 20)
	acc, err := KNN(train, trainY, test, testY, 16, 10, KNNOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if acc != 1 {
		t.Errorf("accuracy %v on well-separated clusters, want 1", acc)
	}
}

// TestKNNScaleInvariance: multiplying each feature row by its own positive factor changes no prediction,
// since only cosine similarities enter.
func TestKNNScaleInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	dim, classes := 8, 4
	train, trainY := clusters(r, 1500, dim, classes, 1.5)
	test, _ := clusters(r, 300, dim, classes, 1.5)
	scale := func(x []float32) []float32 {
		s := slices.Clone(x)
		for i := 0; i < len(s); i += dim {
			f := float32(math.Exp2(float64(r.IntN(21) - 10))) // powers of two: scaling is exact in float32
			for j := range dim {
				s[i+j] *= f
			}
		}
		return s
	}
	opt := KNNOptions{K: 20, T: 0.07}
	want, err := KNNPredict(train, trainY, test, dim, classes, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := KNNPredict(scale(train), trainY, scale(test), dim, classes, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("predictions changed under row scaling")
	}
}

// TestKNNErrors: every bad input is an error wrapping its sentinel, never a panic.
func TestKNNErrors(t *testing.T) {
	x4 := []float32{1, 0, 0, 1, 1, 1, 0, 2} // 4 rows of dim 2
	nan := []float32{1, 0, 0, 1, float32(math.NaN()), 1, 0, 2}
	tests := []struct {
		name         string
		train        []float32
		trainY       []int
		test         []float32
		testY        []int
		dim, classes int
		opt          KNNOptions
		want         error
		wantMsg      string
	}{
		{"length mismatch", x4[:7], []int{0, 1, 0, 1}, x4, []int{0, 1, 0, 1}, 2, 2, KNNOptions{}, ErrShape, "train"},
		{"test labels short", x4, []int{0, 1, 0, 1}, x4, []int{0, 1, 0}, 2, 2, KNNOptions{}, ErrShape, "test"},
		{"empty train", nil, nil, x4, []int{0, 1, 0, 1}, 2, 2, KNNOptions{}, ErrShape, "empty"},
		{"empty test", x4, []int{0, 1, 0, 1}, nil, nil, 2, 2, KNNOptions{}, ErrShape, "empty"},
		{"label too big", x4, []int{0, 1, 2, 1}, x4, []int{0, 1, 0, 1}, 2, 2, KNNOptions{}, ErrLabel, "row 2"},
		{"negative label", x4, []int{0, 1, 0, 1}, x4, []int{0, -1, 0, 1}, 2, 2, KNNOptions{}, ErrLabel, "row 1"},
		{"NaN feature", nan, []int{0, 1, 0, 1}, x4, []int{0, 1, 0, 1}, 2, 2, KNNOptions{}, ErrNonFinite, "row 2"},
		{"Inf feature", x4, []int{0, 1, 0, 1}, []float32{1, 0, 0, float32(math.Inf(1))}, []int{0, 1}, 2, 2, KNNOptions{}, ErrNonFinite, "row 1"},
		{"zero dim", x4, []int{0, 1, 0, 1}, x4, []int{0, 1, 0, 1}, 0, 2, KNNOptions{}, ErrShape, "dim"},
		{"zero classes", x4, []int{0, 1, 0, 1}, x4, []int{0, 1, 0, 1}, 2, 0, KNNOptions{}, ErrShape, "classes"},
		{"negative k", x4, []int{0, 1, 0, 1}, x4, []int{0, 1, 0, 1}, 2, 2, KNNOptions{K: -1}, ErrOption, "K=-1"},
		{"negative T", x4, []int{0, 1, 0, 1}, x4, []int{0, 1, 0, 1}, 2, 2, KNNOptions{T: -1}, ErrOption, "T=-1"},
		{"NaN T", x4, []int{0, 1, 0, 1}, x4, []int{0, 1, 0, 1}, 2, 2, KNNOptions{T: math.NaN()}, ErrOption, "T=NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := KNN(tc.train, tc.trainY, tc.test, tc.testY, tc.dim, tc.classes, tc.opt)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err %q does not mention %q", err, tc.wantMsg)
			}
		})
	}
}

// BenchmarkKNN times the evaluation at the size the README reports: 10 000 test × 60 000 train, 256
// dimensions, K = 200.
func BenchmarkKNN(b *testing.B) {
	for _, s := range []struct{ test, train, dim int }{{1000, 60000, 256}, {10000, 60000, 256}} {
		b.Run(fmt.Sprintf("test=%d/train=%d/dim=%d", s.test, s.train, s.dim), func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, 8))
			train, test := normals(r, s.train*s.dim), normals(r, s.test*s.dim)
			labels := make([]int, s.train)
			for i := range labels {
				labels[i] = r.IntN(10)
			}
			for b.Loop() {
				if _, err := KNNPredict(train, labels, test, s.dim, 10, KNNOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.test)*float64(b.N)/b.Elapsed().Seconds(), "queries/s")
		})
	}
}
