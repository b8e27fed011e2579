package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSweepFlagErrors checks that bad --sweep flags exit with status 2 and a message naming the flag,
// before anything is measured.
func TestBenchSweepFlagErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"not a number", []string{"--sweep", "--sweep-pairs", "0,abc"}, "--sweep-pairs"},
		{"zero", []string{"--sweep", "--sweep-pairs", "0,128"}, "--sweep-pairs: sizes must be ≥ 1, got 0"},
		{"negative width", []string{"--sweep", "--sweep-widths", "-4"}, "--sweep-widths: sizes must be ≥ 1"},
		{"empty", []string{"--sweep", "--sweep-depths", ""}, `invalid argument "" for "--sweep-depths"`},
		{"without --sweep", []string{"--sweep-pairs", "128"}, "--sweep-pairs needs --sweep"},
		{"no sweep for cnn", []string{"--sweep", "--workload", "loss,cnn"}, `no sweep for workload "cnn"`},
		{"--pairs", []string{"--sweep", "--pairs", "64"}, "--pairs does not apply to --sweep"},
		{"few steps", []string{"--sweep", "--steps", "3"}, "--steps must be ≥ 10"},
		{"bad backend", []string{"--sweep", "--backend", "tpu"}, "unknown backend"},
	} {
		args := append([]string{"bench", "--out", out}, c.args...)
		if c.name == "without --sweep" {
			args = append([]string{"bench"}, c.args...)
		}
		o, code := simclr(t, nil, args...)
		if code != 2 || !strings.Contains(o, c.want) || strings.Contains(o, "panic") {
			t.Errorf("%s: exit %d, want 2 and %q:\n%s", c.name, code, c.want, o)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was created by a failing command", out)
	}
}
