package bench

import (
	"encoding/json"
	"fmt"
	"github.com/gosimclr/gosimclr/internal/hostmath"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gosimclr/gosimclr/backend"
)

// Machine describes where a benchmark ran.
type Machine struct {
	CPU         string   `json:"cpu"`
	Cores       int      `json:"cores"`
	GoVersion   string   `json:"go_version"`
	GOARCH      string   `json:"goarch"`
	SIMD        bool     `json:"simd"` // built with GOEXPERIMENT=simd
	Backends    []string `json:"backends"`
	Date        string   `json:"date"`
	GitCommit   string   `json:"git_commit,omitempty"`
	Hostname    string   `json:"hostname,omitempty"`
	Accelerator string   `json:"accelerator,omitempty"`
}

// ThisMachine describes the machine running this process.
func ThisMachine(backends []string) Machine {
	host, _ := os.Hostname()
	m := Machine{CPU: CPUModel(), Cores: runtime.NumCPU(), GoVersion: runtime.Version(), GOARCH: runtime.GOARCH,
		SIMD: backend.SIMD, Backends: backends, Date: time.Now().UTC().Format(time.RFC3339), Hostname: host}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				m.GitCommit = s.Value
			}
		}
	}
	return m
}

// CPUModel reads the CPU model name from /proc/cpuinfo ("unknown" elsewhere).
func CPUModel() string { return hostmath.CPUModel() }

// Saved is the file format of bench/results/*.json.
type Saved struct {
	Machine Machine  `json:"machine"`
	Results []Result `json:"results"`
}

// Save writes the machine description and results to path as indented JSON.
func Save(path string, backends []string, rs []Result) error {
	b, err := json.MarshalIndent(Saved{Machine: ThisMachine(backends), Results: rs}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("bench: save: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: save: %w", err)
	}
	return nil
}

// Load reads a file written by Save.
func Load(path string) (Saved, error) {
	var s Saved
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		return s, fmt.Errorf("bench: %s: %w", path, err)
	}
	return s, nil
}

// Report renders saved runs as markdown: per file, the machine described, then its results table.
func Report(runs []Saved, names []string) string {
	var sb strings.Builder
	for i, s := range runs {
		m := s.Machine
		fmt.Fprintf(&sb, "### %s\n\n%s, %d cores, %s %s, GOEXPERIMENT=simd: %v, backends %s, %s",
			names[i], m.CPU, m.Cores, m.GoVersion, m.GOARCH, m.SIMD, strings.Join(m.Backends, ", "), m.Date)
		if m.Accelerator != "" {
			fmt.Fprintf(&sb, ", accelerator %s", m.Accelerator)
		}
		if m.GitCommit != "" {
			fmt.Fprintf(&sb, ", commit %s", m.GitCommit)
		}
		sb.WriteString("\n\n" + Table(s.Results) + "\n")
	}
	return sb.String()
}
