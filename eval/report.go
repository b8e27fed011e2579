package eval

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/gosimclr/gosimclr/datasets"
)

// Split is a labelled train and test set of feature rows: learned features, or raw pixels.
type Split struct {
	Train, Test             []float32 // [n, Dim] and [m, Dim], row-major
	TrainLabels, TestLabels []int     // [n] and [m], in [0, Classes)
	Dim, Classes            int
}

// PixelSplit returns the raw-pixel Split of an image data set: each image as its H·W·C pixels in [0, 1]
// (Images.Batch), the baseline of Evaluate.
func PixelSplit(train, test *datasets.Images) Split {
	rows := func(m *datasets.Images) []float32 { return m.Batch(seq(0, m.N), nil) }
	return Split{Train: rows(train), Test: rows(test), TrainLabels: train.Labels, TestLabels: test.Labels,
		Dim: train.ExampleSize(), Classes: len(train.Classes)}
}

// Options configures Evaluate; the zero value means the defaults of both parts.
type Options struct {
	KNN   KNNOptions
	Probe ProbeOptions
}

// Report is the result of Evaluate, written as results/<run>/eval.json by WriteJSON.
type Report struct {
	KNNAccuracy       float64 `json:"knn_accuracy"`        // weighted kNN on the learned features
	LinearAccuracy    float64 `json:"linear_accuracy"`     // linear probe on the learned features
	RawKNNAccuracy    float64 `json:"raw_knn_accuracy"`    // the same kNN on raw pixels
	RawLinearAccuracy float64 `json:"raw_linear_accuracy"` // the same probe on raw pixels
	TestExamples      int     `json:"test_examples"`
	TrainExamples     int     `json:"train_examples"`
	FeatureDim        int     `json:"feature_dim"` // dimension of the learned features
	K                 int     `json:"k"`           // neighbours that voted (K after clamping to the train size)
	Temperature       float64 `json:"temperature"` // T of the kNN vote
	Seconds           float64 `json:"seconds"`     // wall time of Evaluate
}

// Evaluate runs KNN and LinearProbe on the learned features and on the raw-pixel baseline raw, which must
// hold the same examples (same train and test labels, in the same order). Bad inputs are errors wrapping
// the sentinels of KNN and LinearProbe.
func Evaluate(features, raw Split, opt Options) (Report, error) {
	start := time.Now()
	if !slices.Equal(features.TrainLabels, raw.TrainLabels) || !slices.Equal(features.TestLabels, raw.TestLabels) ||
		features.Classes != raw.Classes {
		return Report{}, fmt.Errorf("eval: Evaluate: features and raw pixels must hold the same examples: labels or classes differ (%d/%d train, %d/%d test, %d/%d classes): %w",
			len(features.TrainLabels), len(raw.TrainLabels), len(features.TestLabels), len(raw.TestLabels),
			features.Classes, raw.Classes, ErrShape)
	}
	knnOpt, err := opt.KNN.resolve(len(features.TrainLabels))
	if err != nil {
		return Report{}, fmt.Errorf("eval: Evaluate: %w", err)
	}
	r := Report{TestExamples: len(features.TestLabels), TrainExamples: len(features.TrainLabels),
		FeatureDim: features.Dim, K: knnOpt.K, Temperature: knnOpt.T}
	for _, part := range []struct {
		name     string
		s        Split
		knn, lin *float64
	}{{"features", features, &r.KNNAccuracy, &r.LinearAccuracy}, {"raw", raw, &r.RawKNNAccuracy, &r.RawLinearAccuracy}} {
		s := part.s
		if *part.knn, err = KNN(s.Train, s.TrainLabels, s.Test, s.TestLabels, s.Dim, s.Classes, opt.KNN); err != nil {
			return Report{}, fmt.Errorf("eval: Evaluate: %s: %w", part.name, err)
		}
		if *part.lin, err = LinearProbe(s.Train, s.TrainLabels, s.Test, s.TestLabels, s.Dim, s.Classes, opt.Probe); err != nil {
			return Report{}, fmt.Errorf("eval: Evaluate: %s: %w", part.name, err)
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// WriteJSON writes r to path as indented JSON with a final newline.
func (r Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("eval: write %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("eval: write %s: %w", path, err)
	}
	return nil
}
