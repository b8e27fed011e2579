package backend

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The pinned PJRT plugins: one pip requirement each, with its version and sha256, installed by InstallPinned.
var (
	//go:embed pjrt-requirements-cpu.txt
	cpuRequirements string
	//go:embed pjrt-requirements-cuda.txt
	cudaRequirements string
)

// HomeEnv names the folder where gosimclr keeps what it installs (default ~/.local/share/gosimclr).
const HomeEnv = "GOSIMCLR_HOME"

// Pin is a pinned PJRT plugin wheel.
type Pin struct {
	Kind     string // "cpu" or "cuda"
	Package  string // the pip package, e.g. "lammps-jax-pjrt-cpu"
	Version  string
	SHA256   string
	File     string // the plugin inside site-packages
	Require  string // the requirements file's text (pip install --require-hashes -r)
	LinkName string // for cpu: the name of the link in PluginDir that SearchDirs finds; "" for cuda
}

var pinLine = regexp.MustCompile(`(?m)^([A-Za-z0-9_.-]+)==([^\s]+)\s+--hash=sha256:([0-9a-f]{64})\s*$`)

// Pins returns the pinned plugins, read from the requirements files embedded in the binary.
func Pins() map[string]Pin {
	out := map[string]Pin{}
	for _, p := range []Pin{
		{Kind: "cpu", Require: cpuRequirements, File: "lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so", LinkName: "pjrt_c_api_cpu_plugin.so"},
		{Kind: "cuda", Require: cudaRequirements, File: "jax_plugins/xla_cuda13/xla_cuda_plugin.so"},
	} {
		m := pinLine.FindStringSubmatch(p.Require)
		if m == nil {
			panic("backend: a pinned requirements file has no 'name==version --hash=sha256:…' line")
		}
		p.Package, p.Version, p.SHA256 = m[1], m[2], m[3]
		out[p.Kind] = p
	}
	return out
}

// Home returns $GOSIMCLR_HOME, else ~/.local/share/gosimclr.
func Home() (string, error) {
	if h := os.Getenv(HomeEnv); h != "" {
		return h, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("backend: no home folder (%v): set %s", err, HomeEnv)
	}
	return filepath.Join(home, ".local", "share", "gosimclr"), nil
}

// VenvDir is the Python virtual environment InstallPinned installs the pinned wheels into.
func VenvDir() (string, error) {
	h, err := Home()
	return filepath.Join(h, "pjrt-venv"), err
}

// PluginDir holds the links to installed CPU plugins; SearchDirs searches it first.
func PluginDir() (string, error) {
	h, err := Home()
	return filepath.Join(h, "plugins"), err
}

// InstallOptions tune InstallPinned.
type InstallOptions struct {
	Python   string    // the Python that creates the virtual environment (default: python3 on PATH)
	WheelDir string    // install from the wheels in this folder (no network), else from the package index
	Log      io.Writer // pip's output (nil: discarded)
}

// InstallPinned installs the pinned plugin of kind ("cpu" or "cuda") with pip into VenvDir: exactly the pinned
// version, checked against its sha256 (--require-hashes), without dependencies. A CPU plugin is then linked into
// PluginDir as pjrt_c_api_cpu_plugin.so, where SearchDirs finds it; a CUDA plugin is used in place (its RPATH
// finds the CUDA libraries beside it), found by JAXPlugins. It returns the plugin's path, checked with
// CheckPlugin. Nothing else in gosimclr downloads anything.
func InstallPinned(kind string, o InstallOptions) (string, error) {
	pin, ok := Pins()[kind]
	if !ok {
		return "", fmt.Errorf("%w: plugin install takes cpu or cuda, got %q", ErrBadSpec, kind)
	}
	venv, err := VenvDir()
	if err != nil {
		return "", err
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	vpy := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(vpy); err != nil {
		py := o.Python
		if py == "" {
			if py, err = exec.LookPath("python3"); err != nil {
				return "", fmt.Errorf("no python3 on PATH to create %s (pass --python)", venv)
			}
		}
		fmt.Fprintf(o.Log, "creating the virtual environment %s with %s\n", venv, py)
		if err := run(o.Log, 3*time.Minute, py, "-m", "venv", venv); err != nil {
			return "", fmt.Errorf("%s -m venv %s: %w (on Debian: apt-get install python3-venv)", py, venv, err)
		}
	}
	req, err := os.CreateTemp("", "gosimclr-pjrt-*.txt")
	if err != nil {
		return "", err
	}
	defer os.Remove(req.Name())
	if _, err := req.WriteString(pin.Require); err != nil {
		return "", err
	}
	req.Close()
	args := []string{"-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-deps", "--require-hashes",
		"--only-binary=:all:", "--upgrade", "-r", req.Name()}
	if o.WheelDir != "" {
		args = append(args, "--no-index", "--find-links", o.WheelDir)
	} else {
		args = append(args, "--retries", "1", "--timeout", "20")
	}
	fmt.Fprintf(o.Log, "installing %s==%s (sha256 %s) into %s\n", pin.Package, pin.Version, pin.SHA256, venv)
	if err := run(o.Log, 20*time.Minute, vpy, args...); err != nil {
		return "", fmt.Errorf("pip install %s==%s: %w", pin.Package, pin.Version, err)
	}
	matches, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages", pin.File))
	if len(matches) == 0 {
		return "", fmt.Errorf("pip installed %s but %s is not in %s", pin.Package, pin.File, venv)
	}
	path := matches[0]
	if err := CheckPlugin(path); err != nil {
		return "", err
	}
	if pin.LinkName == "" {
		return path, nil
	}
	dir, err := PluginDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	link := filepath.Join(dir, pin.LinkName)
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(path, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, link); err != nil {
		return "", err
	}
	return link, nil
}

// run runs name with args, its output to log, within limit.
func run(log io.Writer, limit time.Duration, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %v", limit)
	}
	return err
}

// InstallHelp says how to install a pinned plugin by hand, for a machine where simclr plugin install cannot
// reach the package index.
func InstallHelp(kind string) string {
	pin, ok := Pins()[kind]
	if !ok {
		return "simclr plugin install takes cpu or cuda"
	}
	wheel := strings.ReplaceAll(pin.Package, "-", "_") + "-" + pin.Version + "-py3-none-manylinux_2_27_x86_64.whl"
	s := fmt.Sprintf("by hand: on a machine with internet, pip download --no-deps %s==%s (the file %s, sha256 %s), "+
		"copy it here and run simclr plugin install %s --wheel-dir FOLDER_WITH_IT", pin.Package, pin.Version, wheel, pin.SHA256, kind)
	if kind == "cuda" {
		s += "; or, in a Python environment, pip install \"jax[cuda13]==" + pin.Version + "\": gosimclr finds " +
			"site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so in the active environment, or pass --backend xla:/path/to/xla_cuda_plugin.so"
	} else {
		s += "; or pass any XLA CPU plugin's absolute path: --backend xla:/path/to/pjrt_c_api_cpu_plugin.so"
	}
	return s
}
