package train

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
)

// uniformImages draws n images of h×w×c uniform in [0, 1) as float64.
func uniformImages(seed uint64, n, h, w, c int) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float64, n*h*w*c)
	for i := range v {
		v[i] = r.Float64()
	}
	return v
}

// BenchmarkCNNStep times one Adam step of the small CNN (32, 64 channels, dense 256) with a 256→256→128 head,
// NT-Xent over 2N = 512 views of 28×28×1 (the batch is given as the 512 views), on the backend of
// $GOMLX_BACKEND (default go).
func BenchmarkCNNStep(b *testing.B) {
	be, err := backend.New(backend.Spec(""))
	if err != nil {
		b.Fatal(err)
	}
	const n2 = 512
	enc := models.CNNEncoder{
		CNN:  arch.CNN{H: 28, W: 28, C: 1, Channels: arch.DefaultCNNChannels, Dense: arch.DefaultCNNDense},
		Head: arch.Head{In: arch.DefaultCNNDense, Hidden: 256, Out: 128},
	}
	st, err := NewStepper(be, enc, optim.Optimizer{Name: optim.Adam, LR: 1e-3}, losses.Config{Tau: 0.5}, nil, dtypes.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	_ = n2
	x := hostTensor(dtypes.Float32, uniformImages(1, n2/2, 28, 28, 1), []int{n2 / 2, 28, 28, 1})
	if _, err := st.Step(x); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := st.Step(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
}
