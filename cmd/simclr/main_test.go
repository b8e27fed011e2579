package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the tests run this very binary as the simclr command: with SIMCLR_TEST_MAIN=1 it is main().
func TestMain(m *testing.M) {
	if os.Getenv("SIMCLR_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	// The commands' tests are about the command line: they run on the Go backend (auto would pick xla:cpu
	// where its plugin is installed; backend and train test that choice).
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	// Nor do they see the plugins of the user's gosimclr home: the tests that want no plugin find none.
	home, err := os.MkdirTemp("", "gosimclr-home")
	if err == nil {
		os.Setenv("GOSIMCLR_HOME", home)
	}
	// Raw-baseline caches of the tests (inherited by the commands they run) go to a folder removed at the end.
	cache, err := os.MkdirTemp("", "gosimclr-cache")
	if err == nil {
		os.Setenv("GOSIMCLR_CACHE_DIR", cache)
	}
	code := m.Run()
	os.RemoveAll(cache)
	os.RemoveAll(home)
	os.Exit(code)
}

// simclr runs the command with args and returns its combined output and exit status.
func simclr(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "SIMCLR_TEST_MAIN=1"), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestExitStatusAndMessages(t *testing.T) {
	empty := t.TempDir()
	noPlugins := []string{"PJRT_PLUGIN_LIBRARY_PATH=" + empty, "LD_LIBRARY_PATH="}
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown flag", []string{"train", "--no-such-flag"}, 2, []string{"unknown flag: --no-such-flag"}},
		{"bad value", []string{"train", "--activation", "swish"}, 2, []string{"--activation must be one of"}},
		{"bad number", []string{"train", "--steps", "many"}, 2, []string{"--steps"}},
		{"unknown command", []string{"fly"}, 2, []string{"unknown command"}},
		{"xla:cuda without plugin", []string{"train", "--backend", "xla:cuda", "--steps", "1", "-o", t.TempDir()}, 2,
			[]string{"no usable PJRT plugin", empty, "PJRT_PLUGIN_LIBRARY_PATH", "absolute path"}},
		{"xla without plugin, info", []string{"info", "--backend", "xla"}, 2, []string{"no usable PJRT plugin"}},
		{"bad backend", []string{"train", "--backend", "tpu"}, 2, []string{"unknown backend"}},
		{"help", []string{"train", "--help"}, 0, []string{"--batch-size", "cnn on mnist, fashion-mnist", "resnet18 64"}},
		{"augment on points", []string{"augment", "--data", "disks"}, 2, []string{"--data must be one of mnist, fashion-mnist"}},
		{"bad dtype", []string{"train", "--dtype", "float16", "--dry-run"}, 2, []string{"--dtype must be one of [float32 float64 bfloat16]", `"float16"`}},
		{"float64 images", []string{"train", "--data", "mnist", "--dtype", "float64", "--dry-run"}, 2, []string{"--dtype float64 is for the point data sets", "bfloat16"}},
		{"bad bench dtype", []string{"bench", "--dtype", "bf16"}, 2, []string{"--dtype must be float32 or bfloat16", `"bf16"`}},
	} {
		out, code := simclr(t, noPlugins, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, code, c.code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, w, out)
			}
		}
		if strings.Contains(out, "panic") || strings.Contains(out, "goroutine") {
			t.Errorf("%s: panicked:\n%s", c.name, out)
		}
	}
}

