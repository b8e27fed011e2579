package eval

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors. Every input error of this package wraps one of them (test with errors.Is) and names the
// argument, and the row where there is one.
var (
	// ErrShape: a length does not match the others, a set is empty, or dim or classes is not positive.
	ErrShape = errors.New("shape mismatch")
	// ErrLabel: a label is outside [0, classes).
	ErrLabel = errors.New("label out of range")
	// ErrNonFinite: a feature is NaN or ±Inf.
	ErrNonFinite = errors.New("non-finite feature")
	// ErrOption: an option is out of its range.
	ErrOption = errors.New("invalid option")
)

// checkSet checks one labelled set: dim, classes ≥ 1, n = len(labels) ≥ 1, len(x) = n·dim, every label in
// [0, classes), every feature finite. name ("train", "test") prefixes the message.
func checkSet(name string, x []float32, labels []int, dim, classes int) error {
	if dim < 1 || classes < 1 {
		return fmt.Errorf("%s: want dim ≥ 1 and classes ≥ 1, got dim=%d classes=%d: %w", name, dim, classes, ErrShape)
	}
	n := len(labels)
	if n == 0 {
		return fmt.Errorf("%s: empty set: %w", name, ErrShape)
	}
	if len(x) != n*dim {
		return fmt.Errorf("%s: %d labels × dim %d needs %d features, got %d: %w", name, n, dim, n*dim, len(x), ErrShape)
	}
	for i, y := range labels {
		if y < 0 || y >= classes {
			return fmt.Errorf("%s: row %d has label %d, want [0, %d): %w", name, i, y, classes, ErrLabel)
		}
	}
	_, err := checkFeatures(name, x, dim)
	return err
}

// checkFeatures checks that x holds n ≥ 1 whole rows of dim finite features and returns n.
func checkFeatures(name string, x []float32, dim int) (n int, err error) {
	if dim < 1 {
		return 0, fmt.Errorf("%s: want dim ≥ 1, got %d: %w", name, dim, ErrShape)
	}
	if len(x) == 0 || len(x)%dim != 0 {
		return 0, fmt.Errorf("%s: want a positive multiple of dim %d features, got %d: %w", name, dim, len(x), ErrShape)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("%s: row %d column %d holds %v: %w", name, i/dim, i%dim, v, ErrNonFinite)
		}
	}
	return len(x) / dim, nil
}

// checkPair checks a train and a test set of the same dim and classes.
func checkPair(fn string, train []float32, trainLabels []int, test []float32, testLabels []int, dim, classes int) error {
	if err := checkSet("train", train, trainLabels, dim, classes); err != nil {
		return fmt.Errorf("eval: %s: %w", fn, err)
	}
	if err := checkSet("test", test, testLabels, dim, classes); err != nil {
		return fmt.Errorf("eval: %s: %w", fn, err)
	}
	return nil
}
