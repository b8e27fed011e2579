package train

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/eval"
)

// EvalReport is what the end-of-run evaluation measured (eval.json).
type EvalReport = eval.Report

// splits returns the learned-feature and raw-input splits of train and test: the encoder's features in
// evaluation mode (before the projection head), and the inputs themselves as the baseline (unless noRaw).
func splits(f *Featurizer, train, test *dataset, noRaw bool) (features, raw eval.Split, err error) {
	trF, _, dim, _, err := f.run(train)
	if err != nil {
		return features, raw, err
	}
	teF, _, _, _, err := f.run(test)
	if err != nil {
		return features, raw, err
	}
	features = eval.Split{Train: trF, Test: teF, TrainLabels: train.labels, TestLabels: test.labels, Dim: dim, Classes: train.classes}
	if noRaw {
		return features, raw, nil
	}
	raw = eval.Split{TrainLabels: train.labels, TestLabels: test.labels, Dim: train.size(), Classes: train.classes}
	if raw.Train, err = allInputs(train); err != nil {
		return features, raw, err
	}
	raw.Test, err = allInputs(test)
	return features, raw, err
}

// inputs returns every example of d as float32 rows. It panics where allInputs fails: on a streamed set none of
// whose images decodes.
func inputs(d *dataset) []float32 {
	v, err := allInputs(d)
	if err != nil {
		panic(fmt.Sprintf("train: the inputs of %s: %v", d.name, err))
	}
	return v
}

// allInputs returns every example of d as float32 rows.
func allInputs(d *dataset) ([]float32, error) {
	idx := make([]int, d.n)
	for i := range idx {
		idx[i] = i
	}
	v := make([]float32, d.n*d.size())
	return v, d.fill(idx, v)
}

// EvalOptions steers an evaluation (simclr eval's flags); the zero value is the default protocol.
type EvalOptions struct {
	KNNK       int       // neighbours of the kNN vote (0: eval.DefaultK)
	KNNT       float64   // temperature of the kNN vote (0: eval.DefaultT)
	Lambdas    []float64 // the probe's L2 penalties to choose from (nil: eval.DefaultLambdas)
	NoRaw      bool      // skip the raw-input baselines
	Checkpoint int       // EvaluateRun: the step of the checkpoint to evaluate (0: the newest)
}

// RawCacheDir is where raw-input baselines are cached: $GOSIMCLR_CACHE_DIR if set ("off" disables the cache),
// else the user cache folder's gosimclr/ (e.g. ~/.cache/gosimclr), else none.
func RawCacheDir() string {
	if d := os.Getenv("GOSIMCLR_CACHE_DIR"); d != "" {
		if d == "off" {
			return ""
		}
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "gosimclr")
	}
	return ""
}

// evaluate runs the kNN and linear-probe evaluation on the test split, on features and raw inputs, with
// progress on log.
func evaluate(f *Featurizer, train, test *dataset, o EvalOptions, log io.Writer) (EvalReport, error) {
	if !o.NoRaw && (train.stream != nil || test.stream != nil) {
		fmt.Fprintf(log, "the data is streamed: no raw-input baselines (they would hold every image in memory)\n")
		o.NoRaw = true
	}
	opt := eval.Options{KNN: eval.KNNOptions{K: o.KNNK, T: o.KNNT}, Probe: eval.ProbeOptions{Lambdas: o.Lambdas},
		NoRaw: o.NoRaw, RawCache: RawCacheDir(), Progress: log}
	fmt.Fprintf(log, "evaluating on %d test examples (kNN k=%s T=%s, linear probe; features%s)…\n", test.n,
		orDefault(o.KNNK, eval.DefaultK), orDefault(o.KNNT, eval.DefaultT), map[bool]string{false: " and raw inputs", true: ""}[o.NoRaw])
	f.progress = log
	defer func() { f.progress = nil }()
	features, raw, err := splits(f, train, test, o.NoRaw)
	if err != nil {
		return EvalReport{}, err
	}
	rep, err := eval.Evaluate(features, raw, opt)
	if err != nil {
		return rep, fmt.Errorf("train: evaluation: %w", err)
	}
	if rep.RawKNNAccuracy != nil {
		fmt.Fprintf(log, "kNN accuracy %.2f%% (raw inputs %.2f%%), linear probe %.2f%% (raw inputs %.2f%%) on %d test examples, %.1fs\n",
			100*rep.KNNAccuracy, 100**rep.RawKNNAccuracy, 100*rep.LinearAccuracy, 100**rep.RawLinearAccuracy, rep.TestExamples, rep.Seconds)
	} else {
		fmt.Fprintf(log, "kNN accuracy %.2f%%, linear probe %.2f%% on %d test examples, %.1fs\n",
			100*rep.KNNAccuracy, 100*rep.LinearAccuracy, rep.TestExamples, rep.Seconds)
	}
	return rep, nil
}

