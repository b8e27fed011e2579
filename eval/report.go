package eval

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
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
	// NoRaw skips the raw-input baselines (their fields are then absent from the report).
	NoRaw bool
	// RawCache, if not empty, is a folder where the raw-input baselines are kept, keyed by a hash of the raw
	// split and of every option that changes them, so that each data set's are computed once.
	RawCache string
	// Progress, if not nil, receives a line per stage (and per probe fit, with an estimate of the time left).
	Progress io.Writer
}

// Report is the result of Evaluate, written as results/<run>/eval.json by WriteJSON.
type Report struct {
	KNNAccuracy       float64  `json:"knn_accuracy"`                  // weighted kNN on the learned features
	LinearAccuracy    float64  `json:"linear_accuracy"`               // linear probe on the learned features
	RawKNNAccuracy    *float64 `json:"raw_knn_accuracy,omitempty"`    // the same kNN on raw pixels (nil: skipped)
	RawLinearAccuracy *float64 `json:"raw_linear_accuracy,omitempty"` // the same probe on raw pixels (nil: skipped)
	RawCached         bool     `json:"raw_cached,omitempty"`          // the raw baselines came from Options.RawCache
	TestExamples      int      `json:"test_examples"`
	TrainExamples     int      `json:"train_examples"`
	FeatureDim        int      `json:"feature_dim"`  // dimension of the learned features
	K                 int      `json:"k"`            // neighbours that voted (K after clamping to the train size)
	KNNT              float64  `json:"knn_t"`        // T of the kNN vote (not the loss temperature τ)
	Lambda            float64  `json:"probe_lambda"` // the probe's chosen L2 penalty on the features
	Seconds           float64  `json:"seconds"`      // wall time of Evaluate
	// The checkpoint whose encoder was evaluated (its file name in the run folder) and its step; set by
	// the caller that knows it (package train), empty for features from elsewhere.
	Checkpoint string `json:"checkpoint,omitempty"`
	Step       int    `json:"step,omitempty"`
}

// Evaluate runs KNN and LinearProbe on the learned features and on the raw-pixel baseline raw, which must
// hold the same examples (same train and test labels, in the same order). Bad inputs are errors wrapping
// the sentinels of KNN and LinearProbe.
func Evaluate(features, raw Split, opt Options) (Report, error) {
	start := time.Now()
	if !opt.NoRaw && (!slices.Equal(features.TrainLabels, raw.TrainLabels) || !slices.Equal(features.TestLabels, raw.TestLabels) ||
		features.Classes != raw.Classes) {
		return Report{}, fmt.Errorf("eval: Evaluate: features and raw pixels must hold the same examples: labels or classes differ (%d/%d train, %d/%d test, %d/%d classes): %w",
			len(features.TrainLabels), len(raw.TrainLabels), len(features.TestLabels), len(raw.TestLabels),
			features.Classes, raw.Classes, ErrShape)
	}
	knnOpt, err := opt.KNN.resolve(len(features.TrainLabels))
	if err != nil {
		return Report{}, fmt.Errorf("eval: Evaluate: %w", err)
	}
	r := Report{TestExamples: len(features.TestLabels), TrainExamples: len(features.TrainLabels),
		FeatureDim: features.Dim, K: knnOpt.K, KNNT: knnOpt.T}
	if r.KNNAccuracy, r.LinearAccuracy, r.Lambda, err = evaluateSplit("features", features, opt); err != nil {
		return Report{}, err
	}
	if !opt.NoRaw {
		if err := r.raw(raw, opt); err != nil {
			return Report{}, err
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// evaluateSplit runs KNN and FitProbe on one split, reporting each stage on opt.Progress.
func evaluateSplit(name string, s Split, opt Options) (knn, lin, lambda float64, err error) {
	say := func(format string, args ...any) {
		if opt.Progress != nil {
			fmt.Fprintf(opt.Progress, format, args...)
		}
	}
	t := time.Now()
	if knn, err = KNN(s.Train, s.TrainLabels, s.Test, s.TestLabels, s.Dim, s.Classes, opt.KNN); err != nil {
		return 0, 0, 0, fmt.Errorf("eval: Evaluate: %s: %w", name, err)
	}
	say("  kNN on %s (%d × %d): %.2f%% in %.1f s\n", name, len(s.TrainLabels), s.Dim, 100*knn, time.Since(t).Seconds())
	t = time.Now()
	po := opt.Probe
	if po.Progress == nil && opt.Progress != nil {
		po.Progress, po.Name = opt.Progress, name
	}
	if err := checkPair("LinearProbe", s.Train, s.TrainLabels, s.Test, s.TestLabels, s.Dim, s.Classes); err != nil {
		return 0, 0, 0, fmt.Errorf("eval: Evaluate: %s: %w", name, err)
	}
	p, err := FitProbe(s.Train, s.TrainLabels, s.Dim, s.Classes, po)
	var pred []int
	if err == nil {
		pred, err = p.Predict(s.Test)
	}
	if err == nil {
		lin = score(pred, s.TestLabels)
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("eval: Evaluate: %s: %w", name, err)
	}
	say("  linear probe on %s: %.2f%% (λ = %g) in %.1f s\n", name, 100*lin, p.Lambda, time.Since(t).Seconds())
	return knn, lin, p.Lambda, nil
}

// raw fills r's raw-input baselines, from opt.RawCache when it holds them, else by evaluating raw (and
// storing the result there).
func (r *Report) raw(raw Split, opt Options) error {
	var path string
	if opt.RawCache != "" {
		path = filepath.Join(opt.RawCache, "raw-"+rawKey(raw, opt)+".json")
		var c struct{ KNN, Linear float64 }
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &c) == nil {
			r.RawKNNAccuracy, r.RawLinearAccuracy, r.RawCached = &c.KNN, &c.Linear, true
			if opt.Progress != nil {
				fmt.Fprintf(opt.Progress, "  raw-input baselines from %s: kNN %.2f%%, probe %.2f%%\n", path, 100*c.KNN, 100*c.Linear)
			}
			return nil
		}
	}
	knn, lin, _, err := evaluateSplit("raw inputs", raw, opt)
	if err != nil {
		return err
	}
	r.RawKNNAccuracy, r.RawLinearAccuracy = &knn, &lin
	if path != "" { // a cache that cannot be written only costs the next run the same time
		if os.MkdirAll(opt.RawCache, 0o755) == nil {
			b, _ := json.Marshal(struct{ KNN, Linear float64 }{knn, lin})
			_ = os.WriteFile(path, b, 0o644)
		}
	}
	return nil
}

// rawKey hashes what the raw baselines depend on: the raw split's values and labels and the kNN and probe
// options (resolved, so that a default and its explicit value agree).
func rawKey(s Split, opt Options) string {
	h := sha256.New()
	knn, _ := opt.KNN.resolve(len(s.TrainLabels))
	probe, _ := opt.Probe.resolve()
	fmt.Fprintf(h, "v1 %d %d %d %d %g %v %g %d %g %d|", s.Dim, s.Classes, len(s.TrainLabels), knn.K, knn.T,
		probe.Lambdas, probe.HoldOut, probe.MaxIter, probe.Tol, probe.Seed)
	for _, part := range [][]float32{s.Train, s.Test} {
		buf := make([]byte, 4*len(part))
		for i, v := range part {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		h.Write(buf)
	}
	for _, l := range append(slices.Clone(s.TrainLabels), s.TestLabels...) {
		fmt.Fprintf(h, "%d,", l)
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

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
