package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/gosimclr/gosimclr/scripts"
)

// PeerWorkloads are the workloads the peer scripts (scripts/peer_pytorch.py, scripts/peer_jax.py) implement.
var PeerWorkloads = map[string]bool{"loss": true, "mlp": true, "cnn": true, "resnet18": true}

// MinSoundPeerGFLOPs is the float32 1024³ matmul rate below which a peer is flagged as unsound: a working BLAS
// (or XLA's Eigen) reaches it on our 2-core machines; one without threads or with a wrong kernel does not.
const MinSoundPeerGFLOPs = 50

// PeerFramework is a framework that simclr bench --peer times the same steps in, by a Python script embedded in
// the binary. Every peer is run by the one mechanism of Peer; they differ only in these fields.
type PeerFramework struct {
	Name    string // the --peer value and the key of Result.RatioToPeer: "pytorch", "jax"
	Label   string // for people: "PyTorch", "JAX"
	Backend string // Result.Backend of its results: "pytorch-cpu", "jax-cpu"
	File    string // the script's file name
	Script  string // the script's text
	Module  string // what a Python must import to run it: "torch", "jax"
	Install string // how to get such a Python, for error messages
	// Pythons lists the Pythons to try, in order, when none is given.
	Pythons func() []string
}

// JAXVenvPython is the Python of the venv that scripts/install-jax-peer.sh makes:
// ${GOSIMCLR_HOME:-$HOME/.local/share/gosimclr}/jax-venv/bin/python.
func JAXVenvPython() string {
	home := os.Getenv("GOSIMCLR_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".local", "share", "gosimclr")
	}
	return filepath.Join(home, "jax-venv", "bin", "python")
}

// PeerFrameworks are the known peers, in the order simclr bench runs and reports them.
var PeerFrameworks = []PeerFramework{
	{Name: "pytorch", Label: "PyTorch", Backend: "pytorch-cpu", File: "peer_pytorch.py", Script: scripts.PeerPyTorch,
		Module: "torch", Install: "Debian: apt-get install python3-torch libopenblas0-pthread",
		// Debian's python3-torch installs for /usr/bin/python3.
		Pythons: func() []string { return []string{"/usr/bin/python3", "python3"} }},
	{Name: "jax", Label: "JAX", Backend: "jax-cpu", File: "peer_jax.py", Script: scripts.PeerJAX,
		Module: "jax", Install: "scripts/install-jax-peer.sh (a venv with the pinned jax 0.11.2)",
		// Our pinned venv first, then whatever python3 has jax.
		Pythons: func() []string { return []string{JAXVenvPython(), "python3", "/usr/bin/python3"} }},
}

// PeerNames lists the names of PeerFrameworks.
func PeerNames() []string {
	var ns []string
	for _, p := range PeerFrameworks {
		ns = append(ns, p.Name)
	}
	return ns
}

// LookupPeers returns the frameworks of a comma-separated list of peer names ("pytorch,jax"), each once, in the
// list's order.
func LookupPeers(list string) ([]PeerFramework, error) {
	var out []PeerFramework
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(PeerFrameworks, func(p PeerFramework) bool { return p.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown peer %q, want a comma-separated list of %s", n, strings.Join(PeerNames(), ", "))
		}
		if !slices.ContainsFunc(out, func(p PeerFramework) bool { return p.Name == n }) {
			out = append(out, PeerFrameworks[i])
		}
	}
	return out, nil
}

// PeerProbe is the peer's own matmul rate, measured in the same run.
type PeerProbe struct {
	GFLOPs  float64 `json:"gflops"`
	Version string  `json:"version"`
	Threads int     `json:"threads"`
}

// Sound reports whether the peer's matmul rate is one to compare against.
func (p PeerProbe) Sound() bool { return p.GFLOPs >= MinSoundPeerGFLOPs }

// FindPeerPython returns the Python to run fw's script with: flag if set, else the first of fw.Pythons() that
// exists and imports fw.Module. With none, the error names what was tried and how to install one.
func FindPeerPython(fw PeerFramework, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	var tried []string
	for _, c := range fw.Pythons() {
		path, err := exec.LookPath(c)
		if err != nil {
			tried = append(tried, c+" (absent)")
			continue
		}
		if slices.Contains(tried, path) {
			continue
		}
		if exec.Command(path, "-c", "import "+fw.Module).Run() == nil {
			return path, nil
		}
		tried = append(tried, path)
	}
	return "", fmt.Errorf("no Python that imports %s (tried %s); %s, or give one with --peer-python %s=PATH",
		fw.Module, strings.Join(tried, ", "), fw.Install, fw.Name)
}

