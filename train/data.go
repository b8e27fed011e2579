package train

import (
	"math/rand/v2"
	"strings"

	"github.com/gosimclr/gosimclr/datasets"
)

// dataset is one split of the training data, held on the host.
type dataset struct {
	name    string
	n       int
	dims    []int // one example: [d] for points, [H, W, C] for images
	labels  []int
	classes int
	heldOut float64 // the fraction of each class held out as the test split (folder data without one), or 0
	// fill writes the examples idx as float32 (points as they are, pixels scaled to [0, 1]) into dst.
	fill func(idx []int, dst []float32)
}

// isImages reports whether the data are images.
func (d *dataset) isImages() bool { return len(d.dims) == 3 }

// size is the number of scalars of one example.
func (d *dataset) size() int {
	n := 1
	for _, x := range d.dims {
		n *= x
	}
	return n
}

// loadData returns the train and test splits c asks for, ds being c's data set (its entry in package datasets'
// registry). A point set's test split is a second draw of the same generator from seed+1 (our choice: it
// measures how the encoder treats unseen points of the same clusters).
func loadData(c Config, ds datasets.DataSet) (train, test *dataset, err error) {
	if ds.Kind == datasets.PointSet {
		tr, err := ds.Points(c.clusterSpec(c.Seed))
		if err != nil {
			return nil, nil, UsageError{err}
		}
		te, err := ds.Points(c.clusterSpec(c.Seed + 1))
		if err != nil {
			return nil, nil, UsageError{err}
		}
		return fromPoints(tr), fromPoints(te), nil
	}
	tr, te, err := datasets.LoadWith(c.Data, c.DataDir, datasets.LoadOptions{ImageSize: c.ImageSize})
	if err != nil {
		return nil, nil, err
	}
	return fromImages(tr), fromImages(te), nil
}

// clusterSpec is what the point-set generators read of c (--clusters, --dim, …), drawn from seed.
func (c Config) clusterSpec(seed uint64) datasets.ClusterSpec {
	return datasets.ClusterSpec{K: c.Clusters, D: c.Dim, PerCluster: c.PerCluster, Shape: c.Shape, Radius: c.Radius,
		Centers: c.Centers, Spacing: c.Spacing, Scale: c.Scale, Seed: seed, Shuffle: true}
}

func fromPoints(p datasets.Points) *dataset {
	return &dataset{name: p.Name, n: p.N, dims: []int{p.D}, labels: p.Labels, classes: p.K,
		fill: func(idx []int, dst []float32) {
			for i, j := range idx {
				for c, v := range p.Row(j) {
					dst[i*p.D+c] = float32(v)
				}
			}
		}}
}

func fromImages(m *datasets.Images) *dataset {
	return &dataset{name: strings.TrimSuffix(m.Name, "/train"), n: m.N, dims: []int{m.H, m.W, m.C},
		labels: m.Labels, classes: len(m.Classes), heldOut: m.HeldOut,
		fill: func(idx []int, dst []float32) { m.Batch(idx, dst) }}
}

// sampler yields batches of example indices: each epoch is a fresh permutation of 0..n−1 drawn from
// PCG(seed, epoch), cut into batches of size b; the incomplete tail of an epoch is dropped so that every step
// has the same shape. Its whole state is the step count, so a resumed run replays the same order.
type sampler struct {
	n, b  int
	seed  uint64
	perm  []int
	epoch int
}

func newSampler(n, b int, seed uint64) *sampler { return &sampler{n: n, b: b, seed: seed, epoch: -1} }

// batch returns the indices of the given step (0-based).
func (s *sampler) batch(step int) []int {
	per := s.n / s.b
	e, k := step/per, step%per
	if e != s.epoch {
		s.perm = rand.New(rand.NewPCG(s.seed, uint64(e)+0xba7c4)).Perm(s.n)
		s.epoch = e
	}
	return s.perm[k*s.b : (k+1)*s.b]
}

// prefetcher assembles the batches of steps first…last in order on a goroutine of its own, two ahead of the
// step that uses them, so that gathering (and converting) the next batch overlaps the current step.
type prefetcher[T any] struct {
	ch   chan T
	done chan struct{}
}

func prefetch[T any](first, last int, batch func(step int) T) *prefetcher[T] {
	p := &prefetcher[T]{ch: make(chan T, 2), done: make(chan struct{})}
	go func() {
		defer close(p.ch)
		for step := first; step <= last; step++ {
			select {
			case p.ch <- batch(step):
			case <-p.done:
				return
			}
		}
	}()
	return p
}

// next returns the next step's batch.
func (p *prefetcher[T]) next() T { return <-p.ch }

// stop ends the goroutine (a run that stops early: a signal, an error).
func (p *prefetcher[T]) stop() { close(p.done) }
