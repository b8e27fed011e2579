package train

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/gomlx/compute/dtypes"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/eval"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/optim"
)

// EvalReport is what the end-of-run evaluation measured (eval.json).
type EvalReport = eval.Report

// splits returns the learned-feature and raw-input splits of train and test: the encoder's features in
// evaluation mode (before the projection head), and the inputs themselves as the baseline.
func splits(f *featurizer, model string, train, test *dataset) (features, raw eval.Split, err error) {
	trF, _, dim, _, err := f.run(model, train)
	if err != nil {
		return features, raw, err
	}
	teF, _, _, _, err := f.run(model, test)
	if err != nil {
		return features, raw, err
	}
	features = eval.Split{Train: trF, Test: teF, TrainLabels: train.labels, TestLabels: test.labels, Dim: dim, Classes: train.classes}
	raw = eval.Split{Train: inputs(train), Test: inputs(test), TrainLabels: train.labels, TestLabels: test.labels,
		Dim: train.size(), Classes: train.classes}
	return features, raw, nil
}

// inputs returns every example of d as float32 rows.
func inputs(d *dataset) []float32 {
	idx := make([]int, d.n)
	for i := range idx {
		idx[i] = i
	}
	v := make([]float32, d.n*d.size())
	d.fill(idx, v)
	return v
}

// evaluate runs the kNN and linear-probe evaluation on the test split, on features and raw inputs.
func evaluate(f *featurizer, model string, train, test *dataset, log io.Writer) (EvalReport, error) {
	fmt.Fprintf(log, "evaluating on %d test examples (kNN k=200 T=0.1, linear probe; features and raw inputs)…\n", test.n)
	features, raw, err := splits(f, model, train, test)
	if err != nil {
		return EvalReport{}, err
	}
	rep, err := eval.Evaluate(features, raw, eval.Options{})
	if err != nil {
		return rep, fmt.Errorf("train: evaluation: %w", err)
	}
	fmt.Fprintf(log, "kNN accuracy %.2f%% (raw inputs %.2f%%), linear probe %.2f%% (raw inputs %.2f%%) on %d test examples, %.1fs\n",
		100*rep.KNNAccuracy, 100*rep.RawKNNAccuracy, 100*rep.LinearAccuracy, 100*rep.RawLinearAccuracy, rep.TestExamples, rep.Seconds)
	return rep, nil
}

// knnNow is the periodic kNN accuracy of the current features on the test split.
func knnNow(f *featurizer, model string, train, test *dataset) (float64, error) {
	trF, _, dim, _, err := f.run(model, train)
	if err != nil {
		return 0, err
	}
	teF, _, _, _, err := f.run(model, test)
	if err != nil {
		return 0, err
	}
	return eval.KNN(trF, train.labels, teF, test.labels, dim, train.classes, eval.KNNOptions{})
}

func writeEval(path string, r EvalReport) error { return r.WriteJSON(path) }

// EvaluateRun evaluates the trained run in dir (simclr eval --run DIR): it rebuilds the model from
// dir/config.json, loads the newest complete checkpoint, and writes dir/eval.json. backendSpec, if not empty,
// overrides the run's backend.
func EvaluateRun(dir, backendSpec string, log io.Writer) (EvalReport, error) {
	saved, err := ReadRunRecord(filepath.Join(dir, "config.json"), Defaults())
	if err != nil {
		return EvalReport{}, usagef("--run %s: reading the run's config.json: %v", dir, err)
	}
	c := saved.Config.Resolve()
	if backendSpec != "" {
		c.Backend = backendSpec
	}
	meta, ts, path, err := latestCheckpoint(dir, saved.Environment.RunID, log)
	if err != nil {
		return EvalReport{}, err
	}
	train, test, err := loadData(c)
	if err != nil {
		return EvalReport{}, err
	}
	if train.classes < 2 {
		return EvalReport{}, fmt.Errorf("train: %s: the data set %s has no class labels to evaluate against", dir, train.name)
	}
	model, views, err := buildModel(c, train)
	if err != nil {
		return EvalReport{}, err
	}
	be, err := backend.New(backend.Spec(c.Backend))
	if err != nil {
		return EvalReport{}, err
	}
	dt := dtypes.Float32
	if c.DType == "float64" {
		dt = dtypes.Float64
	}
	st, err := NewStepper(be, model, optim.Optimizer{Name: c.Optimizer, LR: c.LR},
		losses.Config{Kernel: c.Kernel, Part: c.Loss, Tau: c.Temperature}, views, dt, c.Seed)
	if err != nil {
		return EvalReport{}, err
	}
	if err := st.restore(ts); err != nil {
		return EvalReport{}, fmt.Errorf("train: %s: %w", path, err)
	}
	fmt.Fprintf(log, "evaluating %s at step %d (%s)\n", dir, meta.Step, path)
	rep, err := evaluate(newFeaturizer(be, st, dt), c.Model, train, test, log)
	if err != nil {
		return rep, err
	}
	return rep, writeEval(filepath.Join(dir, "eval.json"), rep)
}
