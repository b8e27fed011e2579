package backend

import (
	"archive/zip"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == VersionCmd { // this test binary as PJRTVersion's child
		os.Exit(RunVersionCmd(os.Args[2]))
	}
	os.Exit(m.Run())
}

// TestPins: both pinned plugins parse to a package, version 0.11.2 (the GPU image's jax) and a sha256, and the
// by-hand help names the exact wheel and hash.
func TestPins(t *testing.T) {
	pins := Pins()
	for kind, pkg := range map[string]string{"cpu": "lammps-jax-pjrt-cpu", "cuda": "jax-cuda13-pjrt"} {
		p := pins[kind]
		if p.Package != pkg || p.Version != "0.11.2" || len(p.SHA256) != 64 {
			t.Errorf("pin %s = %+v", kind, p)
		}
		h := InstallHelp(kind)
		for _, want := range []string{p.SHA256, strings.ReplaceAll(pkg, "-", "_") + "-0.11.2-py3-none-manylinux_2_27_x86_64.whl", "--wheel-dir"} {
			if !strings.Contains(h, want) {
				t.Errorf("InstallHelp(%s) lacks %q: %s", kind, want, h)
			}
		}
	}
	if !strings.Contains(pins["cpu"].LinkName, "cpu") {
		t.Errorf("the CPU plugin's link %q must contain \"cpu\": go-xla decides CPU-ness by name", pins["cpu"].LinkName)
	}
}

// TestInstallRefusesOtherBytes: the installer takes only the pinned bytes. A wheel of the right name whose
// content differs (a stand-in for a tampered or re-released file) is refused by pip's hash check, and nothing
// is linked; an empty wheel folder fails at once with the by-hand way in the caller's message.
func TestInstallRefusesOtherBytes(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	home, wheels := t.TempDir(), t.TempDir()
	t.Setenv(HomeEnv, home)
	pin := Pins()["cpu"]
	name := filepath.Join(wheels, strings.ReplaceAll(pin.Package, "-", "_")+"-"+pin.Version+"-py3-none-manylinux_2_27_x86_64.whl")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	w, _ := z.Create("lammps_jax_pjrt_cpu/__init__.py")
	w.Write([]byte("PLUGIN_PATH = None\n"))
	z.Close()
	f.Close()
	_, err = InstallPinned("cpu", InstallOptions{Python: py, WheelDir: wheels})
	if err == nil || !strings.Contains(err.Error(), "pip install") {
		t.Fatalf("a wheel with other bytes: err = %v, want pip's refusal", err)
	}
	dir, _ := PluginDir()
	if _, err := os.Lstat(filepath.Join(dir, pin.LinkName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused install linked a plugin: %v", err)
	}
	if _, err := InstallPinned("tpu", InstallOptions{}); !errors.Is(err, ErrBadSpec) {
		t.Errorf("InstallPinned(tpu) = %v, want ErrBadSpec", err)
	}
}

// TestAutoWithoutPlugins: with no plugin anywhere, auto is the Go backend.
func TestAutoWithoutPlugins(t *testing.T) {
	t.Setenv(PluginPathsEnv, t.TempDir())
	t.Setenv(HomeEnv, t.TempDir())
	t.Setenv("VIRTUAL_ENV", "")
	t.Setenv("CONDA_PREFIX", "")
	t.Setenv("PATH", t.TempDir()) // no python3: no active environment's jax plugins
	b, resolved, err := Open("auto")
	if err != nil || resolved != "go" || !strings.HasPrefix(strings.ToLower(b.Name()), "go") {
		t.Fatalf("Open(auto) with no plugin = %v, %q, %v; want the Go backend", b, resolved, err)
	}
	if got, err := Resolve("auto"); got != "go" || err != nil {
		t.Errorf("Resolve(auto) = %q, %v", got, err)
	}
	if got, _ := Resolve("xla:cuda"); got != "xla:cuda" {
		t.Errorf("Resolve(xla:cuda) = %q: only auto is resolved", got)
	}
	if _, err := Parse("auto:cpu"); !errors.Is(err, ErrBadSpec) {
		t.Errorf("Parse(auto:cpu) = %v, want ErrBadSpec", err)
	}
}

// TestAutoPicksInstalledCPUPlugin: where the pinned CPU plugin is installed (simclr plugin install cpu), auto
// chooses xla:cpu, which compiles and runs a graph.
func TestAutoPicksInstalledCPUPlugin(t *testing.T) {
	if _, err := findPlugin("cpu"); err != nil {
		t.Skip("no XLA CPU plugin installed (simclr plugin install cpu)")
	}
	if nvidiaDriver() {
		t.Skip("this machine has a GPU: auto may rightly choose xla:cuda")
	}
	b, resolved, err := Open("auto")
	if err != nil || resolved != "xla:cpu" {
		t.Fatalf("Open(auto) = %q, %v; want xla:cpu", resolved, err)
	}
	defer b.Finalize()
	if err := Smoke(b); err != nil {
		t.Fatal(err)
	}
}

// TestRealCUDAPluginWithoutGPU loads the real jax-cuda13-pjrt 0.11.2 plugin (installed by simclr plugin install
// cuda, or from an active environment's jax[cuda13]): found by name, its PJRT API version read by a child
// process, and, on a machine without an NVIDIA driver, a clean ErrPluginInit that says so.
func TestRealCUDAPluginWithoutGPU(t *testing.T) {
	path, err := findPlugin("cuda")
	if err != nil || !strings.Contains(path, "jax_plugins") {
		t.Skip("no jax-cuda13-pjrt plugin installed (simclr plugin install cuda)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	major, minor, err := CheckVersion(exe, path)
	if err != nil || major != 0 || minor < PJRTMinor {
		t.Fatalf("CheckVersion(%s) = %d.%d, %v", path, major, minor, err)
	}
	t.Logf("%s: PJRT C API %d.%d", path, major, minor)
	if nvidiaDriver() {
		t.Skip("this machine has an NVIDIA driver: the no-GPU message is not reachable")
	}
	_, err = New("xla:cuda")
	if !errors.Is(err, ErrPluginInit) || !strings.Contains(err.Error(), "no NVIDIA GPU driver") {
		t.Errorf("New(xla:cuda) without a GPU: %v", err)
	}
}
