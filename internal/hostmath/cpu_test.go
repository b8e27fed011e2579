package hostmath

import (
	"os"
	"strings"
	"testing"
)

// TestCPUModel: where /proc/cpuinfo names the model, CPUModel returns that name, trimmed, and it appears in the
// file after "model name"; elsewhere "unknown".
func TestCPUModel(t *testing.T) {
	got := CPUModel()
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil || !strings.Contains(string(b), "model name") {
		if got != "unknown" {
			t.Errorf("no model name in /proc/cpuinfo, got %q", got)
		}
		return
	}
	if got == "unknown" || got != strings.TrimSpace(got) || !strings.Contains(string(b), ": "+got) {
		t.Errorf("CPUModel() = %q, not a trimmed model name of /proc/cpuinfo", got)
	}
}
