package train

import (
	"math/rand/v2"

	"github.com/gosimclr/gosimclr/datasets"
)

// loadPoints builds the synthetic data set of c.
func loadPoints(c Config) (datasets.Points, error) {
	switch c.Data {
	case "disks":
		return datasets.FourDisks(c.Seed), nil
	case "annuli":
		return datasets.FourAnnuli(c.Seed), nil
	}
	p, err := datasets.Clusters(datasets.ClusterSpec{
		K: c.Clusters, D: c.Dim, PerCluster: c.PerCluster, Shape: c.Shape, Radius: c.Radius,
		Centers: c.Centers, Spacing: c.Spacing, Scale: c.Scale, Seed: c.Seed, Shuffle: true,
	})
	if err != nil {
		return p, UsageError{err}
	}
	return p, nil
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
