package hostmath

import (
	"bufio"
	"os"
	"strings"
)

// CPUModel reads the CPU model name from /proc/cpuinfo ("unknown" elsewhere): the host type every timing names.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