// orDefault prints v, or def when v is zero (an option left at its default).
func orDefault[T int | float64](v, def T) string {
	if v == 0 {
		v = def
	}
	return fmt.Sprint(v)
}

// knnNow is the periodic kNN accuracy of the current features on the test split.
func knnNow(f *Featurizer, train, test *dataset) (float64, error) {
	trF, _, dim, _, err := f.run(train)
	if err != nil {
		return 0, err
	}
	teF, _, _, _, err := f.run(test)
	if err != nil {
		return 0, err
	}
	return eval.KNN(trF, train.labels, teF, test.labels, dim, train.classes, eval.KNNOptions{})
}

func writeEval(path string, r EvalReport) error { return r.WriteJSON(path) }

// EvaluateRun evaluates the trained run in dir (simclr eval --run DIR): it rebuilds the model from
// dir/config.json, loads the newest complete checkpoint (or o.Checkpoint's), and writes dir/eval.json.
// backendSpec, if not empty, overrides the run's backend. It builds no training step.
func EvaluateRun(dir, backendSpec string, o EvalOptions, log io.Writer) (EvalReport, error) {
	r, err := OpenRun(dir, o.Checkpoint, backendSpec, log)
	if err != nil {
		return EvalReport{}, err
	}
	if r.evalSplit().classes < 2 {
		return EvalReport{}, fmt.Errorf("train: %s: the data set %s has no class labels to evaluate against", dir, r.train.name)
	}
	fmt.Fprintf(log, "evaluating %s at step %d (%s)\n", dir, r.Step, r.path)
	rep, err := evaluate(r.Featurizer(r.Params), r.evalSplit(), r.test, o, log)
	if err != nil {
		return rep, err
	}
	rep.Checkpoint, rep.Step = filepath.Base(r.path), r.Step
	return rep, writeEval(filepath.Join(dir, "eval.json"), rep)
}

// OpenedRun is a trained run loaded back: its Setup (settings, data, model, backend) and a checkpoint's
// parameters, without a training step.
type OpenedRun struct {
	*Setup
	Step   int               // the checkpoint's step
	Params []*tensors.Tensor // the checkpoint's parameters, in Model.Params() order
	path   string
}

// OpenRun loads the run in dir at the checkpoint of step (0: its newest), with its own data and model, on
// backendSpec ("": the run's backend). A checkpoint of another run than config.json's is refused.
func OpenRun(dir string, step int, backendSpec string, log io.Writer) (*OpenedRun, error) {
	saved, err := ReadRunRecord(filepath.Join(dir, "config.json"), Defaults())
	if err != nil {
		return nil, usagef("--run %s: reading the run's config.json: %v", dir, err)
	}
	c := saved.Config
	if backendSpec != "" {
		c.Backend = backendSpec
	}
	var (
		meta ckptMeta
		ts   []checkpoint.Tensor
		path string
	)
	if step > 0 {
		path = filepath.Join(dir, ckptName(step))
		if ts, err = checkpoint.Read(path, &meta); err != nil {
			return nil, usagef("--checkpoint %d: %v", step, err)
		}
		if id := saved.Environment.RunID; id != "" && meta.RunID != id {
			return nil, usagef("--checkpoint %d: %s belongs to run %q, the folder's config.json to run %q", step, path, meta.RunID, id)
		}
	} else if meta, ts, path, err = latestCheckpoint(dir, saved.Environment.RunID, log); err != nil {
		return nil, err
	}
	s, err := Open(c)
	if err != nil {
		return nil, err
	}
	s.warnTo(log)
	params, err := checkpointParams(s.Model, s.DType, ts)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", path, err)
	}
	return &OpenedRun{Setup: s, Step: meta.Step, Params: params, path: path}, nil
}

// ParamValues copies the parameters to the host as float64 slices, in Model.Params() order.
func (r *OpenedRun) ParamValues() [][]float64 {
	out := make([][]float64, len(r.Params))
	for i, t := range r.Params {
		out[i] = flat64(t)
	}
	return out
}
