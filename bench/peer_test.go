package bench

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/scripts"
)

// fakePython writes a stand-in "python" (a shell script) that logs its arguments to dir/calls and answers with
// body (the cases of a shell case statement).
func fakePython(t *testing.T, dir, body string) string {
	t.Helper()
	fake := filepath.Join(dir, "python")
	script := "#!/bin/sh\necho \"$@\" >> " + filepath.Join(dir, "calls") + "\ncase \"$*\" in\n" + body +
		"*) echo \"unexpected: $*\" >&2; exit 3 ;;\nesac\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return fake
}

func framework(t *testing.T, name string) PeerFramework {
	t.Helper()
	fws, err := LookupPeers(name)
	if err != nil || len(fws) != 1 {
		t.Fatalf("LookupPeers(%q) = %v, %v", name, fws, err)
	}
	return fws[0]
}

// TestPeer runs Peer against a stand-in "python" that answers like peer_pytorch.py: the probe first, then one
// line per case; checks what is asked, the results and the ratios; and that a peer that fails comes back as an
// error naming it.
func TestPeer(t *testing.T) {
	dir := t.TempDir()
	fake := fakePython(t, dir, `*--probe*) echo '{"probe":"matmul1024","gflops":42.5,"torch_version":"9.9","threads":2}' ;;
*"--workload loss"*"--latent 32"*) echo '{"ms_per_step":2.0,"min_ms":1.5,"max_ms":3.0,"steps":10,"samples_per_s":512000,"compile_ms":1}' ;;
*"--workload mlp"*) echo '{"ms_per_step":10.0,"min_ms":9,"max_ms":11,"steps":10,"samples_per_s":51200,"compile_ms":1}' ;;
`)
	fw := framework(t, "pytorch")
	fw.Script = "print('peer')"
	cases := []Case{LossCase(256, 32), DeepMLPCase(1, 256), AugmentCase(8)}
	probe, rs, err := Peer(fw, fake, cases, 10, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if probe.GFLOPs != 42.5 || probe.Sound() || probe.Version != "9.9" {
		t.Errorf("probe = %+v (sound %v), want 42.5 GFLOP/s, unsound, version 9.9 from torch_version", probe, probe.Sound())
	}
	if len(rs) != 2 || rs[0].Workload != "loss" || rs[0].MsPerStep != 2 || rs[0].LatentDim != 32 || rs[1].Workload != "mlp" || rs[1].Backend != "pytorch-cpu" {
		t.Fatalf("peer results %+v", rs)
	}
	calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
	if n := strings.Count(string(calls), "\n"); n != 3 || strings.Contains(string(calls), "augment") {
		t.Errorf("calls:\n%s", calls)
	}
	ours := []Result{{Workload: "loss", Backend: "go", Pairs: 256, LatentDim: 32, MsPerStep: 3},
		{Workload: "loss", Backend: "reference", Pairs: 256, LatentDim: 32, MsPerStep: 1},
		{Workload: "loss", Backend: "go", Pairs: 256, LatentDim: 128, MsPerStep: 5}}
	AddPeerRatios(ours, "pytorch", rs)
	if ours[0].RatioToPeer["pytorch"] != 1.5 || ours[0].RatioToPyTorch != 1.5 || ours[1].RatioToPeer != nil || ours[2].RatioToPeer != nil {
		t.Errorf("ratios %v %v %v, want 1.5, none (reference), none (no peer at k = 128)", ours[0].RatioToPeer, ours[1].RatioToPeer, ours[2].RatioToPeer)
	}
	if _, _, err := Peer(fw, fake, []Case{CNNCase(4)}, 10, io.Discard); err == nil || !strings.Contains(err.Error(), "PyTorch peer") {
		t.Errorf("a failing peer gave %v", err)
	}
}

// TestPeerJAX: the JAX peer's lines (peer_jax.py's fields, compile_s and all) become jax-cpu results; with a
// PyTorch peer in the same run every backend gets a ratio to each, only the PyTorch one is copied to
// ratio_to_pytorch, the JSON carries both, and the table has a column per peer.
func TestPeerJAX(t *testing.T) {
	dir := t.TempDir()
	fake := fakePython(t, dir, `*--probe*) echo '{"probe":"matmul1024","gflops":101.5,"framework":"jax","version":"0.11.2","jax_version":"0.11.2","threads":2,"sound":true}' ;;
*"--workload mlp"*) echo '{"workload":"mlp","backend":"jax-cpu","ms_per_step":8.0,"min_ms":7.5,"max_ms":9.5,"steps":10,"samples_per_s":64000,"compile_ms":612.5,"compile_s":0.6,"first_call_ms":20.5,"views":512,"pairs":256,"framework":"jax","version":"0.11.2","jax_version":"0.11.2","threads":2,"device":"cpu","latent_dim":128}' ;;
`)
	fw := framework(t, "jax")
	probe, rs, err := Peer(fw, fake, []Case{DeepMLPCase(1, 256)}, 10, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !probe.Sound() || probe.Version != "0.11.2" || probe.Threads != 2 {
		t.Errorf("probe %+v", probe)
	}
	if len(rs) != 1 {
		t.Fatalf("results %+v", rs)
	}
	r := rs[0]
	if r.Backend != "jax-cpu" || r.MsPerStep != 8 || r.MinMs != 7.5 || r.MaxMs != 9.5 || r.CompileMs != 612.5 || r.Steps != 10 ||
		r.Pairs != 256 || r.LatentDim != 128 || r.Device != "JAX 0.11.2, 2 threads" || !(r.GFLOPs > 0) || r.PeakGFLOPs != 101.5 {
		t.Errorf("JAX result %+v", r)
	}
	calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
	if !strings.Contains(string(calls), "peer_jax.py --json --threads") {
		t.Errorf("the JAX peer was not run as peer_jax.py: %s", calls)
	}
	torch := Result{Workload: "mlp", Backend: "pytorch-cpu", Pairs: 256, LatentDim: 128, Width: 512, Depth: 1, MsPerStep: 16}
	ours := []Result{{Workload: "mlp", Backend: "go", Pairs: 256, LatentDim: 128, Width: 512, Depth: 1, MsPerStep: 12}, torch, r}
	AddPeerRatios(ours, "pytorch", []Result{torch})
	AddPeerRatios(ours, "jax", rs)
	if g := ours[0]; g.RatioToPeer["pytorch"] != 0.75 || g.RatioToPeer["jax"] != 1.5 || g.RatioToPyTorch != 0.75 {
		t.Errorf("go's ratios %v, ratio_to_pytorch %v; want pytorch 0.75, jax 1.5", g.RatioToPeer, g.RatioToPyTorch)
	}
	if ours[1].RatioToPeer != nil || ours[2].RatioToPeer != nil {
		t.Errorf("a peer's own results got ratios: %v %v", ours[1].RatioToPeer, ours[2].RatioToPeer)
	}
	b, _ := json.Marshal(ours[0])
	if !strings.Contains(string(b), `"ratio_to_peer":{"jax":1.5,"pytorch":0.75}`) || !strings.Contains(string(b), `"ratio_to_pytorch":0.75`) {
		t.Errorf("JSON %s", b)
	}
	tab := Table(ours)
	if !strings.Contains(tab, "| vs reference | vs PyTorch | vs JAX |") || !strings.Contains(tab, "| 0.75× | 1.50× |") {
		t.Errorf("table:\n%s", tab)
	}
	// A result saved before ratio_to_peer (ratio_to_pytorch alone) still shows its PyTorch ratio.
	var old Result
	if err := json.Unmarshal([]byte(`{"workload":"mlp","backend":"go","ms_per_step":3,"ratio_to_pytorch":1.25}`), &old); err != nil {
		t.Fatal(err)
	}
	if tab := Table([]Result{old}); !strings.Contains(tab, "vs PyTorch |") || strings.Contains(tab, "vs JAX") || !strings.Contains(tab, "1.25×") {
		t.Errorf("old result's table:\n%s", tab)
	}
	if tab := Table([]Result{{Workload: "mlp", Backend: "go", MsPerStep: 3}}); strings.Contains(tab, "vs PyTorch") {
		t.Errorf("a run without peers has a peer column:\n%s", tab)
	}
}

// TestPeerScriptsEmbedded: each peer's script is the embedded text of its file in scripts/, and prints the
// backend name the Go side files its results under.
func TestPeerScriptsEmbedded(t *testing.T) {
	for _, fw := range PeerFrameworks {
		disk, err := os.ReadFile(filepath.Join("..", "scripts", fw.File))
		if err != nil {
			t.Fatal(err)
		}
		if fw.Script == "" || fw.Script != string(disk) {
			t.Errorf("%s: the embedded script differs from scripts/%s", fw.Name, fw.File)
		}
		if !strings.Contains(fw.Script, `"`+strings.TrimSuffix(fw.Backend, "-cpu")) || !strings.Contains(fw.Script, "--probe") {
			t.Errorf("%s: script does not name backend %s or lack --probe", fw.Name, fw.Backend)
		}
	}
	if framework(t, "jax").Script != scripts.PeerJAX || !strings.Contains(scripts.PeerJAX, `"backend": "jax-cpu"`) {
		t.Error("the JAX peer is not scripts.PeerJAX, or it does not print backend jax-cpu")
	}
}

func TestLookupPeers(t *testing.T) {
	fws, err := LookupPeers("pytorch, jax,pytorch")
	if err != nil || len(fws) != 2 || fws[0].Name != "pytorch" || fws[1].Name != "jax" {
		t.Errorf("LookupPeers = %v, %v", fws, err)
	}
	if _, err := LookupPeers("pytorch,tensorflow"); err == nil || !strings.Contains(err.Error(), "tensorflow") {
		t.Errorf("unknown peer gave %v", err)
	}
}

// TestFindPeerPython: a flag wins; else the first candidate that imports the framework's module; else an error
// that says how to install one.
func TestFindPeerPython(t *testing.T) {
	dir := t.TempDir()
	without, with := filepath.Join(dir, "without"), filepath.Join(dir, "with")
	os.WriteFile(without, []byte("#!/bin/sh\nexit 1\n"), 0o755)
	os.WriteFile(with, []byte("#!/bin/sh\n[ \"$2\" = \"import jax\" ]\n"), 0o755)
	fw := framework(t, "jax")
	fw.Pythons = func() []string { return []string{filepath.Join(dir, "absent"), without, with} }
	if py, err := FindPeerPython(fw, "/x/python"); py != "/x/python" || err != nil {
		t.Errorf("flag: %q, %v", py, err)
	}
	if py, err := FindPeerPython(fw, ""); py != with || err != nil {
		t.Errorf("search: %q, %v; want %s", py, err, with)
	}
	fw.Pythons = func() []string { return []string{without} }
	if _, err := FindPeerPython(fw, ""); err == nil || !strings.Contains(err.Error(), "install-jax-peer.sh") || !strings.Contains(err.Error(), without) {
		t.Errorf("none: %v", err)
	}
	t.Setenv("GOSIMCLR_HOME", "/opt/g")
	if p := JAXVenvPython(); p != "/opt/g/jax-venv/bin/python" {
		t.Errorf("JAXVenvPython = %s", p)
	}
}

// TestPeerJAXRuns runs the real peer_jax.py on small loss and MLP steps where a Python with jax is found (the
// venv of scripts/install-jax-peer.sh, or python3); it skips where there is none.
func TestPeerJAXRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs JAX (seconds)")
	}
	fw := framework(t, "jax")
	py, err := FindPeerPython(fw, "")
	if err != nil {
		t.Skipf("no JAX: %v", err)
	}
	probe, rs, err := Peer(fw, py, []Case{LossCase(16, 32), DeepMLPCase(1, 16)}, 10, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if probe.GFLOPs <= 0 || probe.Version == "?" {
		t.Errorf("probe %+v", probe)
	}
	if len(rs) != 2 || rs[0].Workload != "loss" || rs[0].LatentDim != 32 || rs[1].Workload != "mlp" {
		t.Fatalf("results %+v", rs)
	}
	for _, r := range rs {
		if r.Backend != "jax-cpu" || !(r.MsPerStep > 0) || r.MinMs > r.MsPerStep || r.MaxMs < r.MsPerStep || r.Steps != 10 || r.Views != 32 {
			t.Errorf("%s: %+v", r.Workload, r)
		}
	}
}
