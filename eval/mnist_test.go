package eval

import (
	"testing"
	"time"

	"github.com/gosimclr/gosimclr/datasets"
)

// TestMNIST checks both classifiers on raw MNIST pixels against known baselines. A linear classifier on the
// pixels has about 8% test error (LeCun et al. 1998 list 12.0% for an unregularised one; multinomial logistic
// regression on standardised pixels, as here, gets 92–93%). The weighted kNN with K = 200 and T = 0.1 gets
// about 95%: the cosines of a test digit's 200 nearest pixel neighbours span about 0.13 (mean over the first
// 500 test digits), little more than T, so their weights differ by a factor of about e^1.3 and they vote
// almost equally, and fewer or more sharply weighted neighbours do better (K = 1 or T = 0.02: about 96%
// on the first 2 000 test digits, against 93% for K = 200, T = 0.1). Skipped under -short and when MNIST is
// not found.
func TestMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("MNIST check takes about a minute; skipped under -short")
	}
	train, test, err := datasets.Load("mnist", "")
	if err != nil {
		t.Skipf("MNIST not found: %v", err)
	}
	s := PixelSplit(train, test)
	start := time.Now()
	knn, err := KNN(s.Train, s.TrainLabels, s.Test, s.TestLabels, s.Dim, s.Classes, KNNOptions{K: 200, T: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	knnTime := time.Since(start)
	start = time.Now()
	p, err := FitProbe(s.Train, s.TrainLabels, s.Dim, s.Classes, ProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := p.Predict(s.Test)
	if err != nil {
		t.Fatal(err)
	}
	linear, probeTime := score(pred, s.TestLabels), time.Since(start)
	t.Logf("raw MNIST: kNN accuracy %.4f (%.1fs), linear probe accuracy %.4f (%.1fs, λ = %g, final fit %d iterations, max|∂f| %.1e)",
		knn, knnTime.Seconds(), linear, probeTime.Seconds(), p.Lambda, p.Final.Iterations, p.Final.GradMax)
	for _, f := range p.Path {
		t.Logf("  λ = %-6g held-out accuracy %.4f, cross-entropy %.4f, %d iterations", f.Lambda, f.HeldOutAccuracy, f.HeldOutLoss, f.Iterations)
	}
	if knn < 0.945 || knn > 0.975 {
		t.Errorf("raw-pixel kNN accuracy %.4f, want 0.945–0.975", knn)
	}
	if linear < 0.90 || linear > 0.94 {
		t.Errorf("raw-pixel linear probe accuracy %.4f, want 0.90–0.94", linear)
	}
}