func TestBrokenPluginFileIsNoPanic(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pjrt_c_api_cuda_plugin.so"), []byte("\x7fELF garbage"), 0o755)
	out, code := simclr(t, []string{"PJRT_PLUGIN_LIBRARY_PATH=" + dir}, "info", "--backend", "xla:cuda")
	if code != 2 || !strings.Contains(out, "unusable") || strings.Contains(out, "panic") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestInfoGo(t *testing.T) {
	out, code := simclr(t, nil, "info")
	for _, w := range []string{"go:", "simd:", "backends:", "device 0:"} {
		if !strings.Contains(out, w) {
			t.Errorf("info lacks %q:\n%s", w, out)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestTrainDryRunWithConfigFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(f, []byte(`{"width": 77, "steps": 5}`), 0o644)
	out, code := simclr(t, nil, "train", "--config", f, "--steps", "9", "--dry-run")
	if code != 0 || !strings.Contains(out, `"width": 77`) || !strings.Contains(out, `"steps": 9`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	os.WriteFile(f, []byte(`{"widht": 77}`), 0o644)
	if out, code := simclr(t, nil, "train", "--config", f); code != 2 || !strings.Contains(out, "widht") {
		t.Errorf("unknown config key: exit %d:\n%s", code, out)
	}
}

// TestHelpReadsWell: no command's help shows a Go type name or an empty default (eval --help showed
// "--probe-lambdas float64Slice … (default 1e-1, …, 1e-6) (default [])", issue 25, item 5).
func TestHelpReadsWell(t *testing.T) {
	for _, c := range commands {
		out, code := simclr(t, nil, c.name, "--help")
		if code != 0 {
			t.Errorf("%s --help: exit %d\n%s", c.name, code, out)
		}
		for _, bad := range []string{"(default [])", "Slice "} {
			if strings.Contains(out, bad) {
				t.Errorf("%s --help shows %q:\n%s", c.name, bad, out)
			}
		}
	}
}

// TestModelFlagsApply: a model flag the chosen model does not read is a usage error naming both (it was
// accepted and recorded: --model cnn --activation gelu wrote "activation": "gelu", issue 25, item 6); the
// defaults, and the flags the model reads, pass.
func TestModelFlagsApply(t *testing.T) {
	for _, c := range []struct {
		args []string
		bad  string // "" when accepted
	}{
		{[]string{"--data", "mnist", "--model", "cnn", "--activation", "gelu", "--depth", "5", "--scaling", "mean-field"}, "--depth, --activation, --scaling do not apply to --model cnn"},
		{[]string{"--data", "mnist", "--activation", "gelu"}, "--activation does not apply to --model cnn"}, // auto: cnn on mnist
		{[]string{"--data", "mnist", "--model", "cnn", "--stem", "imagenet"}, "--stem does not apply to --model cnn"},
		{[]string{"--data", "cifar10", "--model", "resnet18", "--normalize=false"}, "--normalize does not apply to --model resnet18"},
		{[]string{"--model", "particle", "--width", "8"}, "--width does not apply to --model particle"},
		{[]string{"--data", "mnist", "--model", "cnn", "--channels", "8,16", "--width", "64", "--head-dim", "32"}, ""},
		{[]string{"--model", "mlp", "--activation", "gelu", "--depth", "3", "--normalize=false"}, ""},
		{[]string{"--data", "mnist"}, ""},
		{[]string{"--data", "cifar10", "--model", "resnet18", "--stem", "imagenet"}, ""},
	} {
		out, code := simclr(t, nil, append([]string{"train", "--dry-run"}, c.args...)...)
		if c.bad == "" && code != 0 || c.bad != "" && (code != 2 || !strings.Contains(out, c.bad)) {
			t.Errorf("%v: exit %d, want the error %q:\n%s", c.args, code, c.bad, out)
		}
	}
}

// TestAugmentDefaults: simclr augment with no flags draws MNIST, which ships (it looked for CIFAR-10 and
// failed with "looked in ;" and exit 1); --views is bounded; data not found is a usage error (issue 25, item 8).
func TestAugmentDefaults(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "v.png")
	out, code := simclr(t, nil, "augment", "-o", png, "--rows", "2", "--views", "2")
	if _, err := os.Stat(png); code != 0 || err != nil || !strings.Contains(out, "mnist") {
		t.Errorf("augment with defaults: exit %d, %v:\n%s", code, err, out)
	}
	for _, args := range [][]string{{"--views", "100000"}, {"--rows", "0"}} {
		out, code := simclr(t, nil, append([]string{"augment", "-o", png}, args...)...)
		if code != 2 || !strings.Contains(out, "must be in [1, 64]") {
			t.Errorf("augment %v: exit %d:\n%s", args, code, out)
		}
	}
	out, code = simclr(t, []string{"CIFAR10_DIR=" + dir}, "augment", "--data", "cifar10", "--data-dir", dir, "-o", png)
	if code != 2 || !strings.Contains(out, "--data-dir") || strings.Contains(out, "looked in ;") {
		t.Errorf("augment on missing data: exit %d:\n%s", code, out)
	}
}

// TestHelpToStdout: help asked for goes to stdout with exit 0 (it went to stderr: train --help 2>/dev/null
// printed nothing); help beside a usage error stays on stderr with exit 2; the top-level table is aligned
// (issue 25, item 10).
func TestHelpToStdout(t *testing.T) {
	run := func(args ...string) (stdout, stderr string, code int) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "SIMCLR_TEST_MAIN=1")
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return o.String(), e.String(), code
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"train", "--help"}, {"train", "-h"}, {"eval", "--help"},
		{"experiment", "--help"}, {"plugin", "--help"}} {
		o, e, code := run(args...)
		if code != 0 || !strings.Contains(o, "usage: simclr") || e != "" {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q", args, code, len(o), e)
		}
	}
	for _, args := range [][]string{{}, {"fly"}, {"experiment"}, {"plugin"}, {"train", "--nope"}} {
		o, e, code := run(args...)
		if code != 2 || o != "" || e == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %d bytes", args, code, o, len(e))
		}
	}
	o, _, _ := run("--help")
	col := -1
	for _, line := range strings.Split(o, "\n") {
		for _, c := range commands {
			if rest, ok := strings.CutPrefix(line, "  "+c.name+" "); ok {
				at := len(line) - len(strings.TrimLeft(rest, " "))
				if col >= 0 && at != col {
					t.Errorf("the %s row's summary starts at column %d, the others' at %d:\n%s", c.name, at, col, o)
				}
				col = at
			}
		}
	}
}

