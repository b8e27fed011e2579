package train

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/checkpoint"
)

// probeRun is smallRun with the online probe on (the points are labelled by their cluster).
func probeRun(dir string, steps int) Config {
	c := smallRun(dir, steps)
	c.OnlineProbe, c.LogEvery, c.OnlineProbeLR = "true", 5, 0.05
	return c
}

// TestOnlineProbeRun: a short run on four clusters writes online_acc on every logged row, in [0, 1], rising
// from 0 (the zero probe) to above 0.9, and reports the last step's in its summary; turned off, the column
// is absent and the encoder's run is the same.
func TestOnlineProbeRun(t *testing.T) {
	dir := t.TempDir()
	var log strings.Builder
	sum, err := Run(probeRun(dir, 60), &log)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(readMetrics(t, dir)), "\n")
	head := strings.Split(rows[0], ",")
	col := slices.Index(head, "online_acc")
	if col < 0 {
		t.Fatalf("no online_acc column: %s", rows[0])
	}
	var accs []float64
	for _, row := range rows[1:] {
		v, err := strconv.ParseFloat(strings.Split(row, ",")[col], 64)
		if err != nil || v < 0 || v > 1 {
			t.Fatalf("online_acc %q (%v) in row %s", strings.Split(row, ",")[col], err, row)
		}
		accs = append(accs, v)
	}
	if len(accs) != 13 || accs[0] != 0 || accs[len(accs)-1] < 0.9 || sum.OnlineAcc != accs[len(accs)-1] {
		t.Errorf("online_acc per logged step %v, summary %v: want 13 rows from 0 (step 1) to > 0.9, the last in the summary", accs, sum.OnlineAcc)
	}
	if !strings.Contains(log.String(), "online probe accuracy") {
		t.Errorf("the summary does not print the online accuracy:\n%s", log.String())
	}
	plain := t.TempDir()
	c := probeRun(plain, 60)
	c.OnlineProbe = "false"
	mustRun(t, c)
	if m := readMetrics(t, plain); strings.Contains(m, "online_acc") {
		t.Errorf("--online-probe=false wrote the column")
	}
	if !sameTensors(readParams(t, dir), readParams(t, plain)) {
		t.Errorf("the encoder's final parameters differ with and without the probe")
	}
}

// TestOnlineProbeResumeExact: with the probe, a run stopped at step 25 (and one that lost its newest
// checkpoints) and resumed ends as the uninterrupted run: the same parameters, metrics.csv (online_acc
// included) and last checkpoint, probe included, bit for bit. The checkpoint holds the probe after the
// encoder's tensors, which evaluation and export read alone (checkpointParams).
func TestOnlineProbeResumeExact(t *testing.T) {
	full := t.TempDir()
	mustRun(t, probeRun(full, 40))
	stopped := t.TempDir()
	mustRun(t, probeRun(stopped, 25))
	c := probeRun(stopped, 40)
	c.Resume = stopped
	mustRun(t, c)
	sameRun(t, "probe, stopped at 25", full, stopped)
	crashed := t.TempDir()
	mustRun(t, probeRun(crashed, 40))
	for _, s := range []int{30, 40} {
		os.Remove(filepath.Join(crashed, ckptName(s)))
	}
	c = probeRun(crashed, 40)
	c.Resume = crashed
	mustRun(t, c)
	sameRun(t, "probe, resumed from 20", full, crashed)

	var names []string
	a, err := checkpoint.Read(filepath.Join(full, ckptName(40)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{stopped, crashed} {
		b, err := checkpoint.Read(filepath.Join(dir, ckptName(40)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !sameTensors(a, b) {
			t.Errorf("%s: the last checkpoint differs from the uninterrupted run's", dir)
		}
	}
	for _, ts := range a {
		names = append(names, ts.Name)
	}
	if !slices.Contains(names, "probe/w") || !slices.Contains(names, "probe/adam/m/b") {
		t.Errorf("the checkpoint does not hold the probe: %v", names)
	}
	s, err := Open(probeRun(t.TempDir(), 40))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := checkpointParams(s.Model, s.DType, a)
	if err != nil || len(ps) != len(s.Model.Params()) {
		t.Errorf("the encoder's parameters of a checkpoint with the probe: %d tensors, %v", len(ps), err)
	}
}

// TestOnlineProbeOldCheckpoint: a run whose checkpoint was written before the probe existed (no
// "online-probe" in its settings, no probe tensors) resumes with the probe asked for, continues without it
// with a note, and ends as the uninterrupted run without the probe.
func TestOnlineProbeOldCheckpoint(t *testing.T) {
	full := t.TempDir()
	c := probeRun(full, 30)
	c.OnlineProbe = "false"
	mustRun(t, c)
	old := t.TempDir()
	c.OutDir, c.Steps = old, 20
	mustRun(t, c)
	path := filepath.Join(old, ckptName(20))
	var meta map[string]any
	ts, err := checkpoint.Read(path, &meta)
	if err != nil {
		t.Fatal(err)
	}
	cfg := meta["config"].(map[string]any)
	delete(cfg, "online-probe")
	delete(cfg, "online-probe-lr")
	if err := checkpoint.Write(path, meta, ts); err != nil {
		t.Fatal(err)
	}
	c = probeRun(old, 30) // the probe asked for
	c.Resume = old
	var log strings.Builder
	if _, err := Run(c, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "before the online probe existed") {
		t.Errorf("no note:\n%s", log.String())
	}
	sameRun(t, "a checkpoint from before the probe", full, old)
}

// TestOnlineProbeUnlabelled: on image data with a single class the probe, on by default for images, is
// turned off with a note, and config.json says so.
func TestOnlineProbeUnlabelled(t *testing.T) {
	root := filepath.Join(t.TempDir(), "one")
	os.MkdirAll(root, 0o755)
	for i := range 12 {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		img.Pix[i] = 255
		f, err := os.Create(filepath.Join(root, strconv.Itoa(i)+".png"))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, img)
		f.Close()
	}
	var log strings.Builder
	c := smallRun(t.TempDir(), 1)
	c.Data, c.BatchSize, c.Model, c.HeadDim = "folder:"+filepath.Dir(root), 4, "mlp", 0
	if _, err := Run(c, &log); err != nil {
		t.Fatal(err)
	}
	rec, err := ReadRunRecord(filepath.Join(c.OutDir, "config.json"), Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "no class labels: --online-probe is ignored") || rec.OnlineProbe != "false" ||
		strings.Contains(readMetrics(t, c.OutDir), "online_acc") {
		t.Errorf("config.json online-probe %q, log:\n%s", rec.OnlineProbe, log.String())
	}
}

// TestOnlineProbeSettings: auto resolves by kind of data; a bad value or learning rate is a usage error
// naming the flag.
func TestOnlineProbeSettings(t *testing.T) {
	for data, want := range map[string]string{"clusters": "false", "disks": "false", "mnist": "true", "cifar10": "true"} {
		c := Defaults()
		c.Data = data
		if got := c.Resolve().OnlineProbe; got != want {
			t.Errorf("--data %s: online-probe auto resolves to %q, want %q", data, got, want)
		}
	}
	for _, mod := range []func(*Config){
		func(c *Config) { c.OnlineProbe = "yes" },
		func(c *Config) { c.OnlineProbeLR = 0 },
		func(c *Config) { c.OnlineProbeLR = math.NaN() },
	} {
		c := Defaults()
		mod(&c)
		if err := c.Validate(); !IsUsage(err) || !strings.Contains(err.Error(), "--online-probe") {
			t.Errorf("%+v: %v, want a usage error naming --online-probe", c.OnlineProbe, err)
		}
	}
}
