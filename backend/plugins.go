package backend

import (
	"bufio"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// PluginPathsEnv lists directories (":"-separated) to search for PJRT plugins; when set it replaces the defaults.
const PluginPathsEnv = "PJRT_PLUGIN_LIBRARY_PATH"

// Plugin is a PJRT plugin file found on disk.
type Plugin struct {
	Name string // e.g. "cpu", "cuda"
	Path string
	Err  error // non-nil when the file matched a plugin name but is not a loadable plugin
}

// SearchDirs returns the directories searched for plugins named pjrt_c_api_<name>_plugin.so, in order, as
// go-xla searches them (with its installer's nvidia/ folders). JAX's CUDA plugins are found apart
// (JAXPlugins).
func SearchDirs() []string {
	if env, ok := os.LookupEnv(PluginPathsEnv); ok {
		return nonEmpty(strings.Split(env, ":"))
	}
	var dirs []string
	if d, err := PluginDir(); err == nil { // simclr plugin install cpu links the pinned plugin here
		dirs = append(dirs, d)
	}
	if home, err := os.UserHomeDir(); err == nil {
		// go-xla's installer puts the CUDA plugin (and its libraries) in go-xla/nvidia/.
		dirs = append(dirs, filepath.Join(home, ".local/lib/go-xla"), filepath.Join(home, ".local/lib/go-xla/nvidia"),
			filepath.Join(home, ".local/lib/gomlx/pjrt"))
	}
	dirs = append(dirs, "/usr/local/lib/go-xla", "/usr/local/lib/go-xla/nvidia", "/usr/local/lib/gomlx/pjrt")
	dirs = append(dirs, nonEmpty(strings.Split(os.Getenv("LD_LIBRARY_PATH"), ":"))...)
	return append(dirs, ldSoConfDirs("/etc/ld.so.conf", 0)...)
}

var pluginName = regexp.MustCompile(`^(?:pjrt_c_api_(.+)_plugin|pjrt[-_]plugin[-_](.+))\.so$`)

// JAXPlugins lists the CUDA PJRT plugins of jax-cuda wheels in our own environment (VenvDir, where simclr
// plugin install cuda puts the pinned one) and the active Python environments:
// site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so under $VIRTUAL_ENV, $CONDA_PREFIX and the prefix of
// the python3 on PATH (lib/python3*/site-packages, and Debian's dist-packages). They are used in place, never
// copied: their RPATH finds the CUDA libraries of the nvidia-* wheels beside them.
func JAXPlugins() []string {
	var prefixes []string
	if v, err := VenvDir(); err == nil {
		prefixes = append(prefixes, v)
	}
	for _, env := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := os.Getenv(env); p != "" {
			prefixes = append(prefixes, p)
		}
	}
	if py, err := exec.LookPath("python3"); err == nil {
		if real, err := filepath.EvalSymlinks(py); err == nil {
			py = real
		}
		prefixes = append(prefixes, filepath.Dir(filepath.Dir(py)))
	}
	var out []string
	seen := map[string]bool{}
	for _, pre := range prefixes {
		for _, pat := range []string{"lib/python3*/site-packages", "lib/python3*/dist-packages", "lib/python3/dist-packages"} {
			matches, _ := filepath.Glob(filepath.Join(pre, pat, "jax_plugins", "xla_cuda*", "xla_cuda_plugin.so"))
			for _, m := range matches {
				if !seen[m] {
					seen[m] = true
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// Plugins lists every file in SearchDirs whose name is that of a PJRT plugin, then JAX's CUDA plugins (named
// "cuda"), each checked with CheckPlugin. The first good file of each name wins, as in go-xla.
func Plugins() []Plugin {
	var out []Plugin
	seen := map[string]bool{}
	for _, dir := range SearchDirs() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			m := pluginName.FindStringSubmatch(e.Name())
			if m == nil {
				continue
			}
			name := m[1] + m[2]
			path := filepath.Join(dir, e.Name())
			p := Plugin{Name: name, Path: path, Err: CheckPlugin(path)}
			if p.Err == nil {
				if seen[name] {
					continue
				}
				seen[name] = true
			}
			out = append(out, p)
		}
	}
	for _, path := range JAXPlugins() {
		p := Plugin{Name: "cuda", Path: path, Err: CheckPlugin(path)}
		if p.Err == nil && seen["cuda"] {
			continue
		}
		seen["cuda"] = seen["cuda"] || p.Err == nil
		out = append(out, p)
	}
	return out
}

// CheckPlugin reports whether path is an ELF shared object that exports GetPjrtApi, without loading it.
func CheckPlugin(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not an ELF shared library: %w", path, err)
	}
	defer f.Close()
	if f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is an ELF file of type %s, not a shared library", path, f.Type)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return fmt.Errorf("%s: reading its dynamic symbols: %w", path, err)
	}
	for _, s := range syms {
		if s.Name == "GetPjrtApi" && s.Section != elf.SHN_UNDEF {
			return nil
		}
	}
	return fmt.Errorf("%s does not export GetPjrtApi", path)
}

// findPlugin resolves a plugin name ("" = first of cuda, cpu) or absolute path to a checked file path.
func findPlugin(name string) (string, error) {
	if filepath.IsAbs(name) {
		if err := CheckPlugin(name); err != nil {
			return "", fmt.Errorf("%w: %v", ErrNoPlugin, err)
		}
		return name, nil
	}
	all := Plugins()
	want := []string{name}
	if name == "" {
		want = []string{"cuda", "cpu"}
	}
	var broken []string
	for _, w := range want {
		for _, p := range all {
			if p.Name != w && !strings.HasPrefix(p.Name, w+"_v") {
				continue
			}
			if p.Err != nil {
				broken = append(broken, p.Err.Error())
				continue
			}
			return p.Path, nil
		}
	}
	if name == "" {
		name = "cuda or cpu"
	}
	msg := fmt.Sprintf("%v %q: looked in %s for pjrt_c_api_<name>_plugin.so, and for a jax-cuda wheel's "+
		"site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so in the active Python environment", ErrNoPlugin, name, strings.Join(SearchDirs(), ", "))
	if len(broken) > 0 {
		msg += "; unusable files: " + strings.Join(broken, "; ")
	}
	msg += ". Point gosimclr at a plugin with " + PluginPathsEnv + "=/dir/with/plugins or with an absolute path," +
		" e.g. --backend xla:/path/to/pjrt_c_api_cpu_plugin.so; simclr plugin install cpu|cuda installs the pinned one (nothing else downloads); or use --backend go"
	return "", fmt.Errorf("%w", noPluginError(msg))
}

type noPluginError string

func (e noPluginError) Error() string { return string(e) }
func (e noPluginError) Unwrap() error { return ErrNoPlugin }

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ldSoConfDirs reads the directories of an ld.so.conf file, following "include" globs (depth-limited).
func ldSoConfDirs(path string, depth int) []string {
	f, err := os.Open(path)
	if err != nil || depth > 4 {
		return nil
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if rest, ok := strings.CutPrefix(line, "include "); ok {
			matches, _ := filepath.Glob(strings.TrimSpace(rest))
			for _, m := range matches {
				dirs = append(dirs, ldSoConfDirs(m, depth+1)...)
			}
		} else if line != "" {
			dirs = append(dirs, line)
		}
	}
	return dirs
}

// The PJRT C API version go-xla v0.4.1 is compiled against (pjrt_c_api.h): a plugin of an older minor version
// lacks functions it calls.
const (
	PJRTMajor = 0
	PJRTMinor = 104
)

// VersionCmd is simclr's hidden subcommand that prints a plugin's PJRT API version: PJRTVersion runs it in a
// child process, because loading a broken plugin can crash the process that loads it.
const VersionCmd = "__pjrt-version"

// PJRTVersion returns the PJRT API version of the plugin at path, read by exe (the simclr binary) in a child
// process (VersionCmd).
func PJRTVersion(exe, path string) (major, minor int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, exe, VersionCmd, path)
	cmd.Stderr = &stderr
	out, err := cmd.Output() // plugins log to stderr (CUDA's: "Could not find cuda drivers…"); the answer is stdout's last line
	if err != nil {
		return 0, 0, fmt.Errorf("loading %s in a child process: %v: %s", path, err, lastLine(string(out)+"\n"+stderr.String()))
	}
	if _, err := fmt.Sscanf(lastLine(string(out)), "%d %d", &major, &minor); err != nil {
		return 0, 0, fmt.Errorf("loading %s in a child process: unexpected answer %q", path, out)
	}
	return major, minor, nil
}

