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
	"strconv"
)

// PeerWorkloads are the workloads scripts/peer_pytorch.py implements.
var PeerWorkloads = map[string]bool{"loss": true, "mlp": true, "cnn": true, "resnet18": true}

// MinSoundPeerGFLOPs is the float32 1024³ matmul rate below which a PyTorch peer is flagged as unsound: a
// working BLAS reaches it on our 2-core machines; one without threads or with a wrong kernel does not.
const MinSoundPeerGFLOPs = 50

// PeerProbe is the peer's own matmul rate, measured in the same run.
type PeerProbe struct {
	GFLOPs  float64 `json:"gflops"`
	Version string  `json:"torch_version"`
	Threads int     `json:"threads"`
}

// Sound reports whether the peer's matmul rate is one to compare against.
func (p PeerProbe) Sound() bool { return p.GFLOPs >= MinSoundPeerGFLOPs }

// FindPython returns the Python to run the peer with: flag if set, else Debian's /usr/bin/python3 (where
// python3-torch installs), else python3 on PATH.
func FindPython(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3", nil
	}
	return exec.LookPath("python3")
}

// Peer runs the PyTorch peer (script: the text of scripts/peer_pytorch.py) with python on every case whose
// workload it implements, at the same pairs and latent dimension, with runtime.NumCPU() threads, and returns
// its matmul probe and one Result per case (Backend "pytorch-cpu"). An error says why the peer could not run
// (no Python, no torch): the caller reports it and goes on without peer ratios.
func Peer(python, script string, cases []Case, steps int, log io.Writer) (PeerProbe, []Result, error) {
	var probe PeerProbe
	dir, err := os.MkdirTemp("", "simclr-peer")
	if err != nil {
		return probe, nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "peer_pytorch.py")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return probe, nil, err
	}
	call := func(args ...string) ([]map[string]any, error) {
		args = append([]string{path, "--json", "--threads", strconv.Itoa(runtime.NumCPU())}, args...)
		var out, errb bytes.Buffer
		cmd := exec.Command(python, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("bench: PyTorch peer (%s): %v: %s", python, err, bytes.TrimSpace(errb.Bytes()))
		}
		var objs []map[string]any
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				return nil, fmt.Errorf("bench: PyTorch peer printed %q: %v", sc.Text(), err)
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
		return probe, nil, fmt.Errorf("bench: the PyTorch peer printed no probe")
	}
	probe = PeerProbe{GFLOPs: num(objs[0]["gflops"]), Version: fmt.Sprint(objs[0]["torch_version"]), Threads: int(num(objs[0]["threads"]))}
	fmt.Fprintf(log, "peer: PyTorch %s, %d threads, float32 1024³ matmul %.0f GFLOP/s%s\n", probe.Version, probe.Threads, probe.GFLOPs,
		map[bool]string{true: "", false: fmt.Sprintf("  << UNSOUND PEER (below %d GFLOP/s): its times are not to be quoted", MinSoundPeerGFLOPs)}[probe.Sound()])
	var rs []Result
	done := map[string]bool{}
	for _, c := range cases {
		key := fmt.Sprintf("%s/%d/%d", c.Workload, c.Pairs, c.Latent)
		if !PeerWorkloads[c.Workload] || done[key] || (c.Workload != "loss" && c.Latent != 128) {
			continue
		}
		done[key] = true
		fmt.Fprintf(log, "%s on pytorch-cpu…\n", c.Label())
		n := steps
		if c.Workload == "resnet18" {
			n = min(n, 3)
		}
		objs, err := call("--workload", c.Workload, "--pairs", strconv.Itoa(c.Pairs), "--latent", strconv.Itoa(c.Latent), "--steps", strconv.Itoa(n))
		if err != nil {
			return probe, rs, err
		}
		for _, m := range objs {
			r := c.result("pytorch-cpu")
			r.MsPerStep, r.MinMs, r.MaxMs = num(m["ms_per_step"]), num(m["min_ms"]), num(m["max_ms"])
			r.Steps, r.SamplesPerSec, r.CompileMs = int(num(m["steps"])), num(m["samples_per_s"]), num(m["compile_ms"])
			if c.FLOPs > 0 {
				r.GFLOPs = c.FLOPs / (r.MsPerStep * 1e6)
			}
			r.PeakGFLOPs = probe.GFLOPs
			if r.PeakGFLOPs > 0 && r.GFLOPs > 0 {
				r.PeakFraction = r.GFLOPs / r.PeakGFLOPs
			}
			r.Device = fmt.Sprintf("PyTorch %s, %d threads", probe.Version, probe.Threads)
			rs = append(rs, r)
		}
	}
	return probe, rs, nil
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// AddPeerRatios sets RatioToPeer of every GoMLX result (not the reference, not the peer) to its ms/step over
// the peer's for the same workload, pairs and latent dimension, measured in the same run.
func AddPeerRatios(rs []Result, peer []Result) {
	for i := range rs {
		if rs[i].Backend == "reference" {
			continue
		}
		for _, p := range peer {
			if p.Workload == rs[i].Workload && p.Pairs == rs[i].Pairs && p.LatentDim == rs[i].LatentDim && p.Width == rs[i].Width && p.Depth == rs[i].Depth {
				rs[i].RatioToPeer = rs[i].MsPerStep / p.MsPerStep
			}
		}
	}
}
