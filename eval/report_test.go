package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEvaluate runs Evaluate on separated clusters (features) and a noisier view of the same examples (raw),
// and checks the JSON written: exactly the documented keys, accuracies in [0, 1], K clamped to the train size.
func TestEvaluate(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	trainX, trainY := clusters(r, 150, 16, 4, 20)
	testX, testY := clusters(r, 60, 16, 4, 20)
	noisy := func(x []float32) []float32 {
		out := slices.Clone(x)
		for i := range out {
			out[i] += float32(8 * r.NormFloat64())
		}
		return out
	}
	features := Split{Train: trainX, Test: testX, TrainLabels: trainY, TestLabels: testY, Dim: 16, Classes: 4}
	raw := Split{Train: noisy(trainX), Test: noisy(testX), TrainLabels: trainY, TestLabels: testY, Dim: 16, Classes: 4}
	rep, err := Evaluate(features, raw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.KNNAccuracy != 1 || rep.LinearAccuracy != 1 {
		t.Errorf("accuracies on separated clusters %v, %v; want 1, 1", rep.KNNAccuracy, rep.LinearAccuracy)
	}
	if rep.K != 150 || rep.KNNT != DefaultT || rep.TrainExamples != 150 || rep.TestExamples != 60 || rep.FeatureDim != 16 {
		t.Errorf("report %+v: want K clamped to 150, T = %v, 150 train, 60 test, dim 16", rep, DefaultT)
	}
	path := filepath.Join(t.TempDir(), "eval.json")
	if err := rep.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"feature_dim", "k", "knn_accuracy", "linear_accuracy", "raw_knn_accuracy", "raw_linear_accuracy",
		"probe_lambda", "seconds", "knn_t", "test_examples", "train_examples"}
	slices.Sort(want)
	if keys := slices.Sorted(maps.Keys(m)); !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v, want %v", keys, want)
	}
	for _, k := range []string{"knn_accuracy", "linear_accuracy", "raw_knn_accuracy", "raw_linear_accuracy"} {
		if m[k] < 0 || m[k] > 1 {
			t.Errorf("%s = %v, want a fraction", k, m[k])
		}
	}
	if m["raw_knn_accuracy"] >= 1 || m["seconds"] <= 0 {
		t.Errorf("raw kNN %v on noisy features (want < 1), seconds %v (want > 0)", m["raw_knn_accuracy"], m["seconds"])
	}

	// --no-raw: no baseline fields; a raw cache: the second evaluation reads the first's baselines, and
	// another option (k) is another cache entry. Progress names every stage.
	skip, err := Evaluate(features, raw, Options{NoRaw: true})
	if err != nil || skip.RawKNNAccuracy != nil || skip.RawLinearAccuracy != nil || skip.KNNAccuracy != 1 {
		t.Errorf("NoRaw: %+v, %v", skip, err)
	}
	cache := t.TempDir()
	var log strings.Builder
	first, err := Evaluate(features, raw, Options{RawCache: cache, Progress: &log})
	if err != nil || first.RawCached || *first.RawKNNAccuracy != *rep.RawKNNAccuracy {
		t.Fatalf("first cached evaluation: %+v, %v", first, err)
	}
	for _, stage := range []string{"kNN on features", "probe on features: λ", "final fit", "kNN on raw inputs", "linear probe on raw inputs"} {
		if !strings.Contains(log.String(), stage) {
			t.Errorf("progress lacks %q:\n%s", stage, log.String())
		}
	}
	second, err := Evaluate(features, raw, Options{RawCache: cache})
	if err != nil || !second.RawCached || *second.RawKNNAccuracy != *first.RawKNNAccuracy || *second.RawLinearAccuracy != *first.RawLinearAccuracy {
		t.Errorf("second evaluation did not reuse the cache: %+v, %v", second, err)
	}
	other, err := Evaluate(features, raw, Options{RawCache: cache, KNN: KNNOptions{K: 3}})
	if err != nil || other.RawCached {
		t.Errorf("k = 3 reused the k = 200 baselines: %+v, %v", other, err)
	}
}

// TestEvaluateErrors: splits of different examples, bad options and bad features are errors, not panics.
func TestEvaluateErrors(t *testing.T) {
	x := []float32{1, 0, 0, 1, 1, 1, 0, 2}
	s := Split{Train: x, Test: x, TrainLabels: []int{0, 1, 0, 1}, TestLabels: []int{0, 1, 0, 1}, Dim: 2, Classes: 2}
	other := s
	other.TestLabels = []int{1, 1, 0, 1}
	if _, err := Evaluate(s, other, Options{}); !errors.Is(err, ErrShape) {
		t.Errorf("different test labels: err = %v, want ErrShape", err)
	}
	if _, err := Evaluate(s, s, Options{KNN: KNNOptions{K: -3}}); !errors.Is(err, ErrOption) {
		t.Errorf("K = -3: err = %v, want ErrOption", err)
	}
	bad := s
	bad.Dim = 3
	if _, err := Evaluate(bad, bad, Options{}); !errors.Is(err, ErrShape) {
		t.Errorf("dim 3 for rows of 2: err = %v, want ErrShape", err)
	}
	if err := (Report{}).WriteJSON(filepath.Join(t.TempDir(), "missing", "eval.json")); err == nil {
		t.Errorf("WriteJSON into a missing folder: no error")
	}
}

// ExampleKNN: one test point, three neighbours; the nearest outweighs the two others at T = 0.1.
func ExampleKNN() {
	train := []float32{
		0.9, 0.44, // class 0, cosine 0.9 with the test point
		0.5, 0.87, // class 1, cosine 0.5
		0.5, -0.87, // class 1, cosine 0.5
	}
	test := []float32{1, 0}
	for _, T := range []float64{0.1, 1} {
		pred, _ := KNNPredict(train, []int{0, 1, 1}, test, 2, 2, KNNOptions{K: 3, T: T})
		fmt.Printf("T=%v: class %d\n", T, pred[0])
	}
	// Output:
	// T=0.1: class 0
	// T=1: class 1
}
