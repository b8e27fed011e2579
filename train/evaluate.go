package train

import (
	"fmt"
	"io"

	"github.com/gosimclr/gosimclr/eval"
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
