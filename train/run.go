package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/losses"
)

// Summary is what Run returns.
type Summary struct {
	FinalLoss   float64
	InitialLoss float64
	Steps       int
	Seconds     float64
	Eval        *EvalReport // nil when evaluation was off or impossible
}

// InterruptedError reports a run stopped by SIGINT or SIGTERM after writing a checkpoint.
type InterruptedError struct {
	Signal os.Signal
	Step   int
	Dir    string
}

func (e InterruptedError) Error() string {
	return fmt.Sprintf("interrupted by %v after step %d; checkpoint written. Resume with: simclr train --resume %s", e.Signal, e.Step, e.Dir)
}

// NaNError reports a step whose loss or gradient was not finite, under --on-nan stop.
type NaNError struct {
	Step           int
	LastCheckpoint string // "" if none was written yet
}

func (e NaNError) Error() string {
	last := "none was written yet"
	if e.LastCheckpoint != "" {
		last = e.LastCheckpoint + " (its parameters are finite)"
	}
	return fmt.Sprintf("loss or gradient is NaN/Inf at step %d; stopped (--on-nan stop). Last good checkpoint: %s. Lower --lr, or use --on-nan skip", e.Step, last)
}

// Run trains as c says, writing into c.OutDir; log receives progress. A UsageError means a bad setting, an
// InterruptedError a signal, a NaNError a non-finite step.
func Run(c Config, log io.Writer) (sum Summary, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("train: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if err := c.Validate(); err != nil {
		return sum, err
	}
	c = c.Resolve()
	var resumed *ckptMeta
	var resumedTensors []checkpoint.Tensor
	// The data first: --epochs needs its size, and a resumed run compares the steps that come of it.
	train, test, err := loadData(c)
	if err != nil {
		return sum, err
	}
	n := c.BatchSize
	if n == 0 {
		n = train.n
	}
	if n > train.n {
		return sum, usagef("--batch-size %d is larger than the data set (%d examples)", n, train.n)
	}
	if c.Epochs > 0 {
		c.Steps = int(math.Ceil(c.Epochs * float64(train.n) / float64(n)))
		if err := c.Schedule().Validate(); err != nil {
			return sum, usagef("--epochs %g (%d steps): %v", c.Epochs, c.Steps, err)
		}
	}
	runID := newRunID()
	if c.Resume != "" {
		runID = ""
		if rec, err := ReadRunRecord(filepath.Join(c.Resume, "config.json"), Defaults()); err == nil {
			runID = rec.Environment.RunID
		} else if !errors.Is(err, os.ErrNotExist) {
			return sum, usagef("--resume %s: reading the run's config.json: %v", c.Resume, err)
		}
		m, ts, path, err := latestCheckpoint(c.Resume, runID, log)
		if err != nil {
			return sum, err
		}
		if diffs := configDiff(m.Config, c); len(diffs) > 0 {
			return sum, usagef("--resume %s: these settings differ from the run's and would change it: %s (only %s may change)",
				c.Resume, strings.Join(diffs, "; "), harmlessList())
		}
		if m.Step >= c.Steps {
			return sum, usagef("--resume %s: the run already reached step %d; pass --steps larger than that to continue", c.Resume, m.Step)
		}
		fmt.Fprintf(log, "resuming from %s (step %d)\n", path, m.Step)
		resumed, resumedTensors = &m, ts
	}
	st, b, err := newStepperFor(c, train)
	if err != nil {
		return sum, err
	}
	dt := st.DType
	first, elapsed0, skipped := 1, 0.0, 0
	if resumed != nil {
		if err := st.restore(resumedTensors); err != nil {
			return sum, fmt.Errorf("train: --resume %s: %w", c.Resume, err)
		}
		first, elapsed0, skipped, sum.InitialLoss = resumed.Step+1, resumed.Seconds, resumed.Skipped, resumed.Initial
	}
	if c.Resume == "" {
		if c.OutDir, err = prepareOutDir(c.OutDir, c.Overwrite); err != nil {
			return sum, err
		}
	}
	res := RunRecord{Config: c, Environment: Environment{RunID: runID, GitCommit: GitCommit(), GoVersion: runtime.Version(),
		SIMD: backend.SIMD, BackendDesc: backend.Describe(b), DataName: train.name, Examples: train.n, TestExample: test.n,
		Params: countParams(st.ParamSpecs())}}
	res.Backend = backend.Spec(c.Backend)
	if err := writeRecord(c.OutDir, res); err != nil {
		return sum, err
	}
	var extra []string
	if c.EvalEvery > 0 {
		extra = append(extra, "knn_accuracy")
	}
	if c.OnNaN == "skip" {
		extra = append(extra, "skipped_steps")
	}
	metricsPath := filepath.Join(c.OutDir, "metrics.csv")
	if resumed != nil {
		regular := func(step int) bool {
			return step == 1 || step%c.LogEvery == 0 || (c.EvalEvery > 0 && step%c.EvalEvery == 0)
		}
		if err := truncateMetrics(metricsPath, resumed.Step, regular); err != nil {
			return sum, err
		}
	}
	mw, err := newMetricsWriter(metricsPath, extra, resumed != nil)
	if err != nil {
		return sum, err
	}
	sched := c.Schedule()
	mw.lr = func(step int) float64 { return c.LR * sched.Factor(step) }
	mw.batch, mw.examples, mw.lastStep, mw.lastSec = n, train.n, float64(first-1), elapsed0
	defer mw.Close()
	fmt.Fprintf(log, "training %s on %s (%d examples, %d parameters), backend %s, into %s\n", c.Model, train.name, train.n,
		res.Environment.Params, res.Environment.BackendDesc, c.OutDir)

	stop := watchSignals()
	defer stop.close()
	lastCkpt := ""
	checkpointAt := func(step int, seconds float64) error {
		if err := checkFinite(st); err != nil {
			return err
		}
		meta := ckptMeta{Step: step, Seconds: seconds, Skipped: skipped, Initial: sum.InitialLoss, Config: c, RunID: runID}
		if err := saveCheckpoint(c.OutDir, st, meta, c.KeepCheckpoints); err != nil {
			return err
		}
		if err := writeCurves(c.OutDir); err != nil {
			fmt.Fprintf(log, "warning: curves.png: %v\n", err) // a figure that cannot be drawn stops no run
		}
		lastCkpt = filepath.Join(c.OutDir, ckptName(step))
		return nil
	}
	feats := newFeaturizer(b, st, dt)
	smp := newSampler(train.n, n, c.Seed)
	prog := newProgress(log, c.Steps)
	start := time.Now()
	elapsed := func() float64 { return elapsed0 + time.Since(start).Seconds() }
	batches := prefetch(first, c.Steps, func(step int) *tensors.Tensor { return batchTensor(inputOf(c.Model), train, smp.batch(step-1), dt) })
	defer batches.stop()
	for step := first; step <= c.Steps; step++ {
		x := batches.next()
		st.LRScale = sched.Factor(step)
		r, err := st.Step(x)
		if err != nil {
			return sum, err
		}
		if !r.Finite {
			if c.OnNaN == "stop" {
				return sum, NaNError{Step: step, LastCheckpoint: lastCkpt}
			}
			skipped++
		}
		if step == 1 {
			sum.InitialLoss = r.Loss
		}
		sum.FinalLoss, sum.Steps = r.Loss, step
		evalNow := c.EvalEvery > 0 && (step%c.EvalEvery == 0 || step == c.Steps)
		if step == 1 || step%c.LogEvery == 0 || step == c.Steps || evalNow {
			if err := st.Geometry(&r); err != nil {
				return sum, err
			}
			var extraVals []float64
			if c.EvalEvery > 0 {
				acc := -1.0 // not measured at this step: written as an empty field
				if evalNow {
					if acc, err = knnNow(feats, c.Model, train, test); err != nil {
						return sum, err
					}
				}
				extraVals = append(extraVals, acc)
			}
			if c.OnNaN == "skip" {
				extraVals = append(extraVals, float64(skipped))
			}
			if err := mw.Write(step, r, elapsed(), extraVals); err != nil {
				return sum, err
			}
			prog.update(step, r.Loss, elapsed())
		}
		if sig := stop.received(); sig != nil {
			prog.done()
			if err := checkpointAt(step, elapsed()); err != nil {
				return sum, err
			}
			return sum, InterruptedError{Signal: sig, Step: step, Dir: c.OutDir}
		}
		if c.CheckpointEvery > 0 && step%c.CheckpointEvery == 0 && step != c.Steps {
			if err := checkpointAt(step, elapsed()); err != nil {
				return sum, err
			}
		}
	}
	sum.Seconds = elapsed()
	prog.done()
	if err := mw.Close(); err != nil {
		return sum, err
	}
	if err := checkpointAt(c.Steps, sum.Seconds); err != nil {
		return sum, err
	}
	if err := saveParams(filepath.Join(c.OutDir, "params.ckpt"), st, c.Steps); err != nil {
		return sum, err
	}
	if !train.isImages() {
		if err := writeEmbedding(filepath.Join(c.OutDir, "embedding.csv"), feats, c.Model, train); err != nil {
			return sum, err
		}
	}
	if skipped > 0 {
		fmt.Fprintf(log, "warning: %d steps had a NaN/Inf loss or gradient and were skipped\n", skipped)
	}
	fmt.Fprintf(log, "done: %d steps in %.1fs, loss %.6f → %.6f; results in %s\n", sum.Steps, sum.Seconds, sum.InitialLoss, sum.FinalLoss, c.OutDir)
	if c.Eval && train.classes > 1 {
		rep, err := evaluate(feats, c.Model, train, test, EvalOptions{}, log)
		if err != nil {
			return sum, err
		}
		sum.Eval = &rep
		if err := writeEval(filepath.Join(c.OutDir, "eval.json"), rep); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func harmlessList() string {
	var names []string
	for k := range harmless {
		names = append(names, "--"+k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkFinite refuses to checkpoint parameters that are not all finite.
func checkFinite(st *Stepper) error {
	specs := st.ParamSpecs()
	for i, v := range st.ParamValues() {
		for j, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("train: parameter %s[%d] is %g: refusing to write it to a checkpoint", specs[i].Name, j, x)
			}
		}
	}
	return nil
}

func countParams(ps []arch.Param) int {
	n := 0
	for _, p := range ps {
		n += p.Size()
	}
	return n
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

// GitCommit returns the VCS revision stamped in the binary (with "-dirty" for a modified tree), else what
// `git rev-parse --short HEAD` says (binaries built with -buildvcs=false, go run), else "unknown".
func GitCommit() string {
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
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return "unknown"
}

// newStepperFor builds the model, views and backend that the resolved settings c describe for data, and the
// training step over them with parameters initialised from c.Seed: the one way train, eval, export and embed
// turn settings into a step.
func newStepperFor(c Config, data *dataset) (*Stepper, compute.Backend, error) {
	model, views, err := buildModel(c, data)
	if err != nil {
		return nil, nil, err
	}
	b, err := backend.New(backend.Spec(c.Backend))
	if err != nil {
		return nil, nil, err
	}
	dt := dtypes.Float32
	if c.DType == "float64" {
		dt = dtypes.Float64
	}
	st, err := NewStepper(b, model, c.Opt(), losses.Config{Kernel: c.Kernel, Part: c.Loss, Temperature: c.Temperature}, views, dt, c.Seed)
	if err != nil {
		return nil, nil, err
	}
	return st, b, nil
}
