package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
)

// Resolved is what config.json holds: the configuration plus what the run found out about its environment.
type Resolved struct {
	Config
	GitCommit   string `json:"git-commit"`
	GoVersion   string `json:"go-version"`
	SIMD        bool   `json:"simd"`
	BackendDesc string `json:"backend-description"`
	Examples    int    `json:"examples"`
	Params      int    `json:"parameters"`
}

// Summary is what Run returns and prints at the end.
type Summary struct {
	FinalLoss   float64
	InitialLoss float64
	Steps       int
	Seconds     float64
}

// Run trains as c says, writing into c.OutDir; log receives progress. A UsageError means a bad setting.
func Run(c Config, log io.Writer) (sum Summary, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("train: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if err := c.Validate(); err != nil {
		return sum, err
	}
	pts, err := loadPoints(c)
	if err != nil {
		return sum, err
	}
	n := c.BatchSize
	if n == 0 {
		n = pts.N
	}
	if n > pts.N {
		return sum, usagef("--batch-size %d is larger than the data set (%d examples)", n, pts.N)
	}
	model, views, err := buildModel(c, pts)
	if err != nil {
		return sum, err
	}
	b, err := backend.New(backend.Spec(c.Backend))
	if err != nil {
		return sum, err
	}
	dt := dtypes.Float32
	if c.DType == "float64" {
		dt = dtypes.Float64
	}
	st, err := NewStepper(b, model, optim.Optimizer{Name: c.Optimizer, LR: c.LR},
		losses.Config{Kernel: c.Kernel, Part: c.Loss, Tau: c.Temperature}, views, dt, c.Seed)
	if err != nil {
		return sum, err
	}
	res := Resolved{Config: c, GitCommit: gitCommit(), GoVersion: runtime.Version(), SIMD: backend.SIMD,
		BackendDesc: backend.Describe(b), Examples: pts.N, Params: countParams(model.Params())}
	res.Backend = backend.Spec(c.Backend)
	if err := writeConfig(c.OutDir, res); err != nil {
		return sum, err
	}
	mw, err := newMetricsWriter(filepath.Join(c.OutDir, "metrics.csv"))
	if err != nil {
		return sum, err
	}
	defer mw.Close()
	fmt.Fprintf(log, "training %s on %s (%d examples, %d parameters), backend %s\n", c.Model, pts.Name, pts.N, res.Params, res.BackendDesc)

	smp := newSampler(pts.N, n, c.Seed)
	prog := newProgress(log, c.Steps)
	start := time.Now()
	for step := 1; step <= c.Steps; step++ {
		x := batchTensor(c.Model, pts, smp.batch(step-1), dt)
		r, err := st.Step(x)
		if err != nil {
			return sum, err
		}
		if step == 1 {
			sum.InitialLoss = r.Loss
		}
		sum.FinalLoss, sum.Steps = r.Loss, step
		if step == 1 || step%c.LogEvery == 0 || step == c.Steps {
			el := time.Since(start).Seconds()
			if err := mw.Write(step, r, el); err != nil {
				return sum, err
			}
			prog.update(step, r.Loss, el)
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	prog.done()
	if err := mw.Close(); err != nil {
		return sum, err
	}
	if err := saveParams(filepath.Join(c.OutDir, "params.ckpt"), st, c.Steps); err != nil {
		return sum, err
	}
	if err := writeEmbedding(filepath.Join(c.OutDir, "embedding.csv"), b, st, pts, c.Model, dt); err != nil {
		return sum, err
	}
	fmt.Fprintf(log, "done: %d steps in %.1fs, loss %.6f → %.6f; results in %s\n", sum.Steps, sum.Seconds, sum.InitialLoss, sum.FinalLoss, c.OutDir)
	return sum, nil
}

// buildModel makes the model and the views function of c for data pts.
func buildModel(c Config, pts datasets.Points) (models.Model, ViewsFn, error) {
	if c.Model == "particle" {
		return models.Particle{N: pts.N, K: c.LatentDim}, nil, nil
	}
	a := arch.MLP{In: pts.D, Width: c.Width, Depth: c.Depth, Out: c.LatentDim, Activation: c.Activation,
		Scaling: c.Scaling, Trainable: c.Trainable, Normalize: c.Normalize}
	if err := a.Validate(); err != nil {
		return nil, nil, UsageError{err}
	}
	enc := models.Encoder{MLP: a}
	if c.HeadDim > 0 {
		enc.Head = arch.Head{In: c.LatentDim, Hidden: c.HeadHidden, Out: c.HeadDim}
	}
	spec, err := augment.ParseVectorSpec(c.Augment)
	if err != nil {
		return nil, nil, UsageError{err}
	}
	views := func(rng, x *graph.Node) (*graph.Node, *graph.Node) {
		bsz, d := x.Shape().Dimensions[0], x.Shape().Dimensions[1]
		rng, p1 := spec.Sample(rng, bsz, d, x.DType())
		rng, p2 := spec.Sample(rng, bsz, d, x.DType())
		return rng, graph.Concatenate([]*graph.Node{spec.Apply(x, p1), spec.Apply(x, p2)}, 0)
	}
	return enc, views, nil
}

// batchTensor gathers the examples idx: their coordinates [N, d], or for the particle model their indices [N].
func batchTensor(model string, pts datasets.Points, idx []int, dt dtypes.DType) *tensors.Tensor {
	if model == "particle" {
		v := make([]int32, len(idx))
		for i, j := range idx {
			v[i] = int32(j)
		}
		return tensors.FromFlatDataAndDimensions(v, len(idx))
	}
	v := make([]float64, 0, len(idx)*pts.D)
	for _, j := range idx {
		v = append(v, pts.Row(j)...)
	}
	return hostTensor(dt, v, []int{len(idx), pts.D})
}

func countParams(ps []arch.Param) int {
	n := 0
	for _, p := range ps {
		n += p.Size()
	}
	return n
}

func writeConfig(dir string, r Resolved) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: output directory: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, "config.json"), append(b, '\n'))
}

// saveParams writes the final parameters (float64 values, Model.Params() names) to path.
func saveParams(path string, st *Stepper, step int) error {
	specs := st.ParamSpecs()
	var ts []checkpoint.Tensor
	for i, v := range st.ParamValues() {
		ts = append(ts, checkpoint.Tensor{Name: specs[i].Name, Dims: specs[i].Dims, F64: v})
	}
	return checkpoint.Write(path, map[string]int{"step": step}, ts)
}

// gitCommit returns the VCS revision stamped in the binary, or "unknown".
func gitCommit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
	}
	return "unknown"
}
