package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/optim"
)

// session is one sitting of simclr train: the named steps of Run (start, each step's bookkeeping, finish) and
// the state they share.
type session struct {
	*Setup
	c        Config // s.Config with the output folder prepared
	log      io.Writer
	st       *Stepper
	feats    *Featurizer
	smp      *sampler
	labelSmp *sampler         // the same draw as smp, for the online probe's labels: a streamed run's loader reads smp on a goroutine of its own
	loader   *datasets.Loader // streamed data: the training batches, assembled ahead
	dataWait time.Duration    // how long the steps of this sitting waited for their batches
	mw       *metricsWriter
	prog     *progress
	stop     *signalWatch
	runID    string
	first    int     // the first step of this sitting (1, or the resumed checkpoint's step + 1)
	elapsed0 float64 // training seconds before this sitting
	start    time.Time
	skipped  int
	lastCkpt string
	sum      Summary
}

// resumePoint reads the checkpoint that --resume names, checks that *cp may continue it, and returns it (nil
// for a new run) with the run's identity (a fresh one for a new run). A run begun before the online probe
// existed continues without it: *cp is changed to say so (adoptProbeSetting).
func resumePoint(cp *Config, log io.Writer) (*ckptMeta, []checkpoint.Tensor, string, error) {
	c := *cp
	if c.Resume == "" {
		return nil, nil, newRunID(), nil
	}
	runID := ""
	if rec, err := ReadRunRecord(filepath.Join(c.Resume, "config.json"), Defaults()); err == nil {
		runID = rec.Environment.RunID
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, "", usagef("--resume %s: reading the run's config.json: %v", c.Resume, err)
	}
	m, ts, path, err := latestCheckpoint(c.Resume, runID, log)
	if err != nil {
		return nil, nil, "", err
	}
	adoptProbeSetting(&m, cp, log)
	c = *cp
	if diffs := configDiff(m.Config, c); len(diffs) > 0 {
		return nil, nil, "", usagef("--resume %s: these settings differ from the run's and would change it: %s (only %s may change)",
			c.Resume, strings.Join(diffs, "; "), harmlessList())
	}
	if m.Step >= c.Steps {
		if r := m.Config.resolveOptim(); r.LRSchedule != optim.Constant || r.Warmup > 0 {
			// configDiff refuses a new --steps here: the schedule's factors depend on it.
			return nil, nil, "", usagef("--resume %s: the run already reached its last step %d, and it cannot be extended: its --lr-schedule %s / --warmup-steps %d depend on --steps; "+
				"start a new run (another --out-dir) with a larger --steps", c.Resume, m.Step, r.LRSchedule, r.Warmup)
		}
		return nil, nil, "", usagef("--resume %s: the run already reached step %d; pass --steps larger than that to continue", c.Resume, m.Step)
	}
	fmt.Fprintf(log, "resuming from %s (step %d)\n", path, m.Step)
	return &m, ts, runID, nil
}

