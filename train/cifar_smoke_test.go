package train

import (
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/datasets"
)

// TestResNet18OnCIFAR10JPEG is the real-images issue's smoke test: ResNet-18 at full width (64, CIFAR stem,
// exact batch normalisation) trains for a few steps on the CIFAR-10 JPEG copy through simclr train's own path
// (archive reader, SimCLR's CIFAR augmentations in the step graph, Adam) on the Go backend. Every loss is
// finite, and the batch-norm running averages written to params.ckpt moved away from their initial 0 and 1.
// Skipped under -short and where the archive is absent (a fresh clone without the shared folder).
func TestResNet18OnCIFAR10JPEG(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 60 000 JPEG files and runs ResNet-18 steps; skipped under -short")
	}
	if datasets.FindCIFAR10JPEG(datasets.CIFAR10JPEGPaths()) == "" {
		t.Skipf("CIFAR-10 JPEG archive not found in %q", datasets.CIFAR10JPEGPaths())
	}
	c := Defaults()
	dir := t.TempDir()
	c.Data, c.Model, c.Stem, c.BatchSize, c.Steps, c.LogEvery, c.Eval, c.OutDir = "cifar10", "resnet18", "cifar", 8, 3, 1, false, dir
	s, err := Run(c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps != 3 || math.IsNaN(s.FinalLoss) || math.IsInf(s.FinalLoss, 0) || math.IsNaN(s.InitialLoss) {
		t.Fatalf("summary %+v", s)
	}
	ts, err := checkpoint.Read(filepath.Join(dir, "params.ckpt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, tn := range ts {
		vals := tn.F64 // params.ckpt holds float64 values, whatever the training dtype
		for _, v := range tn.F32 {
			vals = append(vals, float64(v))
		}
		for _, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s holds %g", tn.Name, v)
			}
		}
		if strings.HasSuffix(tn.Name, "/running_mean") {
			for _, v := range vals {
				if v != 0 {
					moved++
					break
				}
			}
		}
	}
	if moved < 20 { // ResNet-18 has 20 batch-norm layers
		t.Errorf("%d running means moved, want every batch-norm layer's", moved)
	}
	t.Logf("ResNet-18 on CIFAR-10 JPEG: loss %.4f → %.4f in %.1f s of training", s.InitialLoss, s.FinalLoss, s.Seconds)
}
