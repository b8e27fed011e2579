package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var sigArgs = []string{"train", "--data", "clusters", "--model", "mlp", "--depth", "2", "--width", "64",
	"--steps", "100000", "--checkpoint-every", "1000", "--log-every", "5", "--eval=false", "--seed", "5"}

// startTraining starts a long training and waits until it has written metrics past step 1.
func startTraining(t *testing.T, dir string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append(sigArgs, "--out-dir", dir)...)
	cmd.Env = append(os.Environ(), "SIMCLR_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
		if strings.Count(string(b), "\n") >= 3 {
			return cmd, &out
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatalf("training did not start:\n%s", out.String())
	return nil, nil
}

func exitCodeOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestSignals is the signal part of the checkpoint issue's point 3: SIGINT and SIGTERM finish the step, write
// a checkpoint and exit 130 and 143 saying how to resume; a second SIGINT exits at once.
func TestSignals(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		dir := t.TempDir()
		cmd, out := startTraining(t, dir)
		cmd.Process.Signal(c.sig)
		code := exitCodeOf(cmd.Wait())
		if code != c.code || !strings.Contains(out.String(), "simclr train --resume "+dir) {
			t.Errorf("%v: exit %d, want %d:\n%s", c.sig, code, c.code, out.String())
		}
		ckpts, _ := filepath.Glob(filepath.Join(dir, "ckpt-*.ckpt"))
		if len(ckpts) != 1 {
			t.Errorf("%v: checkpoints %v, want the one written on the signal", c.sig, ckpts)
		}
		if c.sig == syscall.SIGINT {
			// The run resumes from it (with fewer total steps it would be refused, so ask for a few more).
			b, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			last := strings.Split(lines[len(lines)-1], ",")[0]
			res, code := simclr(t, nil, "train", "--resume", dir, "--steps", "100000", "--dry-run")
			if code != 0 || !strings.Contains(res, `"resume": "`+dir) {
				t.Errorf("resume dry run after step %s: exit %d\n%s", last, code, res)
			}
		}
	}
	dir := t.TempDir()
	cmd, out := startTraining(t, dir)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCodeOf(cmd.Wait()); code != 130 {
		t.Errorf("double SIGINT: exit %d:\n%s", code, out.String())
	}
}
