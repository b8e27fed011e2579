package eval

import (
	"fmt"
	"math"
	"sync"

	"github.com/gosimclr/gosimclr/internal/avx"
	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// Defaults of KNNOptions, those of the InstDisc and SimCLR evaluations.
const (
	DefaultK = 200 // neighbours
	DefaultT = 0.1 // temperature of the vote weights
)

// KNNOptions configures KNN. The zero value means the defaults.
type KNNOptions struct {
	K int     // neighbours that vote; 0 means DefaultK; a K above the train size is clamped to it
	T float64 // temperature of the vote weights exp(s/T); 0 means DefaultT
}

// resolve fills in the defaults, clamps K to nTrain and checks the ranges.
func (o KNNOptions) resolve(nTrain int) (KNNOptions, error) {
	if o.K == 0 {
		o.K = DefaultK
	}
	if o.T == 0 {
		o.T = DefaultT
	}
	if o.K < 0 || !(o.T > 0) || math.IsInf(o.T, 0) {
		return o, fmt.Errorf("want K ≥ 0 and a finite T > 0, got K=%d T=%v: %w", o.K, o.T, ErrOption)
	}
	o.K = min(o.K, nTrain)
	return o, nil
}

// KNN returns the accuracy on test of the weighted k-nearest-neighbour classifier of InstDisc (Wu et al.
// 2018; section and equation numbers unverified), the kNN evaluation of SimCLR-style papers. See KNNPredict
// for the rule. train is [n, dim], test [m, dim], labels in [0, classes).
//
// A K above the train size is clamped to it (all train examples vote). Bad inputs are returned as errors
// wrapping ErrShape, ErrLabel, ErrNonFinite or ErrOption.
func KNN(train []float32, trainLabels []int, test []float32, testLabels []int, dim, classes int, opt KNNOptions) (accuracy float64, err error) {
	if err := checkPair("KNN", train, trainLabels, test, testLabels, dim, classes); err != nil {
		return 0, err
	}
	pred, err := KNNPredict(train, trainLabels, test, dim, classes, opt)
	if err != nil {
		return 0, err
	}
	return score(pred, testLabels), nil
}

// KNNPredict returns the class the weighted kNN vote gives each test row:
//
//	u_i = x_i/(‖x_i‖+1e-12),   s_ij = u_i·u_j   (cosine similarity of test row i and train row j)
//	N_k(i) = the K train rows of largest s_ij (ties: the lower train index)
//	ŷ_i = argmax_c Σ_{j ∈ N_k(i), y_j = c} exp(s_ij/T)   (ties: the lower class)
//
// The similarities are computed by hostmath.MatMul in blocks of knnTestBlock test rows × knnTrainBlock train
// rows, so memory stays bounded (never an m×n matrix), and each test row keeps its K best in a min-heap, so
// selection costs O(n + K log K · log(n/K)) per row instead of a sort. Test blocks run in parallel.
func KNNPredict(train []float32, trainLabels []int, test []float32, dim, classes int, opt KNNOptions) ([]int, error) {
	if err := checkSet("train", train, trainLabels, dim, classes); err != nil {
		return nil, fmt.Errorf("eval: KNNPredict: %w", err)
	}
	nTest, err := checkFeatures("test", test, dim)
	if err != nil {
		return nil, fmt.Errorf("eval: KNNPredict: %w", err)
	}
	nTrain := len(trainLabels)
	opt, err = opt.resolve(nTrain)
	if err != nil {
		return nil, fmt.Errorf("eval: KNNPredict: %w", err)
	}
	u := hostmath.NormalizeRows[float32](nil, train, nTrain, dim) // [nTrain, dim]
	v := hostmath.NormalizeRows[float32](nil, test, nTest, dim)   // [nTest, dim]
	pred := make([]int, nTest)
	bufSize := min(knnTestBlock, nTest) * min(knnTrainBlock, nTrain)
	bufs := sync.Pool{New: func() any { s := make([]float32, bufSize); return &s }}
	hostmath.ParallelBlocks(nTest, knnTestBlock, func(lo, hi int) {
		rows := hi - lo
		top := newTopK(rows, opt.K)
		buf := bufs.Get().(*[]float32)
		for j0 := 0; j0 < nTrain; j0 += knnTrainBlock {
			cols := min(knnTrainBlock, nTrain-j0)
			s := hostmath.MatMul((*buf)[:rows*cols], v[lo*dim:hi*dim], u[j0*dim:(j0+cols)*dim], rows, dim, cols, false, true) // [rows, cols]
			for r := range rows {
				top.add(r, s[r*cols:(r+1)*cols], j0)
			}
		}
		bufs.Put(buf)
		votes := make([]float64, classes)
		for r := range rows {
			pred[lo+r] = top.vote(r, trainLabels, opt.T, votes)
		}
	})
	return pred, nil
}

// Block sizes of KNNPredict: a knnTestBlock×knnTrainBlock float32 similarity block is 16 MiB, one per
// goroutine, and large enough for hostmath.MatMul to run near its peak.
const (
	knnTestBlock  = 512
	knnTrainBlock = 8192
)

// topK holds, for each of a block of test rows, the k largest similarities seen so far and their train
// indices, as a min-heap whose root is the worst kept neighbour: lower similarity, or equal similarity and
// higher index.
type topK struct {
	k    int
	sim  []float32 // [rows, k]
	idx  []int32   // [rows, k]
	size []int     // [rows]
}

func newTopK(rows, k int) *topK {
	return &topK{k: k, sim: make([]float32, rows*k), idx: make([]int32, rows*k), size: make([]int, rows)}
}

// add offers the similarities s of row r to train rows offset, offset+1, …. Train indices arrive in
// increasing order, so a similarity equal to the root's loses the tie and is skipped by the one comparison
// that rejects almost every candidate once the heap is full.
func (t *topK) add(r int, s []float32, offset int) {
	k := t.k
	h, ix, n := t.sim[r*k:(r+1)*k], t.idx[r*k:(r+1)*k], t.size[r]
	j := 0
	for ; n < k && j < len(s); j++ { // filling up
		h[n], ix[n] = s[j], int32(offset+j)
		siftUp(h, ix, n)
		n++
	}
	t.size[r] = n
	if n < k || j == len(s) {
		return
	}
	worst := h[0]
	for ; j < len(s); j++ {
		if s[j] <= worst {
			continue
		}
		h[0], ix[0] = s[j], int32(offset+j)
		siftDown(h, ix, 0)
		worst = h[0]
	}
}

// worse reports whether neighbour a ranks below neighbour b.
func worse(h []float32, ix []int32, a, b int) bool {
	return h[a] < h[b] || h[a] == h[b] && ix[a] > ix[b]
}

func siftUp(h []float32, ix []int32, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !worse(h, ix, i, p) {
			return
		}
		h[i], h[p], ix[i], ix[p] = h[p], h[i], ix[p], ix[i]
		i = p
	}
}