// startSession builds the step (restored from --resume's checkpoint, if any), prepares the output folder,
// writes config.json and opens metrics.csv.
func startSession(s *Setup, log io.Writer) (*session, error) {
	noteUnlabelled(&s.Config, s.train, log)
	resumed, ts, runID, err := resumePoint(&s.Config, log)
	if err != nil {
		return nil, err
	}
	c := s.Config
	var init [][]float64
	initNote := ""
	if resumed == nil && c.InitFrom.Path != "" { // a resumed run's checkpoint holds what it started from and more
		if init, c.InitFrom, initNote, err = initWeights(c.InitFrom, s.Model); err != nil {
			return nil, err
		}
	}
	st, err := s.Stepper()
	if err != nil {
		return nil, err
	}
	if init != nil {
		st.setParams(init)
	}
	r := &session{Setup: s, c: c, log: log, st: st, runID: runID, first: 1}
	if resumed != nil {
		if err := st.restore(ts); err != nil {
			return nil, fmt.Errorf("train: --resume %s: %w", c.Resume, err)
		}
		r.first, r.elapsed0, r.skipped, r.sum.InitialLoss = resumed.Step+1, resumed.Seconds, resumed.Skipped, resumed.Initial
	} else if r.c.OutDir, err = prepareOutDir(c.OutDir, c.Overwrite); err != nil {
		return nil, err
	}
	rec := RunRecord{Config: r.c, Environment: Environment{RunID: runID, GitCommit: GitCommit(), GoVersion: runtime.Version(),
		SIMD: backend.SIMD, BackendDesc: backend.Describe(s.Backend), DataName: s.train.name, Examples: s.train.n,
		TestExample: s.test.n, Params: countParams(st.ParamSpecs())}}
	rec.Backend = backend.Spec(c.Backend)
	if err := writeRecord(r.c.OutDir, rec); err != nil {
		return nil, err
	}
	if r.mw, err = r.openMetrics(resumed); err != nil {
		return nil, err
	}
	devices := ""
	if st.Devices() > 1 {
		devices = fmt.Sprintf(" on %d devices (data parallel)", st.Devices())
	}
	if st.Compute == dtypes.BFloat16 {
		devices += ", bfloat16 compute (float32 weights and loss)"
	}
	fmt.Fprintf(log, "training %s on %s (%d examples, %d parameters), backend %s (%s)%s, into %s\n", c.Model, s.train.name, s.train.n,
		rec.Environment.Params, rec.Backend, rec.Environment.BackendDesc, devices, r.c.OutDir)
	if initNote != "" {
		fmt.Fprintln(log, initNote)
	}
	if s.test.heldOut > 0 { // said, not silent: these images are not trained on
		fmt.Fprintf(log, "the data has no test/ or val/ folder: %d images (%g%% of each class) are held out as its test split and not trained on\n",
			s.test.n, 100*s.test.heldOut)
	}
	r.feats = s.Featurizer(st.Params)
	r.smp = newSampler(s.train.n, s.Batch, c.Seed)
	r.labelSmp = newSampler(s.train.n, s.Batch, c.Seed)
	if d := s.train.stream; d != nil {
		s.warnTo(log)
		r.loader = d.Loader(datasets.LoaderOptions{First: r.first, Last: c.Steps, Seed: c.Seed, Ahead: LoaderAhead,
			Indices: func(step int) []int { return r.smp.batch(step - 1) }})
		workers := d.Workers
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		fmt.Fprintf(log, "streaming %d images from their files: %s crops of the full-resolution images, resized to %d×%d on the host by %d goroutines, up to %d batches ahead\n",
			d.N, cropWords(d.Crop), d.H, d.W, workers, LoaderAhead)
	}
	r.prog = newProgress(log, c.Steps)
	r.stop = watchSignals()
	r.start = time.Now()
	return r, nil
}

// openMetrics opens metrics.csv: a new file, or, for a resumed run, the rows up to its checkpoint.
func (r *session) openMetrics(resumed *ckptMeta) (*metricsWriter, error) {
	c := r.c
	var extra []string
	if c.EvalEvery > 0 {
		extra = append(extra, "knn_accuracy")
	}
	if c.OnNaN == "skip" {
		extra = append(extra, "skipped_steps")
	}
	if r.st.probe != nil {
		extra = append(extra, "online_acc")
	}
	if r.train.stream != nil {
		extra = append(extra, "data_wait_s") // cumulative seconds of this sitting
	}
	path := filepath.Join(c.OutDir, "metrics.csv")
	if resumed != nil {
		if err := truncateMetrics(path, resumed.Step, r.logged); err != nil {
			return nil, err
		}
	}
	mw, err := newMetricsWriter(path, extra, resumed != nil)
	if err != nil {
		return nil, err
	}
	sched := c.Schedule()
	mw.lr = func(step int) float64 { return c.LR * sched.Factor(step) }
	mw.batch, mw.examples, mw.lastStep, mw.lastSec = r.Batch, r.train.n, float64(r.first-1), r.elapsed0
	return mw, nil
}

