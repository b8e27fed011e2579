package train

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/checkpoint"
	"gonum.org/v1/plot/plotter"
)

func ckpts(t *testing.T, dir string) []string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, ckptPrefix+"*"+ckptSuffix))
	for i, p := range paths {
		paths[i] = filepath.Base(p)
	}
	slices.Sort(paths)
	return paths
}

// TestRunsDoNotMix is the run-folder issue's sequence: a one-hidden-layer run of 300 steps with checkpoints
// every 50, then a 2-layer MLP run of 100 steps into the same folder. The second is refused (naming --resume
// and --overwrite) and the first left whole; with --overwrite the second replaces the first's files and keeps
// its own checkpoints.
func TestRunsDoNotMix(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "notes.txt") // not a run file: never touched
	os.WriteFile(keep, []byte("mine"), 0o644)
	first := smallRun(dir, 300)
	first.Model, first.CheckpointEvery, first.KeepCheckpoints = "onehidden", 50, 3
	mustRun(t, first)
	before := readMetrics(t, dir)
	if got := ckpts(t, dir); !slices.Equal(got, []string{ckptName(200), ckptName(250), ckptName(300)}) {
		t.Fatalf("first run's checkpoints %v", got)
	}
	second := smallRun(dir, 100)
	second.Model, second.Depth, second.Seed, second.CheckpointEvery, second.KeepCheckpoints = "mlp", 2, 5, 50, 3
	_, err := Run(second, io.Discard)
	if !IsUsage(err) || !strings.Contains(err.Error(), "holds a run already") || !strings.Contains(err.Error(), "--resume") ||
		!strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("second run into the same folder: %v", err)
	}
	if readMetrics(t, dir) != before || len(ckpts(t, dir)) != 3 {
		t.Fatal("the refused run changed the first run's files")
	}
	second.Overwrite = true
	mustRun(t, second)
	if got := ckpts(t, dir); !slices.Equal(got, []string{ckptName(50), ckptName(100)}) {
		t.Errorf("after --overwrite the checkpoints are %v, want the second run's 50 and 100", got)
	}
	rec, err := ReadRunRecord(filepath.Join(dir, "config.json"), Defaults())
	if err != nil || rec.Model != "mlp" || rec.Depth != 2 {
		t.Errorf("config.json after --overwrite: %+v, %v", rec.Config, err)
	}
	for _, n := range ckpts(t, dir) {
		var m ckptMeta
		if _, err := checkpoint.Read(filepath.Join(dir, n), &m); err != nil || m.RunID != rec.Environment.RunID {
			t.Errorf("%s: run %q, config.json's %q (%v)", n, m.RunID, rec.Environment.RunID, err)
		}
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Errorf("--overwrite touched a file that is not the run's: %q %v", b, err)
	}
}

// TestOverwriteRemovesExports: simclr export and embed write into the run folder by default (embed did write
// ./features.npy, where one run's features overwrote another's), and --overwrite removes those files with the
// rest of the old run (issue 25, items 2 and 4).
func TestOverwriteRemovesExports(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, smallRun(dir, 3))
	for _, f := range ExportFormats {
		if _, err := ExportRun(dir, 0, f, "", io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	if err := EmbedRun(dir, 0, "test", "", "", io.Discard); err != nil {
		t.Fatal(err)
	}
	exports := []string{"encoder.npz", "encoder.safetensors", "features.npy", "features.labels.npy"}
	for _, n := range exports {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("export or embed did not write %s into the run: %v", n, err)
		}
	}
	c := smallRun(dir, 2)
	c.Overwrite = true
	mustRun(t, c)
	for _, n := range exports {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("--overwrite left the old run's %s", n)
		}
	}
}

// TestRunFileModes: every file a run writes is 0644, those written atomically (config.json, the checkpoints)
// included, which were 0600 beside a 0644 metrics.csv (issue 25, item 7).
func TestRunFileModes(t *testing.T) {
	dir := t.TempDir()
	c := smallRun(dir, 12)
	c.CheckpointEvery = 5
	mustRun(t, c)
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) < 4 {
		t.Fatalf("%d files, %v", len(entries), err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want -rw-r--r-- (%v)", e.Name(), fi.Mode(), err)
		}
	}
}

