package bench

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/recipe"
)

// Workloads maps each workload name to its cases at the sizes of the benchmarks issue; pairs > 0 replaces
// the number of pairs N of every case (for quick runs and sweeps).
var Workloads = []struct {
	Name  string
	Cases func(pairs int) []Case
}{
	{"loss", func(pairs int) []Case {
		var cs []Case
		ns := []int{128, 256, 512} // larger N: simclr bench --sweep
		if pairs > 0 {
			ns = []int{pairs}
		}
		for _, n := range ns {
			for _, k := range []int{32, 128} {
				cs = append(cs, LossCase(n, k))
			}
		}
		return cs
	}},
	{"onehidden", func(pairs int) []Case {
		var cs []Case
		for _, m := range []int{256, 4096} {
			for _, k := range []int{2, 128} {
				cs = append(cs, OneHiddenCase(m, k, or(pairs, 256)))
			}
		}
		return cs
	}},
	{"mlp", func(pairs int) []Case {
		return []Case{DeepMLPCase(1, or(pairs, 256))}
	}},
	{"cnn", func(pairs int) []Case { return []Case{CNNCase(or(pairs, 256))} }},
	{"resnet18", func(pairs int) []Case { return []Case{ResNetCase(or(pairs, 256), 3)} }},
	{"augment", func(pairs int) []Case { return []Case{AugmentCase(or(2*pairs, 512))} }},
}

// or returns v, or def when v is 0.
func or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// MLP is the core issue's workload: one Adam step of 784→512 (ReLU)→128, L2-normalised, NT-Xent over
// 2N = 512 views, τ = benchTemperature.
func MLP() Case { return DeepMLPCase(1, 256) }

// OneHiddenCase is the paper's network (d = 2, width m, latent k, NTK scaling) trained by SGD on N = pairs.
func OneHiddenCase(m, k, pairs int) Case {
	return MLPCase("onehidden", 2, m, 1, k, pairs, recipe.SGD, arch.ScalingNTK)
}

// DeepMLPCase is the core issue's MLP with depth hidden layers, 784 → 512 × depth → 128, Adam, N = pairs.
func DeepMLPCase(depth, pairs int) Case {
	return MLPCase("mlp", 784, 512, depth, 128, pairs, recipe.Adam, arch.ScalingStandard)
}

// DefaultWorkloads is what simclr bench times without --workload: every workload but resnet18 (a ResNet-18
// step takes seconds on 2 cores), so that the default run ends in a few minutes.
const DefaultWorkloads = "loss,onehidden,mlp,cnn,augment"

// WorkloadNames lists the workload names in order.
func WorkloadNames() []string {
	var names []string
	for _, w := range Workloads {
		names = append(names, w.Name)
	}
	return names
}

// CasesOf returns the cases of the named workload; pairs > 0 replaces their number of pairs.
func CasesOf(name string, pairs int) ([]Case, error) {
	for _, w := range Workloads {
		if w.Name == name {
			return w.Cases(pairs), nil
		}
	}
	return nil, fmt.Errorf("unknown workload %q, want one of %v", name, WorkloadNames())
}

var goBackend = sync.OnceValues(func() (compute.Backend, error) { return backend.New("go") })

// Options configures Run.
type Options struct {
	Backends  []string     // backend specs to time ("go", "xla:cuda", …)
	Steps     int          // timed steps per measurement, after one warm-up
	Reference bool         // also time the pure-Go reference and report ratios to it
	Peak      bool         // probe each backend's best matmul GFLOP/s and report fractions of it
	Devices   int          // data-parallel devices of the training steps (0 or 1: one)
	Compute   dtypes.DType // the training steps' forward and backward dtype: bfloat16, or unset for float32
}