// logged reports whether a step is written to metrics.csv whatever else happens (the first step, every
// --log-every and every --eval-every); the last step and an interrupted one are written too.
func (r *session) logged(step int) bool {
	return step == 1 || step%r.c.LogEvery == 0 || (r.c.EvalEvery > 0 && step%r.c.EvalEvery == 0)
}

func (r *session) elapsed() float64 { return r.elapsed0 + time.Since(r.start).Seconds() }

// batch is the training batch of a step: its examples, or, for streamed data, the loader's two crops of each
// [N, 2, H, W, C].
func (r *session) batch(step int) (*tensors.Tensor, error) {
	if r.loader == nil {
		return batchTensor(r.Input, r.train, r.smp.batch(step-1), r.DType)
	}
	got, views, err := r.loader.Next()
	if err != nil {
		return nil, err
	}
	if got != step {
		return nil, fmt.Errorf("train: the loader gave the batch of step %d for step %d", got, step)
	}
	return valuesTensor(views, append([]int{r.Batch, 2}, r.train.dims...), r.DType), nil
}

// labels are the labels of the training batch of a step, for the online probe; Loop calls it after batch,
// on the same goroutine, so the sampler hands both the same examples.
func (r *session) labels(step int) *tensors.Tensor {
	return labelsTensor(r.train, r.labelSmp.batch(step-1))
}

// after is the bookkeeping of one step: the NaN policy, metrics.csv (with the periodic kNN accuracy),
// progress, and checkpoints (periodic, or on a signal, which then ends the run).
func (r *session) after(step int, res StepResult) error {
	c := r.c
	if !res.Finite {
		if c.OnNaN == "stop" {
			return NaNError{Step: step, LastCheckpoint: r.lastCkpt}
		}
		r.skipped++
	}
	if step == 1 {
		r.sum.InitialLoss = res.Loss
	}
	r.sum.FinalLoss, r.sum.Steps, r.sum.OnlineAcc = res.Loss, step, res.OnlineAcc
	if r.logged(step) || step == c.Steps {
		if err := r.write(step, res); err != nil {
			return err
		}
	}
	if sig := r.stop.received(); sig != nil {
		r.prog.done()
		if err := r.checkpoint(step, r.elapsed()); err != nil {
			return err
		}
		return InterruptedError{Signal: sig, Step: step, Dir: c.OutDir}
	}
	if c.CheckpointEvery > 0 && step%c.CheckpointEvery == 0 && step != c.Steps {
		return r.checkpoint(step, r.elapsed())
	}
	return nil
}

// write adds the row of a step to metrics.csv: loss, geometry, and the kNN accuracy on --eval-every steps.
func (r *session) write(step int, res StepResult) error {
	c := r.c
	if err := r.st.Geometry(&res); err != nil {
		return err
	}
	var extra []float64
	acc := -1.0 // not measured at this step: written as an empty field
	if c.EvalEvery > 0 {
		if step%c.EvalEvery == 0 || step == c.Steps {
			var err error
			t0 := time.Now()
			if acc, err = knnNow(r.feats, r.evalSplit(), r.test); err != nil {
				return err
			}
			r.mw.evalSec += time.Since(t0).Seconds() // not training: kept out of images_per_s
		}
		extra = append(extra, acc)
	}
	if c.OnNaN == "skip" {
		extra = append(extra, float64(r.skipped))
	}
	if r.st.probe != nil {
		extra = append(extra, res.OnlineAcc)
	}
	if r.loader != nil {
		extra = append(extra, r.dataWait.Seconds())
	}
	if err := r.mw.Write(step, res, r.elapsed(), extra); err != nil {
		return err
	}
	r.prog.update(step, res.Loss, r.elapsed(), acc, res.OnlineAcc)
	return nil
}

// checkpoint writes the checkpoint of a step (and redraws curves.png).
func (r *session) checkpoint(step int, seconds float64) error {
	if err := checkFinite(r.st); err != nil {
		return err
	}
	meta := ckptMeta{Step: step, Seconds: seconds, Skipped: r.skipped, Initial: r.sum.InitialLoss, Config: r.c, RunID: r.runID}
	if err := saveCheckpoint(r.c.OutDir, r.st, meta, r.c.KeepCheckpoints); err != nil {
		return err
	}
	if err := writeCurves(r.c.OutDir); err != nil {
		fmt.Fprintf(r.log, "warning: curves.png: %v\n", err) // a figure that cannot be drawn stops no run
	}
	r.lastCkpt = filepath.Join(r.c.OutDir, ckptName(step))
	return nil
}

