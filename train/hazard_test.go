package train

import (
	"fmt"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/ops"
)

// TestGoStepRunsNoMathExp builds the training step of simclr train's own models, views and losses for the Go
// backend (the online probe included, on by default on images) and walks what it would run: no Exp, Logistic, Tanh or Erf op may be there, since each calls
// math.Exp per value, ~130× slower after SIMD code on Intel hosts (packages ops and internal/avx). GELU is the
// one known exception and is not used here.
func TestGoStepRunsNoMathExp(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*Config)
	}{
		{"onehidden-k2-noise", func(c *Config) { c.Data, c.Model, c.Augment = "clusters", "onehidden", "noise:0.1" }},
		{"mlp-tanh-gaussian", func(c *Config) {
			c.Data, c.Model, c.Depth, c.Activation, c.Kernel, c.Normalize = "clusters", "mlp", 3, "tanh", "gaussian", false
		}},
		{"mlp-softplus-uniform", func(c *Config) { c.Data, c.Model, c.Activation, c.Loss = "disks", "mlp", "softplus", "uniform" }},
		{"cnn-mnist-digits", func(c *Config) { c.Data, c.Model, c.BatchSize = "mnist", "cnn", 8 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Defaults()
			c.set(&cfg)
			if cfg.BatchSize == 0 || cfg.BatchSize > 64 {
				cfg.BatchSize = 32
			}
			r, err := cfg.check()
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := loadData(r.Config, r.data); err != nil {
				t.Skip(err) // a data set that is not installed here
			}
			cfg.Backend = "go"
			s, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			st, err := s.Stepper()
			if err != nil {
				t.Fatal(err)
			}
			if want := s.train.isImages(); (st.probe != nil) != want {
				t.Fatalf("online probe in the step: %v, want %v (on by default for images)", st.probe != nil, want)
			}
			b := s.Backend
			x, err := batchTensor(s.Input, s.train, newSampler(s.train.n, s.Batch, 1).batch(1), dtypes.Float32)
			if err != nil {
				t.Fatal(err)
			}
			g := graph.NewGraph(b, "hazards")
			var in []*graph.Node
			for i, sh := range st.inputShapes(x.Shape()) { // with the online probe where the data is images
				in = append(in, graph.Parameter(g, fmt.Sprintf("in%d", i), sh))
			}
			if h := ops.Hazards(st.build(g, in)...); len(h) > 0 {
				t.Errorf("the Go step runs %v", h)
			}
		})
	}
}
