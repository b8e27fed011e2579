package bench

import (
	"bufio"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Result is one (workload, backend) measurement; its JSON field names are a stable output format.
type Result struct {
	Workload  string  `json:"workload"`
	Backend   string  `json:"backend"` // "go", "xla:cuda", …, or "reference"
	MsPerStep float64 `json:"ms_per_step"`
	MinMs     float64 `json:"min_ms"`
	MaxMs     float64 `json:"max_ms"`
	Steps     int     `json:"steps"` // timed steps after warm-up
	GFLOPs    float64 `json:"gflops"`
	// PeakGFLOPs is the best float32 matmul GFLOP/s measured on the same backend in the same run, and
	// PeakFraction GFLOPs over it (0: not probed).
	PeakGFLOPs    float64 `json:"peak_gflops,omitempty"`
	PeakFraction  float64 `json:"peak_fraction,omitempty"`
	SamplesPerSec float64 `json:"samples_per_s"`
	CompileMs     float64 `json:"compile_ms"` // first step minus a steady-state step
	// PeakRSSMB is the largest resident set of the whole process seen during the measurement (it includes
	// what earlier measurements left allocated), HeapMB the largest Go heap in use (the Go backend's buffers).
	PeakRSSMB float64 `json:"peak_rss_mb"`
	HeapMB    float64 `json:"heap_mb"`
	// RatioToReference is ms_per_step of this backend over the reference's, measured in the same run:
	// below 1 means faster than the reference.
	RatioToReference float64 `json:"ratio_to_reference"`
	// RatioToPeer is ms_per_step over each peer's for the same case in the same run, by peer name ("pytorch",
	// "jax"; --peer pytorch,jax; absent: not measured): the targets are ≤ 1.5.
	RatioToPeer map[string]float64 `json:"ratio_to_peer,omitempty"`
	// RatioToPyTorch is RatioToPeer["pytorch"], kept under its old name for readers of earlier output.
	RatioToPyTorch float64 `json:"ratio_to_pytorch,omitempty"`
	Pairs          int     `json:"pairs"`
	LatentDim      int     `json:"latent_dim"`
	Width          int     `json:"width"`
	Depth          int     `json:"depth"`
	Views          int     `json:"views"`
	FLOPsPerStep   float64 `json:"flops_per_step"`
	Device         string  `json:"device,omitempty"`
}

// timing turns per-step durations (the first one is the warm-up/compile step) into the result's fields.
func (r *Result) timing(first time.Duration, steps []time.Duration, flops float64, samples int) {
	ms := make([]float64, len(steps))
	for i, d := range steps {
		ms[i] = float64(d.Microseconds()) / 1e3
	}
	slices.Sort(ms)
	r.Steps = len(ms)
	r.MsPerStep = median(ms)
	r.MinMs, r.MaxMs = ms[0], ms[len(ms)-1]
	r.FLOPsPerStep = flops
	r.GFLOPs = flops / (r.MsPerStep * 1e6)
	r.SamplesPerSec = float64(samples) / (r.MsPerStep / 1e3)
	r.CompileMs = max(0, float64(first.Microseconds())/1e3-r.MsPerStep)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// memSampler tracks, over one measurement, the largest resident set of the process (VmRSS, sampled after
// every step: the kernel's own high-water mark cannot be reset on every system) and of the Go heap in use
// (HeapInuse, where the Go backend keeps its buffers), after a GC at the start.
type memSampler struct{ rss, heap float64 }

func newMemSampler() *memSampler {
	runtime.GC()
	m := &memSampler{}
	m.sample()
	return m
}

func (m *memSampler) sample() {
	m.rss = max(m.rss, procStatusMB("VmRSS:"))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.heap = max(m.heap, float64(ms.HeapInuse)/(1<<20))
}

// procStatusMB reads a "kB" field of /proc/self/status in MiB (0 if unknown).
func procStatusMB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
