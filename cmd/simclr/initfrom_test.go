package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitFromCommandLine: --init-from through the command line: a run started from another run's export
// records it in config.json and repeats with --config; --init-from with --resume, a bad file and a file
// changed since the config recorded it are usage errors (exit 2, one line); a resumed init-from run continues.
func TestInitFromCommandLine(t *testing.T) {
	quick := []string{"train", "--data", "clusters", "--width", "16", "--per-cluster", "16", "--batch-size", "16",
		"--eval=false", "--log-every", "5", "--steps", "5"}
	src, dst := t.TempDir(), t.TempDir()
	if out, code := simclr(t, nil, append(quick, "-o", src)...); code != 0 {
		t.Fatalf("source run: %d\n%s", code, out)
	}
	enc := filepath.Join(t.TempDir(), "enc.safetensors")
	if out, code := simclr(t, nil, "export", "--run", src, "--format", "safetensors", "--out", enc); code != 0 {
		t.Fatalf("export: %d\n%s", code, out)
	}
	out, code := simclr(t, nil, append(quick, "--seed", "5", "--init-from", enc, "-o", dst)...)
	if code != 0 || !strings.Contains(out, "initial weights from "+enc) {
		t.Fatalf("init-from run: %d\n%s", code, out)
	}
	cfg, _ := os.ReadFile(filepath.Join(dst, "config.json"))
	if !strings.Contains(string(cfg), `"init-from": {`) || !strings.Contains(string(cfg), `"sha256": "`) {
		t.Errorf("config.json lacks init-from with its sha256:\n%s", cfg)
	}
	if out, code := simclr(t, nil, "train", "--config", filepath.Join(dst, "config.json"), "-o", t.TempDir()); code != 0 || !strings.Contains(out, "initial weights from "+enc) {
		t.Errorf("repeat with --config: %d\n%s", code, out)
	}
	if out, code := simclr(t, nil, "train", "--resume", dst, "--steps", "8"); code != 0 || !strings.Contains(out, "resuming from") || strings.Contains(out, "initial weights") {
		t.Errorf("resume an init-from run: %d\n%s", code, out)
	}
	os.WriteFile(enc, []byte("changed"), 0o644)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"with --resume", []string{"train", "--resume", dst, "--steps", "9", "--init-from", src}, "--init-from cannot be used with --resume"},
		{"bad file", append(quick, "--init-from", enc, "-o", t.TempDir()), "not a checkpoint, .npz or safetensors file"},
		{"changed since", []string{"train", "--config", filepath.Join(dst, "config.json"), "-o", t.TempDir()}, "the file changed since"},
		{"shape", append(quick, "--width", "8", "--init-from", src, "-o", t.TempDir()), "hidden_0/weights has shape [2 16] there, this model's is [2 8]"},
	} {
		out, code := simclr(t, nil, c.args...)
		if code != 2 || !strings.Contains(out, c.want) || strings.Count(strings.TrimSpace(out), "\n") > 0 {
			t.Errorf("%s: exit %d, want 2 and one line saying %q:\n%s", c.name, code, c.want, out)
		}
	}
}
