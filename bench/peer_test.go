package bench

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPeer runs Peer against a stand-in "python" (a shell script) that answers like peer_pytorch.py: the
// probe first, then one line per case; checks what is asked, the results and the ratios; and that a peer
// that fails comes back as an error naming it.
func TestPeer(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "python")
	script := `#!/bin/sh
echo "$@" >> ` + filepath.Join(dir, "calls") + `
case "$*" in
*--probe*) echo '{"probe":"matmul1024","gflops":42.5,"torch_version":"9.9","threads":2}' ;;
*"--workload loss"*"--latent 32"*) echo '{"ms_per_step":2.0,"min_ms":1.5,"max_ms":3.0,"steps":10,"samples_per_s":512000,"compile_ms":1}' ;;
*"--workload mlp"*) echo '{"ms_per_step":10.0,"min_ms":9,"max_ms":11,"steps":10,"samples_per_s":51200,"compile_ms":1}' ;;
*) echo "unexpected: $*" >&2; exit 3 ;;
esac
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []Case{LossCase(256, 32), DeepMLPCase(1, 256), AugmentCase(8)}
	probe, rs, err := Peer(fake, "print('peer')", cases, 10, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if probe.GFLOPs != 42.5 || probe.Sound() || probe.Version != "9.9" {
		t.Errorf("probe = %+v (sound %v), want 42.5 GFLOP/s, unsound", probe, probe.Sound())
	}
	if len(rs) != 2 || rs[0].Workload != "loss" || rs[0].MsPerStep != 2 || rs[0].LatentDim != 32 || rs[1].Workload != "mlp" || rs[1].Backend != "pytorch-cpu" {
		t.Fatalf("peer results %+v", rs)
	}
	calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
	if n := strings.Count(string(calls), "\n"); n != 3 || strings.Contains(string(calls), "augment") {
		t.Errorf("calls:\n%s", calls)
	}
	ours := []Result{{Workload: "loss", Backend: "go", Pairs: 256, LatentDim: 32, MsPerStep: 3},
		{Workload: "loss", Backend: "reference", Pairs: 256, LatentDim: 32, MsPerStep: 1},
		{Workload: "loss", Backend: "go", Pairs: 256, LatentDim: 128, MsPerStep: 5}}
	AddPeerRatios(ours, rs)
	if ours[0].RatioToPeer != 1.5 || ours[1].RatioToPeer != 0 || ours[2].RatioToPeer != 0 {
		t.Errorf("ratios %v %v %v, want 1.5, 0 (reference), 0 (no peer at k = 128)", ours[0].RatioToPeer, ours[1].RatioToPeer, ours[2].RatioToPeer)
	}
	if _, _, err := Peer(fake, "", []Case{CNNCase(4)}, 10, io.Discard); err == nil || !strings.Contains(err.Error(), "PyTorch peer") {
		t.Errorf("a failing peer gave %v", err)
	}
}
