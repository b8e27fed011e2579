package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchPeerFlags: bad --peer and --peer-python values exit with status 2 before anything is measured.
func TestBenchPeerFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--peer", "tensorflow"}, `unknown peer "tensorflow"`},
		{[]string{"--peer", "jax", "--peer-python", "/usr/bin/python3"}, "--peer-python: want NAME=PATH"},
		{[]string{"--peer", "jax", "--peer-python", "torch=/usr/bin/python3"}, `unknown peer "torch"`},
	} {
		out, code := simclr(t, nil, append([]string{"bench", "--workload", "loss"}, c.args...)...)
		if code != 2 || !strings.Contains(out, c.want) || strings.Contains(out, "on go…") {
			t.Errorf("%v: exit %d, want 2 and %q before measuring:\n%s", c.args, code, c.want, out)
		}
	}
}

// TestBenchTwoPeers runs simclr bench --peer pytorch,jax with stand-in Pythons (shell scripts answering like the
// peer scripts): every go result carries a ratio to each peer, both peers' results are printed, and a peer that
// fails is named while the other's ratios and all results are still printed, with exit status 1.
func TestBenchTwoPeers(t *testing.T) {
	dir := t.TempDir()
	fake := func(name, ms string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(`#!/bin/sh
case "$*" in
*--probe*) echo '{"probe":"matmul1024","gflops":100,"version":"1.0","threads":2}' ;;
*"--workload loss"*) echo '{"ms_per_step":`+ms+`,"min_ms":0.1,"max_ms":9,"steps":10,"samples_per_s":1,"compile_ms":1}' ;;
*) exit 3 ;;
esac
`), 0o755)
		return p
	}
	torch, jax := fake("torch", "0.5"), fake("jax", "0.25")
	broken := filepath.Join(dir, "broken")
	os.WriteFile(broken, []byte("#!/bin/sh\necho no jax here >&2\nexit 1\n"), 0o755)
	args := []string{"bench", "--workload", "loss", "--pairs", "8", "--steps", "10", "--no-reference", "--no-peak", "--json",
		"--peer", "pytorch,jax", "--peer-python", "pytorch=" + torch}

	results := func(out string) (ours, peers []map[string]any) {
		for _, l := range strings.Split(out, "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) != nil {
				continue
			}
			if strings.HasSuffix(m["backend"].(string), "-cpu") {
				peers = append(peers, m)
			} else {
				ours = append(ours, m)
			}
		}
		return
	}
	out, code := simclr(t, nil, append(args, "--peer-python", "jax="+jax)...)
	ours, peers := results(out)
	if code != 0 || len(ours) != 2 || len(peers) != 4 {
		t.Fatalf("exit %d, %d go and %d peer results:\n%s", code, len(ours), len(peers), out)
	}
	for _, r := range ours {
		ratios, _ := r["ratio_to_peer"].(map[string]any)
		ms := r["ms_per_step"].(float64)
		if ratios["pytorch"] != ms/0.5 || ratios["jax"] != ms/0.25 || r["ratio_to_pytorch"] != ms/0.5 {
			t.Errorf("go result %v: ratios %v, want ms/0.5 and ms/0.25", r, ratios)
		}
	}

	out, code = simclr(t, nil, append(args, "--peer-python", "jax="+broken)...)
	ours, peers = results(out)
	if code != 1 || len(ours) != 2 || len(peers) != 2 || !strings.Contains(out, "--peer jax:") || !strings.Contains(out, "no jax here") {
		t.Fatalf("broken jax: exit %d, %d go and %d peer results:\n%s", code, len(ours), len(peers), out)
	}
	if ratios, _ := ours[0]["ratio_to_peer"].(map[string]any); ratios["pytorch"] == nil || ratios["jax"] != nil {
		t.Errorf("broken jax: ratios %v", ratios)
	}
}