// Run measures every case on every backend and (with opts.Reference) on the reference; progress goes to log.
func Run(cases []Case, opts Options, log io.Writer) ([]Result, error) {
	peaks := map[string]float64{}
	if opts.Peak {
		if opts.Reference {
			peaks["reference"] = RefPeak()
			fmt.Fprintf(log, "peak float32 matmul: reference %.1f GFLOP/s\n", peaks["reference"])
		}
		for _, spec := range opts.Backends {
			b, err := backend.New(spec)
			if err != nil {
				return nil, err
			}
			if peaks[spec], err = GoMLXPeak(b); err != nil {
				return nil, err
			}
			fmt.Fprintf(log, "peak float32 matmul: %s %.1f GFLOP/s\n", spec, peaks[spec])
		}
	}
	var out []Result
	for _, c := range cases {
		var refMs float64
		if opts.Reference && c.Ref != nil {
			fmt.Fprintf(log, "%s on the reference…\n", c.Label())
			step, err := c.Ref()
			if err != nil {
				return nil, err
			}
			r := c.result("reference")
			if err := c.measure(&r, step, opts.Steps, true); err != nil {
				return nil, fmt.Errorf("bench: %s on the reference: %w", c.Label(), err)
			}
			r.RatioToReference, r.Device, refMs = 1, refDevice(), r.MsPerStep
			out = append(out, r.withPeak(peaks["reference"]))
		}
		for _, spec := range opts.Backends {
			b, err := backend.New(spec)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(log, "%s on %s…\n", c.Label(), spec)
			step, err := c.GoMLX(b, StepOptions{Devices: max(opts.Devices, 1), Compute: opts.Compute})
			if errors.Is(err, ErrOneDevice) {
				fmt.Fprintf(log, "%s: skipped, %v\n", c.Label(), err)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("bench: %s on %s: %w", c.Label(), spec, err)
			}
			label := spec // the backend column: "xla:cpu×4" for a data-parallel step, "xla:cuda/bf16" in bfloat16
			if opts.Devices > 1 {
				label = fmt.Sprintf("%s×%d", spec, opts.Devices)
			}
			if opts.Compute == dtypes.BFloat16 {
				label += "/bf16"
			}
			r := c.result(label)
			if err := c.measure(&r, step, opts.Steps, backend.IsGo(b)); err != nil {
				return nil, fmt.Errorf("bench: %s on %s: %w", c.Label(), spec, err)
			}
			r.Device = b.DeviceDescription(0)
			if refMs > 0 {
				r.RatioToReference = r.MsPerStep / refMs
			}
			out = append(out, r.withPeak(peaks[spec]))
		}
	}
	return out, nil
}

func (r Result) withPeak(peak float64) Result {
	if peak > 0 && r.FLOPsPerStep > 0 {
		r.PeakGFLOPs = peak
		r.PeakFraction = r.GFLOPs / peak
	}
	return r
}

// Table renders results as a markdown table, with a "vs <peer>" column for each peer any result has a ratio to.
func Table(rs []Result) string {
	var sb strings.Builder
	peers := tablePeers(rs)
	sb.WriteString("| workload | pairs | k | width | depth | backend | ms/step (median) | min–max ms | samples/s | GFLOP/s | of peak | compile ms | heap MB | vs reference |")
	for _, p := range peers {
		sb.WriteString(" vs " + p.Label + " |")
	}
	sb.WriteString("\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|" + strings.Repeat("---:|", len(peers)) + "\n")
	dash := func(v int) string {
		if v == 0 {
			return "—"
		}
		return fmt.Sprint(v)
	}
	for _, r := range rs {
		ratio := "—"
		if r.Backend != "reference" && r.RatioToReference > 0 {
			ratio = fmt.Sprintf("%.2f× (%.1f× %s)", r.RatioToReference, speedup(r.RatioToReference), fasterSlower(r.RatioToReference))
		}
		var peer strings.Builder
		ratios := r.peerRatios()
		for _, p := range peers {
			if v := ratios[p.Name]; v > 0 {
				fmt.Fprintf(&peer, " %.2f× |", v)
			} else {
				peer.WriteString(" — |")
			}
		}
		gf, frac := "—", "—"
		if r.GFLOPs > 0 {
			gf = fmt.Sprintf("%.1f", r.GFLOPs)
		}
		if r.PeakFraction > 0 {
			frac = fmt.Sprintf("%.0f%%", 100*r.PeakFraction)
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %.2f | %.2f–%.2f | %.0f | %s | %s | %.0f | %.0f | %s |%s\n",
			r.Workload, dash(r.Pairs), dash(r.LatentDim), dash(r.Width), dash(r.Depth), r.Backend,
			r.MsPerStep, r.MinMs, r.MaxMs, r.SamplesPerSec, gf, frac, r.CompileMs, r.HeapMB, ratio, peer.String())
	}
	return sb.String()
}

// tablePeers returns the peers that any of rs has a ratio to, in the order of PeerFrameworks (a column each).
func tablePeers(rs []Result) []PeerFramework {
	var out []PeerFramework
	for _, p := range PeerFrameworks {
		for _, r := range rs {
			if r.peerRatios()[p.Name] > 0 {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func speedup(ratio float64) float64 {
	if ratio < 1 {
		return 1 / ratio
	}
	return ratio
}

func fasterSlower(ratio float64) string {
	if ratio <= 1 {
		return "faster"
	}
	return "slower"
}
