package experiments

import (
	"math"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// Peak-relative persistence (issue 24 point 5): on MNIST {0, 1, 2} the 1-D codes never reach the silhouette
// threshold of the point experiments (evenly spaced codes in contiguous blocks already score about 0.59), so the
// absolute criterion measures nothing. Each run is instead measured against its own peak: how long after its
// peak a statistic takes to lose half of what it had.

// peakDrop is the peak-relative persistence of a logged statistic: from its peak (its largest value, at the first
// logged step that reaches it), the time until the first logged step that starts window consecutive points
// at or below level (an event; the time counts from the peak), censored at lastStep − the peak's step otherwise.
// It returns the peak's index and the observation; a NaN counts as below level.
func peakDrop(steps []int, stat []float64, level func(peak float64) float64, window, lastStep int) (peak int, o survival.Obs) {
	for i, v := range stat {
		if v > stat[peak] || math.IsNaN(stat[peak]) {
			peak = i
		}
	}
	lv := level(stat[peak])
	run := 0
	for i := peak + 1; i < len(stat); i++ {
		if stat[i] > lv {
			run = 0
			continue
		}
		if run++; run == window {
			return peak, survival.Obs{Time: float64(steps[i-window+1] - steps[peak]), Event: true}
		}
	}
	return peak, survival.Obs{Time: float64(lastStep - steps[peak])}
}

// halfOfPeak is the silhouette's level: half of its peak.
func halfOfPeak(p float64) float64 { return p / 2 }

// halfwayToChance is the probe's level for three classes: halfway from its peak down to chance, 1/3.
func halfwayToChance(p float64) float64 { return (p + 1.0/3) / 2 }

// heldOutProbe is the accuracy of the linear probe on 1-D codes z scored on codes it was not fitted on: fitted on
// the even-numbered images and scored on the odd ones, and the other way round, the two accuracies averaged
// (2-fold cross-validation; the network itself was trained on every image).
func heldOutProbe(z []float64, labels []int, classes int) float64 {
	var acc float64
	for fold := range 2 {
		var zf, zt []float64
		var lf, lt []int
		for i := range z {
			if i%2 == fold {
				zf, lf = append(zf, z[i]), append(lf, labels[i])
			} else {
				zt, lt = append(zt, z[i]), append(lt, labels[i])
			}
		}
		acc += probeScore(zf, lf, zt, lt, 1, classes)
	}
	return acc / 2
}
