package experiments

import (
	"cmp"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// cellBuild is the build and host that ran one cell of a sweep: a sweep's cells come from several sittings,
// builds and hosts, while config.json holds only the last sitting's. Cells stored before cells recorded it have
// it empty (or only the commit): the summary says so and nothing is filled in for them.
type cellBuild struct {
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go_version,omitempty"`
	CPU       string `json:"cpu,omitempty"` // the host's CPU model (/proc/cpuinfo)
	// Backend is the backend the cell ran on ("go", "xla:cpu", "xla:cuda"): "auto" (the default) picks XLA where a
	// plugin is installed, so config.json's flag alone does not say. Empty in cells stored before cells recorded it.
	Backend string `json:"backend,omitempty"`
}

// thisBuild is the build and host of this process, running on b.
func thisBuild(b compute.Backend) cellBuild {
	return cellBuild{Commit: gitCommit(), GoVersion: runtime.Version(), CPU: cpuModel(), Backend: backendLabel(b)}
}

// backendLabel names b as a cell records it: "go" for the pure-Go backend, else its name and the platform of its
// first device ("xla:cpu", "xla:cuda").
func backendLabel(b compute.Backend) string {
	if backend.IsGo(b) {
		return "go"
	}
	platform, _, _ := strings.Cut(b.DeviceDescription(0), ":")
	return strings.ToLower(b.Name()) + ":" + strings.ToLower(strings.TrimSpace(platform))
}

// String names the build as a summary prints it.
func (b cellBuild) String() string {
	switch {
	case b == cellBuild{}:
		return "a build not recorded (cells stored before cells recorded their build)"
	case b.GoVersion == "" && b.CPU == "":
		return fmt.Sprintf("commit %s (Go version, CPU and backend not recorded)", b.Commit)
	case b.Backend == "":
		return fmt.Sprintf("commit %s, %s, %s, backend not recorded", b.Commit, b.GoVersion, b.CPU)
	}
	return fmt.Sprintf("commit %s, %s, %s, backend %s", b.Commit, b.GoVersion, b.CPU, b.Backend)
}

// countBuilds counts the cells of each build, most cells first (ties by name).
func countBuilds(builds []cellBuild) []BuildCount {
	n := map[cellBuild]int{}
	for _, b := range builds {
		n[b]++
	}
	keys := slices.Collect(maps.Keys(n))
	slices.SortFunc(keys, func(a, b cellBuild) int { return cmp.Or(n[b]-n[a], strings.Compare(a.String(), b.String())) })
	var out []BuildCount
	for _, k := range keys {
		out = append(out, BuildCount{Build: k, Cells: n[k]})
	}
	return out
}

// cpuModel is the CPU model name of /proc/cpuinfo ("unknown" elsewhere).
func cpuModel() string { return hostmath.CPUModel() }
