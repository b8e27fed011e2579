package train

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
)

// dataset is one split of the training data, held on the host.
type dataset struct {
	name    string
	n       int
	dims    []int // one example: [d] for points, [H, W, C] for images
	labels  []int
	classes int
	heldOut float64 // the fraction of each class held out as the test split (folder data without one), or 0
	// fill writes the examples idx as float32 (points as they are, pixels scaled to [0, 1]; a streamed set's
	// centre crops) into dst.
	fill func(idx []int, dst []float32) error
	// stream, when not nil, is where the images are read from as batches need them: the training batches are
	// then the two host-made crops of each image, [N, 2, H, W, C] (session.batch, datasets.Loader).
	stream *datasets.Stream
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
// registry), and the labelled split the evaluation fits on when it is not the training split (nil otherwise).
// A point set's test split is a second draw of the same generator from seed+1 (our choice: it measures how the
// encoder treats unseen points of the same clusters). Image sets are held in memory or streamed (--stream,
// datasets.Open).
func loadData(c Config, ds datasets.DataSet) (train, test, evalTrain *dataset, err error) {
	if ds.Kind == datasets.PointSet {
		tr, err := ds.Points(c.clusterSpec(c.Seed))
		if err != nil {
			return nil, nil, nil, UsageError{err}
		}
		te, err := ds.Points(c.clusterSpec(c.Seed + 1))
		if err != nil {
			return nil, nil, nil, UsageError{err}
		}
		return fromPoints(tr), fromPoints(te), nil, nil
	}
	sp, err := datasets.Open(c.Data, c.DataDir, datasets.LoadOptions{ImageSize: c.ImageSize, Stream: c.Stream, Split: c.Split})
	if err != nil {
		return nil, nil, nil, err
	}
	train, test = fromImagesOrStream(sp.Train, sp.TrainStream), fromImagesOrStream(sp.Test, sp.TestStream)
	if sp.EvalTrain != nil {
		evalTrain = fromImages(sp.EvalTrain)
	}
	if sp.TrainStream != nil {
		pl, _ := augment.Preset(c.Augment) // checked by Config.check
		sp.TrainStream.Crop, _ = hostCrop(pl)
	}
	return train, test, evalTrain, nil
}

// hostCrop splits an image preset's random resized crop between the host and the device for streamed data:
// a crop inside the image (every SimCLR recipe: cifar, imagenet, stl10, and ours) is drawn on the host from the
// full-resolution image (datasets.Stream.Views), and the device pipeline runs without it, rather than crop
// twice (0.08² of the area at the extreme) or from a copy already shrunk to the training size; a centred zoom
// that may zoom out (mnist) stays on the device, the host then giving the whole image. A preset without a
// crop (none) gets none anywhere.
func hostCrop(pl augment.Pipeline) (datasets.CropRange, augment.Pipeline) {
	cr := pl.Crop
	if cr.Scale[1] <= 0 || cr.Center || cr.Scale[1] > 1 || cr.OutH != 0 || cr.OutW != 0 {
		return datasets.CropRange{}, pl
	}
	pl.Crop = augment.CropConfig{}
	return datasets.CropRange{Scale: cr.Scale, Ratio: cr.Ratio}, pl
}

// clusterSpec is what the point-set generators read of c (--clusters, --dim, …), drawn from seed.
func (c Config) clusterSpec(seed uint64) datasets.ClusterSpec {
	return datasets.ClusterSpec{K: c.Clusters, D: c.Dim, PerCluster: c.PerCluster, Shape: c.Shape, Radius: c.Radius,
		Centers: c.Centers, Spacing: c.Spacing, Scale: c.Scale, Seed: seed, Shuffle: true}
}

func fromPoints(p datasets.Points) *dataset {
	return &dataset{name: p.Name, n: p.N, dims: []int{p.D}, labels: p.Labels, classes: p.K,
		fill: func(idx []int, dst []float32) error {
			for i, j := range idx {
				for c, v := range p.Row(j) {
					dst[i*p.D+c] = float32(v)
				}
			}
			return nil
		}}
}

func fromImages(m *datasets.Images) *dataset {
	return &dataset{name: strings.TrimSuffix(m.Name, "/train"), n: m.N, dims: []int{m.H, m.W, m.C},
		labels: m.Labels, classes: len(m.Classes), heldOut: m.HeldOut,
		fill: func(idx []int, dst []float32) error { m.Batch(idx, dst); return nil }}
}

func fromStream(s *datasets.Stream) *dataset {
	return &dataset{name: strings.TrimSuffix(s.Name, "/train"), n: s.N, dims: []int{s.H, s.W, s.C},
		labels: s.Labels, classes: len(s.Classes), heldOut: s.HeldOut, stream: s,
		fill: func(idx []int, dst []float32) error {
			// Featurizer.run pads its last chunk by repeating the last example: decode that one once.
			n, sz := len(idx), s.ExampleSize()
			for n > 1 && idx[n-1] == idx[n-2] {
				n--
			}
			if err := s.Fill(idx[:n], dst); err != nil {
				return err
			}
			for k := n; k < len(idx); k++ {
				copy(dst[k*sz:(k+1)*sz], dst[(n-1)*sz:n*sz])
			}
			return nil
		}}
}

// fromImagesOrStream adapts whichever of the two is not nil.
func fromImagesOrStream(m *datasets.Images, s *datasets.Stream) *dataset {
	if s != nil {
		return fromStream(s)
	}
	return fromImages(m)
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
// step that uses them, so that gathering (and converting) the next batch overlaps the current step. The first
// error ends it.
type prefetcher[T any] struct {
	ch   chan fetched[T]
	done chan struct{}
}

type fetched[T any] struct {
	v   T
	err error
}

func prefetch[T any](first, last int, batch func(step int) (T, error)) *prefetcher[T] {
	p := &prefetcher[T]{ch: make(chan fetched[T], 2), done: make(chan struct{})}
	go func() {
		defer close(p.ch)
		for step := first; step <= last; step++ {
			x, err := batch(step)
			select {
			case p.ch <- fetched[T]{x, err}:
			case <-p.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

// next returns the next step's batch and how long it waited for it.
func (p *prefetcher[T]) next() (T, time.Duration, error) {
	t0 := time.Now()
	f := <-p.ch
	return f.v, time.Since(t0), f.err
}

// stop ends the goroutine (a run that stops early: a signal, an error).
func (p *prefetcher[T]) stop() { close(p.done) }
