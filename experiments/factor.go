package experiments

import (
	"fmt"
	"math"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/spf13/pflag"
)

// The factor sweeps of issue 24 point 6: temperature, the similarity η (kernel) and unequal cluster sizes, each
// for the particles and 1- and 4-layer networks, one factor varied at a time around depth-width's setting (NTK
// parameterisation, m = 256, lr 0.05, particles lr·N, τ = 0.5, the exponential kernel, equal clusters), each
// seed with a data draw of its own. The networks are measured every 20 steps and the particles every step up to step
// 1000, then every 20: at small τ both lose their clusters within depth-width's first 100-step interval. Every
// value is ours.

// FactorConfig sets one factor sweep.
type FactorConfig struct {
	sweepBase
	Methods      []int     `json:"methods"` // 0: particles, else hidden layers
	Width        int       `json:"width"`
	Scaling      string    `json:"scaling"`
	LR           float64   `json:"lr"`
	Temperature  float64   `json:"temperature"`            // when not the factor
	Temperatures []float64 `json:"temperatures,omitempty"` // the temperature sweep's levels
	Kernels      []string  `json:"kernels,omitempty"`      // the kernel sweep's levels
	Sizes        [][]int   `json:"sizes,omitempty"`        // the unequal sweep's levels (nil entry: equal)
	factor       string
}

// defaultFactor returns the shared full (or quick) settings of a factor sweep.
func defaultFactor(quick bool, factor string) FactorConfig {
	c := FactorConfig{sweepBase: sweepBase{Clusters: 4, PerCluster: 32, Radius: 0.15, Scale: 2, Activation: arch.LeakyReLU, Steps: 20000,
		LogEvery: 20, ParticleLogEvery: 1, ParticleDenseUntil: 1000, Window: 5, Stop: true, Seeds: 8, FirstSeed: 1},
		Methods: []int{0, 1, 4}, Width: 256, Scaling: arch.ScalingNTK, LR: 0.05, Temperature: 0.5, factor: factor}
	switch factor {
	case "temperature":
		c.Temperatures = []float64{0.05, 0.1, 0.2, 0.5, 1, 2}
	case "kernel":
		c.Kernels = []string{losses.KernelExp, losses.KernelGaussian, losses.KernelLinear}
	case "unequal":
		c.PerCluster = 16
		c.Sizes = [][]int{{28, 28, 28, 28}, {64, 16, 16, 16}} // 112 points either way; one cluster 4× each other
	}
	if quick {
		c.PerCluster, c.Width, c.Methods, c.Steps, c.LogEvery, c.ParticleLogEvery, c.ParticleDenseUntil, c.Window, c.Seeds = 8, 16, []int{0, 1}, 60, 10, 2, 20, 2, 1
		if c.Temperatures != nil {
			c.Temperatures = []float64{0.2, 1}
		}
		if c.Sizes != nil {
			c.Sizes = [][]int{{8, 8, 8, 8}, {14, 6, 6, 6}}
		}
	}
	return c
}

// level is one level of the factor: its name in tables and values, and how it sets a spec.
type level struct {
	name  string
	set   func(*sweepSpec)
	value float64 // the Cox covariate of the temperature sweep (log₂ τ); unused by the categorical sweeps
}

func (c FactorConfig) levels() []level {
	var out []level
	for _, t := range c.Temperatures {
		out = append(out, level{fmt.Sprintf("tau=%g", t), func(s *sweepSpec) { s.Temperature = t }, math.Log2(t)})
	}
	for _, k := range c.Kernels {
		out = append(out, level{"kernel=" + k, func(s *sweepSpec) { s.Kernel = k }, 0})
	}
	for _, sz := range c.Sizes {
		name, copySz := "sizes=equal", sz
		if slicesUnequal(sz) {
			name = "sizes=" + strings.Trim(strings.ReplaceAll(fmt.Sprint(sz), " ", "/"), "[]")
		}
		out = append(out, level{name, func(s *sweepSpec) { s.Sizes = copySz }, 0})
	}
	return out
}

func slicesUnequal(sz []int) bool {
	for _, n := range sz {
		if n != sz[0] {
			return true
		}
	}
	return false
}

func methodName(depth int) string {
	if depth == 0 {
		return "particles"
	}
	return fmt.Sprintf("L=%d", depth)
}

// plan lists the cells seed by seed.
func (c FactorConfig) plan() []sweepSpec {
	var out []sweepSpec
	for s := range uint64(c.Seeds) {
		for _, lv := range c.levels() {
			for _, d := range c.Methods {
				sp := sweepSpec{Depth: d, Rule: "fixed", LR: c.LR, Temperature: c.Temperature, Kernel: losses.KernelExp,
					Seed: c.FirstSeed + s, DataSeed: c.FirstSeed + s}
				if d > 0 {
					sp.Width, sp.Scaling = c.Width, c.Scaling
				}
				lv.set(&sp)
				out = append(out, sp)
			}
		}
	}
	return out
}

func bindFactor(factor string) func(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
	return func(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) {
		c := defaultFactor(quick, factor)
		bindSweepFlags(fs, &c.sweepBase)
		fs.IntSliceVar(&c.Methods, "methods", c.Methods, "0 for the particles, else hidden layers of a network")
		fs.IntVar(&c.Width, "width", c.Width, "hidden width m")
		fs.StringVar(&c.Scaling, "scaling", c.Scaling, "parameterisation of the networks")
		fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate of the networks (particles: lr·N)")
		switch factor {
		case "temperature":
			fs.Float64SliceVar(&c.Temperatures, "temperatures", c.Temperatures, "the temperatures τ")
		default:
			fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "NT-Xent temperature τ")
		}
		if factor == "kernel" {
			fs.StringSliceVar(&c.Kernels, "kernels", c.Kernels, "the similarities η: "+strings.Join(losses.Kernels, ", "))
		}
		return func(cm Common) (*Result, error) { return RunFactor(c, cm) }
	}
}

// RunFactor runs the cells of a factor sweep not yet stored (as many as c.For allows) and reports every stored
// cell.
func RunFactor(c FactorConfig, cm Common) (*Result, error) {
	plan := c.plan()
	dir, done, err := runSweep(c.factor, cm, c, c.sweepBase, plan, func(path string) error {
		return sameSettings(path, c, func(s *FactorConfig) { s.For, s.ReportOnly, s.Seeds, s.factor = c.For, c.ReportOnly, c.Seeds, c.factor })
	})
	if err != nil {
		return nil, err
	}
	res, err := factorReport(c, dir, done, len(plan))
	if err != nil {
		return nil, err
	}
	return res, writeSummary(res, cm, res.Numbers)
}
