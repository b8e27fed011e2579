package experiments

import (
	"cmp"
	"fmt"
	"github.com/gosimclr/gosimclr/internal/hostmath"
	"maps"
	"runtime"
	"slices"
	"strings"
)

// cellBuild is the build and host that ran one cell of a sweep: a sweep's cells come from several sittings,
// builds and hosts, while config.json holds only the last sitting's. Cells stored before cells recorded it have
// it empty (or only the commit): the summary says so and nothing is filled in for them.
type cellBuild struct {
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go_version,omitempty"`
	CPU       string `json:"cpu,omitempty"` // the host's CPU model (/proc/cpuinfo)
}

// thisBuild is the build and host of this process.
func thisBuild() cellBuild {
	return cellBuild{Commit: gitCommit(), GoVersion: runtime.Version(), CPU: cpuModel()}
}

// String names the build as a summary prints it.
func (b cellBuild) String() string {
	switch {
	case b == cellBuild{}:
		return "a build not recorded (cells stored before cells recorded their build)"
	case b.GoVersion == "" && b.CPU == "":
		return fmt.Sprintf("commit %s (Go version and CPU not recorded)", b.Commit)
	}
	return fmt.Sprintf("commit %s, %s, %s", b.Commit, b.GoVersion, b.CPU)
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