// TestVersionAndHelp: --version names the build; train --help lists every augmentation preset; experiment
// --help lists the experiments with their summaries.
func TestVersionAndHelp(t *testing.T) {
	out, code := simclr(t, nil, "--version")
	if code != 0 || !strings.Contains(out, "simclr ") || !strings.Contains(out, "commit ") || !strings.Contains(out, "GOEXPERIMENT=simd") || !strings.Contains(out, "backends: ") {
		t.Errorf("--version: exit %d\n%s", code, out)
	}
	out, code = simclr(t, nil, "train", "--help")
	for _, p := range []string{"digits", "fashion", "cifar", "--overwrite"} {
		if code != 0 || !strings.Contains(out, p) {
			t.Errorf("train --help lacks %q (exit %d)", p, code)
		}
	}
	out, code = simclr(t, nil, "experiment", "--help")
	for _, e := range []string{"loss-landscape", "depth-width", "particle gradient descent"} {
		if code != 0 || !strings.Contains(out, e) {
			t.Errorf("experiment --help lacks %q (exit %d):\n%s", e, code, out)
		}
	}
}

// TestTrainFromItsOwnConfig: simclr train --config RUN/config.json --out-dir NEW accepts the file a run wrote
// and reproduces its metrics.csv (seconds aside); training into RUN again is refused.
func TestTrainFromItsOwnConfig(t *testing.T) {
	run, again := t.TempDir(), t.TempDir()
	if out, code := simclr(t, nil, "train", "--data", "clusters", "--steps", "12", "--log-every", "3", "--eval=false", "-o", run); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	if out, code := simclr(t, nil, "train", "--config", filepath.Join(run, "config.json"), "-o", again); code != 0 {
		t.Fatalf("--config RUN/config.json: exit %d\n%s", code, out)
	}
	strip := func(dir string) string {
		b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(l, ",") // without the timing columns: seconds (5th) and images_per_s (11th)
			rows = append(rows, strings.Join(append(append(f[:4:4], f[5:10]...), f[11:]...), ","))
		}
		return strings.Join(rows, "\n")
	}
	if a, b := strip(run), strip(again); a != b || strings.Count(a, "\n") < 4 {
		t.Errorf("metrics differ:\n%s\n---\n%s", a, b)
	}
	if out, code := simclr(t, nil, "train", "--config", filepath.Join(run, "config.json")); code != 2 || !strings.Contains(out, "--overwrite") {
		t.Errorf("a second run into RUN: exit %d\n%s", code, out)
	}
}

// TestEvalFlags: simclr eval refuses bad option values with exit 2 and a message naming the flag.
func TestEvalFlags(t *testing.T) {
	for _, c := range [][]string{{"--knn-k", "-1"}, {"--knn-t", "-0.5"}, {"--probe-lambdas", "0.1,0"}, {"--checkpoint", "-3"}} {
		out, code := simclr(t, nil, append([]string{"eval", "--run", t.TempDir()}, c...)...)
		if code != 2 || !strings.Contains(out, c[0]) {
			t.Errorf("eval %v: exit %d\n%s", c, code, out)
		}
	}
}

