// Package backendtest runs a package's numeric tests on every backend present: the pure-Go backend always,
// and XLA on the CPU where its PJRT plugin is installed (simclr plugin install cpu), so that every graph is
// checked against the reference on both. With $GOMLX_BACKEND set, only that backend runs (the GPU check sets
// xla:cuda).
package backendtest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/backend"
)

// InstallHint is the line printed when the XLA pass is skipped.
const InstallHint = "no XLA CPU plugin: the xla:cpu pass is skipped (install it with: go run ./cmd/simclr plugin install cpu)"

// Specs returns the backends to test: $GOMLX_BACKEND alone where set, else "go" and, when an XLA CPU plugin
// is found, "xla:cpu"; and, when that plugin is missing, the line that says so.
func Specs() (specs []string, skipped string) {
	if env := os.Getenv(backend.EnvVar); env != "" {
		return []string{env}, ""
	}
	specs = []string{"go"}
	if b, err := backend.New("xla:cpu"); err == nil {
		b.Finalize()
		specs = append(specs, "xla:cpu")
	} else {
		skipped = InstallHint
		if !strings.Contains(err.Error(), "no usable PJRT plugin") {
			skipped = fmt.Sprintf("the XLA CPU plugin did not load, the xla:cpu pass is skipped: %v", err)
		}
	}
	return specs, skipped
}

// current and currentBackend are the backend of the pass under way.
var (
	current        string
	currentBackend compute.Backend
)

// Backend returns the backend of the pass under way (nil outside Main): for tests of an external test package,
// which shares its package's TestMain.
func Backend() compute.Backend { return currentBackend }

// Current returns the spec of the backend whose pass is running ("" outside Main).
func Current() string { return current }

// XLA reports whether the pass under way runs on XLA, where every graph is compiled (~0.1 s each on 2 CPU
// cores): tests with large grids of graphs thin them there (and say so in their doc comment).
func XLA() bool { return strings.HasPrefix(current, "xla") }

// Main runs m's tests once per backend of Specs, calling set with the backend before its pass, and returns
// the first non-zero exit code (for os.Exit). Each pass starts with a line naming its backend (seen with
// go test -v); a missing plugin is one line. only, when non-empty, is a -test.run pattern that limits the
// passes after the first to the tests worth repeating on another backend.
func Main(m *testing.M, set func(b compute.Backend, spec string), only string) int {
	specs, skipped := Specs()
	code := 0
	for i, spec := range specs {
		b, err := backend.New(spec)
		if err != nil {
			fmt.Fprintf(os.Stderr, "backendtest: %v\n", err)
			return 1
		}
		if i > 0 && only != "" && isSet("test.run") == "" {
			if err := setFlag("test.run", only); err != nil {
				fmt.Fprintf(os.Stderr, "backendtest: %v\n", err)
				return 1
			}
		}
		current, currentBackend = spec, b
		set(b, spec)
		fmt.Printf("=== backend %s: %s\n", spec, b.Description())
		if c := m.Run(); c != 0 && code == 0 {
			code = c
		}
		b.Finalize()
	}
	if skipped != "" {
		fmt.Println("=== backend xla:cpu skipped: " + skipped)
	}
	current, currentBackend = "", nil
	return code
}