func siftDown(h []float32, ix []int32, i int) {
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && worse(h, ix, c+1, c) {
			c++
		}
		if !worse(h, ix, c, i) {
			return
		}
		h[i], h[c], ix[i], ix[c] = h[c], h[i], ix[c], ix[i]
		i = c
	}
}

// vote returns argmax_c Σ_{j kept, y_j = c} exp(s_j/T) for row r, the lowest class on ties. It subtracts the
// largest kept similarity first, exp((s_j − s_max)/T), only so that a small T cannot overflow: the common
// factor exp(s_max/T) does not change the argmax. votes is scratch of length classes.
func (t *topK) vote(r int, labels []int, T float64, votes []float64) int {
	h, ix := t.sim[r*t.k:(r*t.k)+t.size[r]], t.idx[r*t.k:(r*t.k)+t.size[r]]
	clear(votes)
	avx.Clean() // math.Exp below: see internal/avx
	sMax := float32(math.Inf(-1))
	for _, s := range h {
		sMax = max(sMax, s)
	}
	for j, s := range h {
		votes[labels[ix[j]]] += math.Exp(float64(s-sMax) / T)
	}
	best := 0
	for c, w := range votes {
		if w > votes[best] {
			best = c
		}
	}
	return best
}

// score returns the fraction of pred equal to labels.
func score(pred, labels []int) float64 {
	right := 0
	for i, p := range pred {
		if p == labels[i] {
			right++
		}
	}
	return float64(right) / float64(len(labels))
}
