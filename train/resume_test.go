package train

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/checkpoint"
)

// smallRun is a quick synthetic configuration with Adam state, augmentations (RNG) and several epochs.
func smallRun(dir string, steps int) Config {
	c := Defaults()
	c.Steps, c.OutDir, c.LogEvery, c.Width, c.BatchSize, c.PerCluster = steps, dir, 7, 32, 32, 24
	c.CheckpointEvery, c.KeepCheckpoints, c.Eval = 10, 10, false
	return c
}

func mustRun(t *testing.T, c Config) Summary {
	t.Helper()
	s, err := Run(c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readParams(t *testing.T, dir string) []checkpoint.Tensor {
	t.Helper()
	ts, err := checkpoint.Read(filepath.Join(dir, "params.ckpt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func readMetrics(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return dropSeconds(b)
}

func sameRun(t *testing.T, name, a, b string) {
	t.Helper()
	if !reflect.DeepEqual(readParams(t, a), readParams(t, b)) {
		t.Errorf("%s: final parameters differ from the uninterrupted run", name)
	}
	if ma, mb := readMetrics(t, a), readMetrics(t, b); ma != mb {
		t.Errorf("%s: metrics differ:\n%s\n---\n%s", name, ma, mb)
	}
}

// TestResumeExact is acceptance point 1 of the checkpoint issue: a run stopped at a step (here: one that ends
// at step 25, and one that "crashed" after step 40 with only its step-20 checkpoint left) and resumed ends
// with the same parameters and metrics.csv (apart from seconds) as an uninterrupted run.
func TestResumeExact(t *testing.T) {
	full := t.TempDir()
	mustRun(t, smallRun(full, 60))

	stopped := t.TempDir()
	mustRun(t, smallRun(stopped, 25))
	c := smallRun(stopped, 60)
	c.Resume = stopped
	mustRun(t, c)
	sameRun(t, "stopped at 25", full, stopped)

	crashed := t.TempDir()
	mustRun(t, smallRun(crashed, 60))
	for _, s := range []int{30, 40, 50, 60} {
		os.Remove(filepath.Join(crashed, ckptName(s)))
	}
	os.Remove(filepath.Join(crashed, "params.ckpt"))
	c = smallRun(crashed, 60)
	c.Resume = crashed
	mustRun(t, c)
	sameRun(t, "crashed after 60, resumed from 20", full, crashed)
}

// TestResumeExactWithSchedule: with a warm-up and cosine schedule, a run resumed from an early checkpoint
// ends as the uninterrupted one (each step's factor depends on the step alone), the schedule moves the
// parameters differently from a constant rate, and resuming with another --steps is refused (the cosine's
// factors depend on it).
func TestResumeExactWithSchedule(t *testing.T) {
	cosine := func(dir string) Config {
		c := smallRun(dir, 40)
		c.LRSchedule, c.Warmup = "cosine", 5
		return c
	}
	full := t.TempDir()
	mustRun(t, cosine(full))
	constant := t.TempDir()
	mustRun(t, smallRun(constant, 40))
	if reflect.DeepEqual(readParams(t, full), readParams(t, constant)) {
		t.Error("the cosine schedule gave the parameters of a constant learning rate")
	}
	crashed := t.TempDir()
	mustRun(t, cosine(crashed))
	for _, s := range []int{20, 30, 40} {
		os.Remove(filepath.Join(crashed, ckptName(s)))
	}
	os.Remove(filepath.Join(crashed, "params.ckpt"))
	c := cosine(crashed)
	c.Resume = crashed
	mustRun(t, c)
	sameRun(t, "cosine, resumed from 10", full, crashed)

	c.Steps = 60
	if _, err := Run(c, io.Discard); !IsUsage(err) || !strings.Contains(err.Error(), "--steps: 40 → 60") {
		t.Errorf("cosine run resumed with more steps: %v", err)
	}
}

// TestResumeCorruptFallsBack is acceptance point 4: one flipped byte in the newest checkpoint makes resume
// warn and use the previous one, and the run still ends as the uninterrupted one.
func TestResumeCorruptFallsBack(t *testing.T) {
	full := t.TempDir()
	mustRun(t, smallRun(full, 40))
	dir := t.TempDir()
	mustRun(t, smallRun(dir, 30))
	newest := filepath.Join(dir, ckptName(30))
	b, _ := os.ReadFile(newest)
	b[len(b)/2] ^= 1
	os.WriteFile(newest, b, 0o644)
	c := smallRun(dir, 40)
	c.Resume = dir
	var log bytes.Buffer
	if _, err := Run(c, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "warning: skipping") || !strings.Contains(log.String(), "checksum") ||
		!strings.Contains(log.String(), ckptName(20)) {
		t.Errorf("log lacks the warning and the fallback:\n%s", log.String())
	}
	sameRun(t, "corrupt newest", full, dir)
}

func TestResumeRefusals(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, smallRun(dir, 12))
	c := smallRun(dir, 30)
	c.Resume, c.Width, c.Temperature = dir, 64, 0.2
	_, err := Run(c, io.Discard)
	if !IsUsage(err) || !strings.Contains(err.Error(), "--width: 32 → 64") || !strings.Contains(err.Error(), "--temperature") {
		t.Errorf("changed model: %v", err)
	}
	c = smallRun(dir, 12)
	c.Resume = dir
	if _, err := Run(c, io.Discard); !IsUsage(err) || !strings.Contains(err.Error(), "already reached step 12") {
		t.Errorf("nothing left to do: %v", err)
	}
	// A finished cosine run cannot be extended: the message must not suggest a larger --steps, which
	// configDiff then refuses (issue 25, item 1).
	cos := t.TempDir()
	cc := smallRun(cos, 12)
	cc.LRSchedule = "cosine"
	mustRun(t, cc)
	cc.Resume = cos
	_, err = Run(cc, io.Discard)
	if !IsUsage(err) || strings.Contains(err.Error(), "pass --steps") || !strings.Contains(err.Error(), "cannot be extended") {
		t.Errorf("finished cosine run: %v", err)
	}
	cc.Steps = 20
	if _, err := Run(cc, io.Discard); !IsUsage(err) || !strings.Contains(err.Error(), "--steps: 12 → 20") {
		t.Errorf("finished cosine run, more steps: %v", err)
	}
	c.Resume, c.Steps = t.TempDir(), 30
	if _, err := Run(c, io.Discard); !errors.Is(err, errNoCheckpoint) {
		t.Errorf("empty directory: %v", err)
	}
	// A run stopped before its first checkpoint (a double Ctrl-C): both --resume and a plain rerun into the
	// folder name --overwrite, the way out (issue 25, item 13).
	stuck := t.TempDir()
	os.WriteFile(filepath.Join(stuck, "config.json"), []byte("{}\n"), 0o644)
	os.WriteFile(filepath.Join(stuck, "metrics.csv"), []byte(MetricsHeader+"\n"), 0o644)
	sc := smallRun(stuck, 5)
	sc.Resume = stuck
	if _, err := Run(sc, io.Discard); !errors.Is(err, errNoCheckpoint) || !strings.Contains(err.Error(), "--overwrite") {
		t.Errorf("--resume of a run without checkpoints: %v", err)
	}
	sc.Resume = ""
	if _, err := Run(sc, io.Discard); !IsUsage(err) || !strings.Contains(err.Error(), "--overwrite") || strings.Contains(err.Error(), "--resume") {
		t.Errorf("rerun into a run without checkpoints: %v", err)
	}
	sc.Overwrite = true
	mustRun(t, sc)
	// A checkpoint of another model: same directory, the checkpoint swapped for a different network's.
	other := t.TempDir()
	oc := smallRun(other, 10)
	oc.Width = 16
	mustRun(t, oc)
	os.Rename(filepath.Join(other, ckptName(10)), filepath.Join(dir, ckptName(13)))
	c = smallRun(dir, 30)
	c.Resume = dir
	if _, err := Run(c, io.Discard); !IsUsage(err) || !strings.Contains(err.Error(), "mixes two runs") {
		t.Errorf("checkpoint of another model: %v", err)
	}
}

// TestNaNGuard: with a learning rate that overflows, --on-nan stop ends at step 1 naming it, and --on-nan
// skip skips every step (counted in metrics.csv) and never writes non-finite parameters.
func TestNaNGuard(t *testing.T) {
	c := smallRun(t.TempDir(), 5)
	c.Optimizer, c.LR = "sgd", 1e39 // 1e39 overflows float32
	_, err := Run(c, io.Discard)
	var nan NaNError
	if !errors.As(err, &nan) || nan.Step != 1 || !strings.Contains(err.Error(), "step 1") {
		t.Fatalf("on-nan stop: %v", err)
	}
	c.OutDir, c.OnNaN = t.TempDir(), "skip"
	mustRun(t, c)
	m := readMetrics(t, c.OutDir)
	lines := strings.Split(m, "\n")
	if !strings.HasSuffix(lines[0], ",skipped_steps") || !strings.HasSuffix(lines[len(lines)-1], ",5") {
		t.Errorf("metrics:\n%s", m)
	}
	init := Defaults()
	_ = init
	for _, tsr := range readParams(t, c.OutDir) {
		for _, v := range tsr.F64 {
			if v != v || v > 1e30 || v < -1e30 {
				t.Fatalf("non-finite parameter written: %s", tsr.Name)
			}
		}
	}
}

// TestBadEnvironment: an output directory that cannot be created, and a full disk (a 64 KiB tmpfs, when
// this test may mount one), are errors that leave no corrupt file behind.
func TestBadEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	c := smallRun(filepath.Join(file, "run"), 5)
	if _, err := Run(c, io.Discard); err == nil || !strings.Contains(err.Error(), "output directory") {
		t.Errorf("out-dir under a file: %v", err)
	}

	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to simulate a full disk: %v %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	c = smallRun(mnt, 40)
	c.Width, c.CheckpointEvery = 256, 5 // ~10 KiB of parameters and 2 Adam moments per checkpoint
	_, err := Run(c, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("full disk: %v", err)
	}
	entries, _ := os.ReadDir(mnt)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
		if strings.HasSuffix(e.Name(), ckptSuffix) {
			if _, err := checkpoint.Read(filepath.Join(mnt, e.Name()), nil); err != nil {
				t.Errorf("corrupt checkpoint left: %v", err)
			}
		}
	}
}

// TestEvaluateRun: simclr eval --run DIR reproduces the end-of-run evaluation from the saved checkpoint.
func TestEvaluateRun(t *testing.T) {
	c := smallRun(t.TempDir(), 15)
	c.Eval = true
	sum := mustRun(t, c)
	rep, err := EvaluateRun(c.OutDir, "", EvalOptions{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, b := *sum.Eval, rep
	if a.RawKNNAccuracy == nil || b.RawKNNAccuracy == nil || *a.RawKNNAccuracy != *b.RawKNNAccuracy || *a.RawLinearAccuracy != *b.RawLinearAccuracy {
		t.Errorf("raw baselines differ: %v %v", a.RawKNNAccuracy, b.RawKNNAccuracy)
	}
	a.Seconds, b.Seconds, a.RawKNNAccuracy, b.RawKNNAccuracy, a.RawLinearAccuracy, b.RawLinearAccuracy = 0, 0, nil, nil, nil, nil
	a.RawCached, b.RawCached = false, false
	if a != b {
		t.Errorf("eval --run %+v differs from the run's own %+v", b, a)
	}
	// The options change what the evaluation does: another k, no raw baselines, an older checkpoint.
	var log strings.Builder
	o, err := EvaluateRun(c.OutDir, "", EvalOptions{KNNK: 5, NoRaw: true, Checkpoint: 10}, &log)
	if err != nil || o.K != 5 || o.RawKNNAccuracy != nil || !strings.Contains(log.String(), "step 10") ||
		!strings.Contains(log.String(), "features of") || !strings.Contains(log.String(), "probe on features") {
		t.Errorf("options: %+v, %v\n%s", o, err, log.String())
	}
	// eval.json names the checkpoint it evaluated (issue 25, item 12).
	if a.Checkpoint != ckptName(15) || a.Step != 15 || o.Checkpoint != ckptName(10) || o.Step != 10 {
		t.Errorf("evaluated checkpoints: run %q step %d, --checkpoint 10 %q step %d", a.Checkpoint, a.Step, o.Checkpoint, o.Step)
	}
	if b, err := os.ReadFile(filepath.Join(c.OutDir, "eval.json")); err != nil || !strings.Contains(string(b), `"checkpoint": "`+ckptName(10)+`"`) {
		t.Errorf("eval.json lacks its checkpoint: %s %v", b, err)
	}
	if _, err := EvaluateRun(c.OutDir, "", EvalOptions{Checkpoint: 7}, io.Discard); !IsUsage(err) {
		t.Errorf("a checkpoint that does not exist: %v", err)
	}
	if _, err := EvaluateRun(t.TempDir(), "", EvalOptions{}, io.Discard); !IsUsage(err) {
		t.Errorf("empty directory: %v", err)
	}
}
