// Package backend is the one place where gosimclr chooses a GoMLX compute backend.
//
// The default, "auto", picks the best backend that works here: XLA on a GPU (a CUDA PJRT plugin that
// initialises), else XLA on the CPU (a CPU PJRT plugin, such as the pinned one simclr plugin install cpu puts in
// PluginDir), else the pure-Go backend ("go"), which needs nothing and is what a fresh machine runs. XLA ("xla",
// "xla:cpu", "xla:cuda", or "xla:/abs/path/plugin.so", each optionally followed by ",option=value" pairs) runs
// only with a PJRT plugin that we found and checked ourselves: we never let go-xla download a plugin, and we never
// dlopen a file that is not an ELF shared object exporting GetPjrtApi (a broken file in the search path has made
// the PJRT loader panic).
package backend

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers "go"
)

// EnvVar is the environment variable honoured when no --backend flag is given.
const EnvVar = "GOMLX_BACKEND"

// Default is the backend used when neither the flag nor EnvVar says otherwise: see Open.
const Default = "auto"

// Auto is the backend specification that Open resolves to the best working backend.
const Auto = "auto"

// ErrNoPlugin is returned (wrapped) when an XLA backend is asked for and no usable PJRT plugin is found.
var ErrNoPlugin = errors.New("no usable PJRT plugin")

// ErrBadSpec is returned (wrapped) for a backend name that is not "go" or "xla…".
var ErrBadSpec = errors.New("unknown backend")

// ErrPluginInit is returned (wrapped) when a PJRT plugin was found but could not be initialised (a broken or
// incompatible file: go-xla panics on some, e.g. one whose GetPjrtApi returns no API).
var ErrPluginInit = errors.New("the PJRT plugin could not be initialised")

func init() {
	// Belt and braces: even if something calls go-xla directly, it must not download plugins.
	_ = os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
}

// Spec returns the backend string to use: flag if non-empty, else $GOMLX_BACKEND, else Default.
func Spec(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(EnvVar); env != "" {
		return env
	}
	return Default
}

// Parsed is a backend specification split into its parts.
type Parsed struct {
	Name    string // "go" or "xla"
	Plugin  string // for xla: "cpu", "cuda", another name, or an absolute path; "" means any
	Options string // comma-separated options, passed through
}

// Parse splits "name[:plugin][,opt,...]". The go backend takes options directly after the colon.
func Parse(spec string) (Parsed, error) {
	name, rest, _ := strings.Cut(spec, ":")
	switch name {
	case Auto:
		if rest != "" {
			break
		}
		return Parsed{Name: Auto}, nil
	case "go":
		return Parsed{Name: "go", Options: rest}, nil
	case "xla", "stablehlo":
		plugin, opts, _ := strings.Cut(rest, ",")
		return Parsed{Name: "xla", Plugin: plugin, Options: opts}, nil
	}
	return Parsed{}, fmt.Errorf("%w %q: use \"auto\" (the default), \"go\", \"xla\", \"xla:cpu\", \"xla:cuda\" or \"xla:/abs/path/to/plugin.so\"", ErrBadSpec, spec)
}

// New creates the backend named by spec (see Spec and Open).
func New(spec string) (compute.Backend, error) {
	b, _, err := Open(spec)
	return b, err
}

// Open creates the backend named by spec and returns it with the specification it resolved to: spec itself,
// or for "auto" the first that works of "xla:cuda" (a CUDA plugin and an NVIDIA driver: the plugin must
// initialise), "xla:cpu" (a CPU plugin that reports a usable PJRT API version) and "go". Open never panics: a
// panic inside GoMLX or go-xla while creating the backend comes back as an error.
func Open(spec string) (compute.Backend, string, error) {
	p, err := Parse(spec)
	if err != nil {
		return nil, spec, err
	}
	if p.Name != Auto {
		b, err := open(spec, p)
		return b, spec, err
	}
	for _, cand := range autoCandidates() {
		cp, _ := Parse(cand)
		if b, err := open(cand, cp); err == nil {
			return b, cand, nil
		}
	}
	b, err := open("go", Parsed{Name: "go"})
	return b, "go", err
}

