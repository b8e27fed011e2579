package backend

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func TestSpecPrecedence(t *testing.T) {
	t.Setenv(EnvVar, "")
	if got := Spec(""); got != Default || Default != "auto" {
		t.Errorf("Spec(\"\") with no env = %q, want go", got)
	}
	t.Setenv(EnvVar, "xla:cpu")
	if got := Spec(""); got != "xla:cpu" {
		t.Errorf("env not honoured: %q", got)
	}
	if got := Spec("go"); got != "go" {
		t.Errorf("flag must win over env: %q", got)
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Parsed
	}{
		{"go", Parsed{Name: "go"}},
		{"go:parallelism=2", Parsed{Name: "go", Options: "parallelism=2"}},
		{"xla", Parsed{Name: "xla"}},
		{"xla:cuda,preallocate=false", Parsed{Name: "xla", Plugin: "cuda", Options: "preallocate=false"}},
		{"xla:/opt/p/xla_cuda_plugin.so", Parsed{Name: "xla", Plugin: "/opt/p/xla_cuda_plugin.so"}},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	if _, err := Parse("tpu"); !errors.Is(err, ErrBadSpec) {
		t.Errorf("Parse(tpu) error = %v, want ErrBadSpec", err)
	}
}

func TestGoBackend(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if b.NumDevices() < 1 {
		t.Errorf("go backend: name %q, %d devices", b.Name(), b.NumDevices())
	}
	if d := Describe(b); !strings.Contains(d, "Go") {
		t.Errorf("Describe = %q", d)
	}
}

// TestMissingAndBrokenPlugins: asking for XLA where there is no plugin, or only broken files, is an error
// that says where it looked and how to point at a plugin — never a panic, never a download.
func TestMissingAndBrokenPlugins(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(PluginPathsEnv, dir)
	t.Setenv(HomeEnv, t.TempDir()) // nor the pinned plugins of our own environment
	t.Setenv("PATH", t.TempDir())  // nor an active Python environment's
	for _, spec := range []string{"xla", "xla:cpu", "xla:cuda"} {
		_, err := New(spec)
		if !errors.Is(err, ErrNoPlugin) {
			t.Fatalf("New(%q) error = %v, want ErrNoPlugin", spec, err)
		}
		for _, want := range []string{dir, PluginPathsEnv, "absolute path"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("New(%q) message lacks %q: %v", spec, want, err)
			}
		}
	}
	// A garbage file with a plugin's name, and a real ELF library without GetPjrtApi.
	garbage := filepath.Join(dir, "pjrt_c_api_cuda_plugin.so")
	if err := os.WriteFile(garbage, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable() // an ELF executable (ET_EXEC or ET_DYN PIE) with no GetPjrtApi
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	noSym := filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")
	if err := os.WriteFile(noSym, data, 0o755); err != nil {
		t.Fatal(err)
	}
	ps := Plugins()
	if len(ps) != 2 {
		t.Fatalf("Plugins() = %+v, want the 2 files", ps)
	}
	for _, p := range ps {
		if p.Err == nil {
			t.Errorf("%s accepted as a plugin", p.Path)
		}
	}
	for _, spec := range []string{"xla:cuda", "xla:cpu", "xla:" + garbage} {
		_, err := New(spec)
		if !errors.Is(err, ErrNoPlugin) {
			t.Errorf("New(%q) error = %v, want ErrNoPlugin", spec, err)
		}
	}
}

func TestLdSoConf(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "conf.d")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "a.conf"), []byte("/opt/a # comment\n\n"), 0o644)
	main := filepath.Join(dir, "ld.so.conf")
	os.WriteFile(main, []byte("include "+sub+"/*.conf\n/opt/b\n"), 0o644)
	got := ldSoConfDirs(main, 0)
	if strings.Join(got, ",") != "/opt/a,/opt/b" {
		t.Errorf("ldSoConfDirs = %v", got)
	}
}