// Peer runs fw's script (fw.Script) with python on every case whose workload it implements, at the same pairs
// and latent dimension, with runtime.NumCPU() threads, and returns its matmul probe and one Result per case
// (Backend fw.Backend). An error says why the peer could not run (no Python, no framework).
func Peer(fw PeerFramework, python string, cases []Case, steps int, log io.Writer) (PeerProbe, []Result, error) {
	var probe PeerProbe
	dir, err := os.MkdirTemp("", "simclr-peer")
	if err != nil {
		return probe, nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, fw.File)
	if err := os.WriteFile(path, []byte(fw.Script), 0o644); err != nil {
		return probe, nil, err
	}
	call := func(args ...string) ([]map[string]any, error) {
		args = append([]string{path, "--json", "--threads", strconv.Itoa(runtime.NumCPU())}, args...)
		var out, errb bytes.Buffer
		cmd := exec.Command(python, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("bench: %s peer (%s): %v: %s", fw.Label, python, err, bytes.TrimSpace(errb.Bytes()))
		}
		var objs []map[string]any
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				return nil, fmt.Errorf("bench: %s peer printed %q: %v", fw.Label, sc.Text(), err)
			}
			objs = append(objs, m)
		}
		return objs, nil
	}
	objs, err := call("--probe", "--workload", "loss", "--steps", "1", "--pairs", "2")
	if err != nil {
		return probe, nil, err
	}
	if len(objs) == 0 {
		return probe, nil, fmt.Errorf("bench: the %s peer printed no probe", fw.Label)
	}
	probe = PeerProbe{GFLOPs: num(objs[0]["gflops"]), Version: version(objs[0]), Threads: int(num(objs[0]["threads"]))}
	fmt.Fprintf(log, "peer: %s %s, %d threads, float32 1024³ matmul %.0f GFLOP/s%s\n", fw.Label, probe.Version, probe.Threads, probe.GFLOPs,
		map[bool]string{true: "", false: fmt.Sprintf("  << UNSOUND PEER (below %d GFLOP/s): its times are not to be quoted", MinSoundPeerGFLOPs)}[probe.Sound()])
	var rs []Result
	done := map[string]bool{}
	for _, c := range cases {
		key := fmt.Sprintf("%s/%d/%d", c.Workload, c.Pairs, c.Latent)
		if !PeerWorkloads[c.Workload] || done[key] || (c.Workload != "loss" && c.Latent != 128) {
			continue
		}
		done[key] = true
		fmt.Fprintf(log, "%s on %s…\n", c.Label(), fw.Backend)
		n := steps
		if c.Workload == "resnet18" {
			n = min(n, 3)
		}
		objs, err := call("--workload", c.Workload, "--pairs", strconv.Itoa(c.Pairs), "--latent", strconv.Itoa(c.Latent), "--steps", strconv.Itoa(n))
		if err != nil {
			return probe, rs, err
		}
		for _, m := range objs {
			r := c.result(fw.Backend)
			r.MsPerStep, r.MinMs, r.MaxMs = num(m["ms_per_step"]), num(m["min_ms"]), num(m["max_ms"])
			r.Steps, r.SamplesPerSec, r.CompileMs = int(num(m["steps"])), num(m["samples_per_s"]), num(m["compile_ms"])
			if c.FLOPs > 0 {
				r.FLOPsPerStep = c.FLOPs
				r.GFLOPs = c.FLOPs / (r.MsPerStep * 1e6)
			}
			r.PeakGFLOPs = probe.GFLOPs
			if r.PeakGFLOPs > 0 && r.GFLOPs > 0 {
				r.PeakFraction = r.GFLOPs / r.PeakGFLOPs
			}
			r.Device = fmt.Sprintf("%s %s, %d threads", fw.Label, probe.Version, probe.Threads)
			rs = append(rs, r)
		}
	}
	return probe, rs, nil
}

// version is a peer object's "version", or the "torch_version" that peer_pytorch.py printed before it had one.
func version(m map[string]any) string {
	for _, k := range []string{"version", "torch_version", "jax_version"} {
		if v, ok := m[k].(string); ok {
			return v
		}
	}
	return "?"
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// AddPeerRatios sets RatioToPeer[name] of every GoMLX result (not the reference, not a peer's) to its ms/step
// over the peer's (results of the peer called name) for the same workload, pairs, latent dimension, width and
// depth, measured in the same run; for name "pytorch" it also sets RatioToPyTorch.
func AddPeerRatios(rs []Result, name string, peer []Result) {
	peerBackends := map[string]bool{}
	for _, p := range PeerFrameworks {
		peerBackends[p.Backend] = true
	}
	for i := range rs {
		if rs[i].Backend == "reference" || peerBackends[rs[i].Backend] {
			continue
		}
		for _, p := range peer {
			if p.Workload == rs[i].Workload && p.Pairs == rs[i].Pairs && p.LatentDim == rs[i].LatentDim && p.Width == rs[i].Width && p.Depth == rs[i].Depth && p.MsPerStep > 0 {
				if rs[i].RatioToPeer == nil {
					rs[i].RatioToPeer = map[string]float64{}
				}
				rs[i].RatioToPeer[name] = rs[i].MsPerStep / p.MsPerStep
				if name == "pytorch" {
					rs[i].RatioToPyTorch = rs[i].RatioToPeer[name]
				}
			}
		}
	}
}

// peerRatios returns r's ratios by peer name, reading RatioToPyTorch of results saved before RatioToPeer.
func (r Result) peerRatios() map[string]float64 {
	if r.RatioToPeer == nil && r.RatioToPyTorch > 0 {
		return map[string]float64{"pytorch": r.RatioToPyTorch}
	}
	return r.RatioToPeer
}