// autoCandidates lists the XLA backends worth trying for "auto", best first: those whose plugin is found (and,
// for CUDA, where an NVIDIA driver is present; without one the CUDA plugin cannot initialise and trying costs
// seconds).
func autoCandidates() []string {
	if !XLACompiled {
		return nil
	}
	var out []string
	if _, err := findPlugin("cuda"); err == nil && nvidiaDriver() {
		out = append(out, "xla:cuda")
	}
	if _, err := findPlugin("cpu"); err == nil {
		out = append(out, "xla:cpu")
	}
	return out
}

// nvidiaDriver reports whether an NVIDIA kernel driver is loaded (the device files or its /proc entry).
func nvidiaDriver() bool {
	for _, f := range []string{"/dev/nvidiactl", "/proc/driver/nvidia/version"} {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

// open creates the backend of a parsed, non-auto spec.
func open(spec string, p Parsed) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend %q: %w (%v); check the plugin with scripts/gpu-check.sh preflight, or use --backend go", spec, ErrPluginInit, r)
		}
	}()
	switch p.Name {
	case "go":
		return newGo(goOptions(p.Options))
	default:
		return newXLA(p)
	}
}

// goOptions sets the Go backend's execution mode unless the options choose one: ops run concurrently
// (ops_parallel) on an unbounded worker pool (parallelism=-1).
//
// Why unbounded: in compute v0.1.2 the executor runs every op as a task of the worker pool, and a large
// DotGeneral inside such a task fans out with Pool.Saturate, which waits for a free pool slot before starting
// any worker. With a bounded pool, once every slot holds a DotGeneral waiting in Saturate nobody frees one:
// we saw a SimCLR CNN step hang for 9 minutes with four DotGenerals in Saturate and the executor in
// WaitToStart. With an unbounded pool, WaitToStart starts each op at once and Saturate starts up to GOMAXPROCS
// workers of its own without waiting, so that wait cannot arise; the Go scheduler shares the cores. Measured on
// 2 AMD EPYC cores: the small CNN step at 2N = 256 takes 170 ms this way against 353 ms with ops_sequential
// (the guard used before), the MLP step the same 17 ms.
//
// ops_parallel given without parallelism gets parallelism=-1 too; ops_sequential or an explicit parallelism
// are left as given (an explicit bounded parallelism can reach that deadlock: nothing in the graphs orders the
// products any more).
func goOptions(opts string) string {
	has := func(o string) bool {
		for _, p := range strings.Split(opts, ",") {
			if p == o || strings.HasPrefix(p, o+"=") {
				return true
			}
		}
		return false
	}
	add := func(o string) {
		if opts == "" {
			opts = o
		} else {
			opts += "," + o
		}
	}
	if has("ops_sequential") {
		return opts
	}
	if !has("ops_parallel") {
		add("ops_parallel")
	}
	if !has("parallelism") {
		add("parallelism=-1")
	}
	return opts
}

// newGo creates the Go backend. compute v0.1.2 prints "Go backend: parallelism set to N" on standard output
// when the option is given, which would corrupt our --json outputs; the line is discarded.
func newGo(opts string) (compute.Backend, error) {
	if strings.Contains(opts, "parallelism=") {
		if null, err := os.Open(os.DevNull); err == nil {
			saved := os.Stdout
			os.Stdout = null
			defer func() { os.Stdout = saved; null.Close() }()
		}
	}
	return compute.NewWithConfig("go:" + opts)
}

// Describe returns a one-line description of b and its devices.
func Describe(b compute.Backend) string {
	devs := make([]string, b.NumDevices())
	for i := range devs {
		devs[i] = b.DeviceDescription(compute.DeviceNum(i))
	}
	return fmt.Sprintf("%s [%s]", b.Description(), strings.Join(devs, "; "))
}

// Resolve returns what spec stands for: spec itself, or for "auto" the backend Open would choose.
func Resolve(spec string) (string, error) {
	if p, err := Parse(spec); err != nil || p.Name != Auto {
		return spec, err
	}
	b, resolved, err := Open(spec)
	if err == nil {
		b.Finalize()
	}
	return resolved, err
}

// IsGo reports whether b is GoMLX's pure-Go backend (one device, no collectives, no XLA compiler).
func IsGo(b compute.Backend) bool { return strings.HasPrefix(strings.ToLower(b.Name()), "go") }