// TestPruneKeepsOnlyThisRun: with a stale, higher-numbered checkpoint of another run in the folder, pruning
// keeps this run's newest keep checkpoints and leaves the stale one alone.
func TestPruneKeepsOnlyThisRun(t *testing.T) {
	dir := t.TempDir()
	_, st := openStepper(t, smallRun(dir, 10))
	if err := saveCheckpoint(dir, st, ckptMeta{Step: 999, RunID: "other"}, 3); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int{10, 20, 30, 40, 50} {
		if err := saveCheckpoint(dir, st, ckptMeta{Step: step, RunID: "this"}, 3); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := ckpts(t, dir), []string{ckptName(30), ckptName(40), ckptName(50), ckptName(999)}; !slices.Equal(got, want) {
		t.Errorf("checkpoints %v, want %v", got, want)
	}
}

// TestConfigRoundTrip: a run's config.json is a valid --config; the run it describes, started again into
// another folder, writes the same metrics.csv (seconds aside) and the same parameters.
func TestConfigRoundTrip(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	c := smallRun(a, 20)
	c.Activation, c.Kernel, c.Augment = arch.Tanh, "gaussian", "noise:0.05,shift:0.5"
	mustRun(t, c)
	rec, err := ReadRunRecord(filepath.Join(a, "config.json"), Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Environment.RunID == "" || rec.Environment.GoVersion == "" {
		t.Errorf("environment not recorded: %+v", rec.Environment)
	}
	again := rec.Config
	again.OutDir = b
	mustRun(t, again)
	sameRun(t, "from config.json", a, b)
	// A misspelt key is an error, not a silently ignored setting.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"widht": 3}`), 0o644)
	if _, err := ReadRunRecord(bad, Defaults()); err == nil || !strings.Contains(err.Error(), "widht") {
		t.Errorf("misspelt key: %v", err)
	}
}

// TestDefaultOutDir: without --out-dir each run gets its own folder under runs/, and runs/latest points at
// the newest.
func TestDefaultOutDir(t *testing.T) {
	t.Chdir(t.TempDir())
	c := smallRun("", 3)
	mustRun(t, c)
	mustRun(t, c)
	entries, _ := os.ReadDir(DefaultRunsDir)
	var runs []string
	for _, e := range entries {
		if e.IsDir() {
			runs = append(runs, e.Name())
		}
	}
	if len(runs) != 2 {
		t.Fatalf("runs/ holds %v, want two run folders", entries)
	}
	if target, err := os.Readlink(filepath.Join(DefaultRunsDir, "latest")); err != nil || target != runs[1] {
		t.Errorf("runs/latest → %q (%v), want %q", target, err, runs[1])
	}
}

// TestCurvesAndColumns: a run writes curves.png (four stacked panels with --eval-every) and metrics.csv's lr,
// epoch and images_per_s: the scheduled rate, step·N/examples, and a positive rate.
func TestCurvesAndColumns(t *testing.T) {
	dir := t.TempDir()
	c := smallRun(dir, 30)
	c.EvalEvery, c.LRSchedule, c.Warmup, c.LR = 10, "cosine", 5, 0.01
	mustRun(t, c)
	f, err := os.Open(filepath.Join(dir, "curves.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dy() < 14*b.Dx()/10 { // 4 panels of 16 × 6 cm: 1.5 times as high as wide
		t.Errorf("curves.png is %v: want four panels stacked", b)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if !strings.HasPrefix(lines[0], MetricsHeader+",knn_accuracy") {
		t.Fatalf("header %q", lines[0])
	}
	sched := c.Schedule()
	examples := c.Clusters * c.PerCluster
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		step, _ := strconv.Atoi(f[0])
		lr, _ := strconv.ParseFloat(f[8], 64)
		epoch, _ := strconv.ParseFloat(f[9], 64)
		ips, _ := strconv.ParseFloat(f[10], 64)
		if want := c.LR * sched.Factor(step); lr != want {
			t.Errorf("step %d: lr %v, want %v", step, lr, want)
		}
		if want := float64(step*c.BatchSize) / float64(examples); math.Abs(epoch-want) > 1e-4 {
			t.Errorf("step %d: epoch %v, want %v", step, epoch, want)
		}
		if !(ips > 0) {
			t.Errorf("step %d: images_per_s %v", step, ips)
		}
	}
}

// TestGitCommitStamp: a link-time stamp (scripts/build.sh) wins over the build info and the working directory's git.
func TestGitCommitStamp(t *testing.T) {
	old := commit
	defer func() { commit = old }()
	commit = "0123abc"
	if got := GitCommit(); got != "0123abc" {
		t.Fatalf("GitCommit() = %q with the stamp 0123abc", got)
	}
	commit = ""
	if got := GitCommit(); got == "0123abc" || got == "" {
		t.Fatalf("GitCommit() = %q without a stamp", got)
	}
}

// TestEvalEveryTiming: the periodic kNN's time is not training time, so images_per_s leaves it out (with it,
// 68 images/s instead of ~500), and the kNN accuracy shows in the progress lines (issue 25, item 9).
func TestEvalEveryTiming(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.csv")
	m, err := newMetricsWriter(path, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	m.batch, m.examples = 10, 100
	z := tensors.FromFlatDataAndDimensions([]float32{1, 0, 0, 1}, 2, 2)
	m.Write(10, StepResult{Z: z}, 1, nil) // 100 images in 1 s
	m.evalSec += 3                        // a kNN of 3 s, then 100 images in 1 s more
	m.Write(20, StepResult{Z: z}, 5, nil)
	m.Close()
	b, _ := os.ReadFile(path)
	rows := strings.Split(strings.TrimSpace(string(b)), "\n")
	if got := rows[2][strings.LastIndex(rows[2], ",")+1:]; got != "100.0" {
		t.Errorf("images_per_s after a 3 s kNN = %s, want 100.0\n%s", got, b)
	}

	var log bytes.Buffer
	c := smallRun(t.TempDir(), 10)
	c.EvalEvery, c.LogEvery = 5, 5
	if _, err := Run(c, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "step 5/10 loss") || !strings.Contains(log.String(), " knn ") {
		t.Errorf("progress lacks the kNN accuracy:\n%s", log.String())
	}
}

// TestFolderHeldOutIsSaid: folder data without a test/ folder holds 10% of each class out of training; the
// run says so (it was documented only in the code: 47 images trained as "43 examples", issue 25, item 11).
func TestFolderHeldOutIsSaid(t *testing.T) {
	root := t.TempDir()
	for i := range 20 {
		dir := filepath.Join(root, []string{"a", "b"}[i%2])
		os.MkdirAll(dir, 0o755)
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		img.Pix[i] = 255
		f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)+".png"))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, img)
		f.Close()
	}
	var log bytes.Buffer
	c := smallRun(t.TempDir(), 1)
	c.Data, c.BatchSize, c.Model, c.HeadDim = "folder:"+root, 4, "mlp", 0
	if _, err := Run(c, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "(18 examples") || !strings.Contains(log.String(), "2 images (10% of each class) are held out") {
		t.Errorf("the held-out split is not said:\n%s", log.String())
	}
}

// TestLegendPlace: the legend of the loss-parts panel goes to a corner no curve passes through (it covered
// the loss_align line, issue 25, item 14), or above the curves when every corner is taken.
func TestLegendPlace(t *testing.T) {
	line := func(y0, y1 float64) plotter.XYs {
		var xy plotter.XYs
		for i := range 11 {
			xy = append(xy, plotter.XY{X: float64(i), Y: y0 + (y1-y0)*float64(i)/10})
		}
		return xy
	}
	for _, c := range []struct {
		name      string
		curves    []plotter.XYs
		top, left bool
		headroom  bool
	}{
		{"rising and flat", []plotter.XYs{line(0, 1), line(0.5, 0.5)}, true, true, false},
		{"falling and flat", []plotter.XYs{line(1, 0), line(0.5, 0.5)}, true, false, false},
		{"rising and falling", []plotter.XYs{line(0, 1), line(1, 0)}, true, false, true},
	} {
		top, left, h := legendPlace(c.curves)
		if top != c.top || left != c.left || (h > 0) != c.headroom {
			t.Errorf("%s: top %v left %v headroom %g, want %v %v %v", c.name, top, left, h, c.top, c.left, c.headroom)
		}
	}
}