// TestInfoWithFakeCUDAPlugins: with a fake CUDA plugin (exports GetPjrtApi, returns no API) in go-xla's nvidia/
// folder, and then only in a jax-cuda wheel's site-packages, simclr info --backend xla:cuda lists it and
// fails cleanly: exit 2, a message, no crash.
func TestInfoWithFakeCUDAPlugins(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc")
	}
	home, venv := t.TempDir(), t.TempDir()
	src := filepath.Join(t.TempDir(), "fake.c")
	os.WriteFile(src, []byte("void* GetPjrtApi(void) { return 0; }\n"), 0o644)
	goxla := filepath.Join(home, ".local/lib/go-xla/nvidia/pjrt_c_api_cuda_plugin.so")
	jax := filepath.Join(venv, "lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so")
	for _, p := range []string{goxla, jax} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if out, err := exec.Command(gcc, "-shared", "-fPIC", "-o", p, src).CombinedOutput(); err != nil {
			t.Fatalf("gcc: %v\n%s", err, out)
		}
	}
	env := []string{"HOME=" + home, "VIRTUAL_ENV=" + venv}
	for _, step := range []string{"go-xla nvidia/", "jax site-packages"} {
		out, code := simclr(t, env, "info", "--backend", "xla:cuda")
		want := goxla
		if step != "go-xla nvidia/" {
			want = jax
		}
		if code != 2 || !strings.Contains(out, want) || !strings.Contains(out, "could not be initialised") ||
			!strings.Contains(out, "GetPjrtApi returned no API") || strings.Contains(out, "goroutine ") {
			t.Errorf("%s: exit %d\n%s", step, code, out)
		}
		os.Remove(goxla)
	}
	// A plugin that reports PJRT C API 0.90: listed with its version and refused.
	old := filepath.Join(t.TempDir(), "old.c")
	os.WriteFile(old, []byte(`#include <stddef.h>
typedef struct { size_t s; void* e; int major; int minor; } v;
typedef struct { size_t s; void* e; v version; } a;
static a api = {sizeof(a), 0, {sizeof(v), 0, 0, 90}};
const void* GetPjrtApi(void) { return &api; }
`), 0o644)
	os.Remove(jax)
	if out, err := exec.Command(gcc, "-shared", "-fPIC", "-o", jax, old).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, code := simclr(t, env, "info", "--backend", "xla:cuda")
	if code != 2 || !strings.Contains(out, "PJRT C API 0.90, older than the 0.104") {
		t.Errorf("old plugin: exit %d\n%s", code, out)
	}
}

// TestPluginUsage: simclr plugin wants "install cpu" or "install cuda" (exit 2 otherwise, with the usage).
func TestPluginUsage(t *testing.T) {
	for _, args := range [][]string{{"plugin"}, {"plugin", "install"}, {"plugin", "install", "tpu"}, {"plugin", "remove", "cpu"}} {
		if out, code := simclr(t, nil, args...); code != 2 || !strings.Contains(out, "simclr plugin install cpu|cuda") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

// TestOnlineProbeFlags: --online-probe takes auto, true or false (alone: true) and resolves auto by data;
// --online-probe-lr where the probe is off, or a bad value, is a usage error that names the flag.
func TestOnlineProbeFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // in the output; with code 2 an error
		code int
	}{
		{[]string{"--data", "mnist"}, `"online-probe": "true"`, 0},
		{[]string{"--data", "clusters"}, `"online-probe": "false"`, 0},
		{[]string{"--data", "clusters", "--online-probe"}, `"online-probe": "true"`, 0},
		{[]string{"--data", "mnist", "--online-probe=false"}, `"online-probe": "false"`, 0},
		{[]string{"--data", "clusters", "--online-probe", "--online-probe-lr", "0.01"}, `"online-probe-lr": 0.01`, 0},
		{[]string{"--online-probe=maybe"}, `want auto, true or false, got "maybe"`, 2},
		{[]string{"--data", "clusters", "--online-probe-lr", "0.01"}, "--online-probe-lr applies only with the online probe", 2},
		{[]string{"--data", "mnist", "--online-probe-lr", "0"}, "--online-probe-lr must be > 0", 2},
	} {
		out, code := simclr(t, nil, append([]string{"train", "--dry-run"}, c.args...)...)
		if code != c.code || !strings.Contains(out, c.want) || strings.Contains(out, "panic") {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", c.args, code, c.code, c.want, out)
		}
	}
}