// finish writes what a finished run leaves: the last checkpoint, params.ckpt, the embedding of a point set,
// and the evaluation (eval.json).
func (r *session) finish() (Summary, error) {
	c, sum := r.c, r.sum
	sum.Seconds = r.elapsed()
	r.prog.done()
	if err := r.mw.Close(); err != nil {
		return sum, err
	}
	if err := r.checkpoint(c.Steps, sum.Seconds); err != nil {
		return sum, err
	}
	if err := saveParams(filepath.Join(c.OutDir, "params.ckpt"), r.st, c.Steps); err != nil {
		return sum, err
	}
	if !r.train.isImages() {
		if err := writeEmbedding(filepath.Join(c.OutDir, "embedding.csv"), r.feats, r.train); err != nil {
			return sum, err
		}
	}
	if r.skipped > 0 {
		fmt.Fprintf(r.log, "warning: %d steps had a NaN/Inf loss or gradient and were skipped\n", r.skipped)
	}
	sum.DataWait = r.dataWait.Seconds()
	if d := r.train.stream; d != nil {
		sec := sum.Seconds - r.elapsed0
		fmt.Fprintf(r.log, "data: the steps waited %.1f s for their batches in %.1f s of training (%.1f%% busy)\n", sum.DataWait, sec, 100*(1-sum.DataWait/sec))
		defer func() { // after the evaluation, which reads every image
			n := d.Skipped()
			if r.test.stream != nil {
				n += r.test.stream.Skipped()
			}
			if n > 0 {
				fmt.Fprintf(r.log, "warning: %d image files could not be read or decoded and were skipped (each replaced by the next that decodes)\n", n)
			}
		}()
	}
	online := ""
	if r.st.probe != nil {
		online = fmt.Sprintf(", online probe accuracy %.4f (last batch, before its update)", sum.OnlineAcc)
	}
	fmt.Fprintf(r.log, "done: %d steps in %.1fs, loss %.6f → %.6f%s; results in %s\n", sum.Steps, sum.Seconds, sum.InitialLoss, sum.FinalLoss, online, c.OutDir)
	if c.Eval && r.evalSplit().classes > 1 {
		if r.train.stream != nil {
			// The training's garbage (the step's activations, the batches) is collected and handed back
			// before the evaluation allocates its own, so that the run's peak memory tends to the larger of
			// the two rather than their sum: stream-bench.sh's settings on 2 000 images, peak RSS 1.8–2.0 GB
			// before, 1.3–1.7 GB after (training alone: 1.35 GB).
			debug.FreeOSMemory()
		}
		rep, err := evaluate(r.feats, r.evalSplit(), r.test, EvalOptions{}, r.log)
		if err != nil {
			return sum, err
		}
		rep.Checkpoint, rep.Step = ckptName(c.Steps), c.Steps // the last checkpoint, written above
		sum.Eval = &rep
		if err := writeEval(filepath.Join(c.OutDir, "eval.json"), rep); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// close releases what a sitting holds, whatever happened.
func (r *session) close() {
	if r.loader != nil {
		r.loader.Close()
	}
	r.mw.Close()
	r.stop.close()
}

// LoaderAhead is how many batches a streamed run's loader assembles ahead of the step (besides the two that
// Loop's prefetcher holds as tensors).
const LoaderAhead = 3

// cropWords describes the host's crop for the log.
func cropWords(cr datasets.CropRange) string {
	if cr == (datasets.CropRange{}) {
		return "no random" // the whole image; a centred zoom (mnist) stays on the device
	}
	return fmt.Sprintf("random resized (area %g–%g, ratio %.3g–%.3g)", cr.Scale[0], cr.Scale[1], cr.Ratio[0], cr.Ratio[1])
}