func TestGoOptions(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "ops_parallel,parallelism=-1",
		"parallelism=2":                "parallelism=2,ops_parallel",
		"ops_parallel":                 "ops_parallel,parallelism=-1",
		"ops_sequential":               "ops_sequential",
		"ops_sequential,parallelism=1": "ops_sequential,parallelism=1",
	} {
		if got := goOptions(in); got != want {
			t.Errorf("goOptions(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := New("go:ops_parallel"); err != nil {
		t.Errorf("go:ops_parallel: %v", err)
	}
}

// TestManyConcurrentProductsFinish runs 24 independent large matrix products (more than the bounded pool's
// 2·GOMAXPROCS slots, each fanning out with Saturate) on the default Go backend: the pattern that deadlocked
// compute v0.1.2's bounded pool under ops_parallel. It must finish and give the right sums; a hang fails
// after 2 minutes instead of reaching go test's timeout.
func TestManyConcurrentProductsFinish(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	const n, m = 24, 384
	done := make(chan error, 1)
	go func() {
		ones := make([]float32, m*m)
		for i := range ones {
			ones[i] = 1
		}
		out, err := graph.CallOnceN(b, func(x *graph.Node) []*graph.Node {
			var sum *graph.Node
			for i := range n {
				p := graph.MatMul(graph.MulScalar(x, float64(i+1)), x) // every entry (i+1)·m
				if sum == nil {
					sum = p
				} else {
					sum = graph.Add(sum, p)
				}
			}
			return []*graph.Node{graph.ReduceAllMax(sum)}
		}, tensors.FromFlatDataAndDimensions(ones, m, m))
		if err == nil {
			if got, want := out[0].Value().(float32), float32(m*n*(n+1)/2); got != want {
				err = fmt.Errorf("max of the sum = %g, want %g", got, want)
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("24 concurrent products did not finish in 2 minutes: the worker pool deadlocked")
	}
}

// fakePlugin compiles a shared object exporting GetPjrtApi (returning no API) to path, or skips without gcc.
func fakePlugin(t *testing.T, path string) {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc to build a fake plugin")
	}
	src := filepath.Join(t.TempDir(), "fake.c")
	os.WriteFile(src, []byte("void* GetPjrtApi(void) { return 0; }\n"), 0o644)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if out, err := exec.Command(gcc, "-shared", "-fPIC", "-o", path, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
}

// TestPluginDiscovery: a plugin in go-xla's nvidia/ folder and the CUDA plugin of a jax-cuda wheel in the
// active virtual environment are both found, by name "cuda", in place.
func TestPluginDiscovery(t *testing.T) {
	home, venv := t.TempDir(), t.TempDir()
	goxla := filepath.Join(home, ".local/lib/go-xla/nvidia/pjrt_c_api_cuda_plugin.so")
	jax := filepath.Join(venv, "lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so")
	fakePlugin(t, goxla)
	fakePlugin(t, jax)
	t.Setenv("HOME", home)
	t.Setenv(HomeEnv, "") // our own environment under this HOME: empty
	t.Setenv("VIRTUAL_ENV", venv)
	t.Setenv(PluginPathsEnv, "") // restored after the test
	os.Unsetenv(PluginPathsEnv)
	if got := JAXPlugins(); len(got) == 0 || got[0] != jax {
		t.Errorf("JAXPlugins() = %v, want %s first", got, jax)
	}
	var found []string
	for _, p := range Plugins() {
		if p.Name == "cuda" && p.Err == nil {
			found = append(found, p.Path)
		}
	}
	if len(found) != 1 || found[0] != goxla {
		t.Errorf("good cuda plugins %v: want go-xla's %s first (the jax one is a second of the same name)", found, goxla)
	}
	os.Remove(goxla)
	if path, err := findPlugin("cuda"); err != nil || path != jax {
		t.Errorf("without go-xla's: findPlugin(cuda) = %q, %v; want the jax plugin", path, err)
	}
	// It cannot initialise (no API): a clean error, not a crash.
	if _, err := New("xla:cuda"); !errors.Is(err, ErrPluginInit) || !strings.Contains(err.Error(), "could not be initialised") {
		t.Errorf("New(xla:cuda) with a plugin that returns no API: %v", err)
	}
}
