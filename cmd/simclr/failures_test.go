package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFailureModes is the checkpoint issue's table of points 3–6 through the command line: each case's exit
// status and message. (Signals have their own test, TestSignals, since they need a running process.)
func TestFailureModes(t *testing.T) {
	quick := []string{"train", "--data", "clusters", "--width", "16", "--per-cluster", "16", "--batch-size", "16",
		"--eval=false", "--log-every", "5"}
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o644)

	// A finished run to resume from, with a checkpoint at step 10 and one at step 20.
	done := t.TempDir()
	if out, code := simclr(t, nil, append(quick, "--steps", "20", "--checkpoint-every", "10", "-o", done)...); code != 0 {
		t.Fatalf("setup run: %d\n%s", code, out)
	}
	corrupt := t.TempDir()
	exec.Command("cp", "-r", done+"/.", corrupt).Run()
	b, _ := os.ReadFile(filepath.Join(corrupt, "ckpt-000000020.ckpt"))
	b[len(b)/3] ^= 0x10
	os.WriteFile(filepath.Join(corrupt, "ckpt-000000020.ckpt"), b, 0o644)

	other := t.TempDir() // a checkpoint of another model dropped into a run directory
	simclr(t, nil, append(quick, "--steps", "10", "--width", "8", "-o", other)...)
	foreign := t.TempDir()
	exec.Command("cp", done+"/config.json", foreign).Run()
	exec.Command("cp", filepath.Join(other, "ckpt-000000010.ckpt"), foreign).Run()

	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"nan stop", append(quick, "--steps", "5", "--optimizer", "sgd", "--lr", "1e39", "-o", t.TempDir()), 1,
			[]string{"NaN/Inf at step 1", "--on-nan stop", "Last good checkpoint: none"}},
		{"nan skip", append(quick, "--steps", "5", "--optimizer", "sgd", "--lr", "1e39", "--on-nan", "skip", "-o", t.TempDir()), 0,
			[]string{"5 steps had a NaN/Inf loss or gradient and were skipped"}},
		{"unwritable output", append(quick, "--steps", "5", "-o", filepath.Join(file, "run")), 1,
			[]string{"output directory", "not a directory"}},
		{"checkpoint of another model", []string{"train", "--resume", foreign, "--steps", "30"}, 2,
			[]string{"checkpoints and its config.json disagree", "mixes two runs"}},
		{"changed model on resume", []string{"train", "--resume", done, "--steps", "30", "--depth", "1", "--activation", "tanh"}, 2,
			[]string{"--activation: relu → tanh", "would change it"}},
		{"corrupt newest checkpoint", []string{"train", "--resume", corrupt, "--steps", "25"}, 0,
			[]string{"warning: skipping", "checksum mismatch", "resuming from", "ckpt-000000010.ckpt"}},
		{"nothing to resume", []string{"train", "--resume", t.TempDir()}, 2, []string{"config.json"}},
	} {
		out, code := simclr(t, nil, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, code, c.code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, w, out)
			}
		}
		if strings.Contains(out, "panic") {
			t.Errorf("%s: panicked:\n%s", c.name, out)
		}
	}
}