// RunVersionCmd is VersionCmd: it prints "major minor" of the plugin at path and returns 0, or prints the error
// and returns 1.
func RunVersionCmd(path string) int {
	major, minor, err := pjrtVersionInProcess(path)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println(major, minor)
	return 0
}

// CheckVersion returns the PJRT API version of the plugin at path (read with PJRTVersion through exe), and
// an error wrapping ErrPluginInit when it cannot report one or it is older than PJRTMajor.PJRTMinor.
func CheckVersion(exe, path string) (major, minor int, err error) {
	major, minor, err = PJRTVersion(exe, path)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrPluginInit, err)
	}
	if major != PJRTMajor || minor < PJRTMinor {
		return major, minor, fmt.Errorf("%w: %s implements PJRT C API %d.%d, older than the %d.%d go-xla needs; use a newer plugin (jax-cuda13-pjrt, or simclr plugin install)",
			ErrPluginInit, path, major, minor, PJRTMajor, PJRTMinor)
	}
	return major, minor, nil
}

// VersionCheck, when set (by the simclr command), checks a plugin before the XLA backend loads it in process.
var VersionCheck func(path string) error

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// isCUDA reports whether the plugin at path is a CUDA one (by its file name, as go-xla decides too).
func isCUDA(path string) bool {
	return strings.Contains(strings.ToLower(filepath.Base(path)), "cuda")
}
