package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/bench"
)

func runBench(args []string) error {
	fs := newFlags("bench")
	workloads := fs.String("workload", bench.DefaultWorkloads, "comma-separated workloads: "+strings.Join(bench.WorkloadNames(), ", ")+", or all (the default leaves out resnet18: minutes per step on 2 cores)")
	backends := fs.StringArray("backend", nil, "backend to time; repeat the flag for several, e.g. --backend go --backend xla:cuda,tf32=false (default $GOMLX_BACKEND or auto)")
	steps := fs.Int("steps", 20, "timed steps per measurement, after one warm-up step (resnet18: at most 3 on CPU)")
	pairs := fs.Int("pairs", 0, "replace every workload's number of pairs N (0: the standard sizes)")
	noRef := fs.Bool("no-reference", false, "skip the pure-Go reference (no ratio is then reported)")
	noPeak := fs.Bool("no-peak", false, "skip the matmul peak probes")
	devices := fs.Int("devices", 1, "run the training steps (onehidden, mlp, cnn, resnet18) data parallel over this many devices of an XLA backend (doc/distributed.md)")
	dtype := fs.String("dtype", "float32", "the training steps' precision: float32, or bfloat16 (mixed precision: the model's forward and backward passes in bfloat16, float32 weights and loss; the loss and augment workloads are skipped)")
	asJSON := fs.Bool("json", false, "print one JSON object per line instead of a table")
	save := fs.String("save", "", "also write the machine description and results as JSON to this file")
	peer := fs.String("peer", "", "also time the same steps in these peer frameworks in the same run, after ours: a comma-separated list of "+strings.Join(bench.PeerNames(), ", ")+" (e.g. pytorch,jax); each backend's ratio to each peer is reported")
	python := fs.String("python", "", "Python for every peer that --peer-python does not name")
	peerPython := fs.StringArray("peer-python", nil, "NAME=PATH: the Python for peer NAME; repeat for several (default: pytorch: /usr/bin/python3, else python3; jax: the venv of scripts/install-jax-peer.sh, ${GOSIMCLR_HOME:-~/.local/share/gosimclr}/jax-venv, else python3; the first that imports torch or jax)")
	from := fs.StringSlice("from", nil, "print the markdown report of saved result files instead of measuring")
	sw := addSweepFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := sw.check(fs); err != nil {
		return err
	}
	if sw.on {
		specs, err := backendSpecs(*backends)
		if err != nil {
			return err
		}
		return runSweep(sw, *workloads, specs, *steps, fs.Changed("steps"), !*noRef)
	}
	if len(*from) > 0 {
		var runs []bench.Saved
		for _, f := range *from {
			s, err := bench.Load(f)
			if err != nil {
				return err
			}
			runs = append(runs, s)
		}
		fmt.Print(bench.Report(runs, *from))
		return nil
	}
	if *pairs < 0 {
		return usageError{fmt.Errorf("--pairs must be ≥ 0, got %d", *pairs)}
	}
	if *steps < 10 {
		return usageError{fmt.Errorf("--steps must be ≥ 10 (the median is taken over them), got %d", *steps)}
	}
	compute, err := benchCompute(*dtype)
	if err != nil {
		return err
	}
	names := strings.Split(*workloads, ",")
	if *workloads == "all" {
		names = bench.WorkloadNames()
	}
	var cases []bench.Case
	for _, name := range names {
		cs, err := bench.CasesOf(strings.TrimSpace(name), *pairs)
		if err != nil {
			return usageError{fmt.Errorf("--workload: %w", err)}
		}
		cases = append(cases, cs...)
	}
	specs, err := backendSpecs(*backends)
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(os.Stderr, "simd=%v; %d timed steps after 1 warm-up; \"vs reference\" = ms/step over the reference's\n", backend.SIMD, *steps)
	}
	var peers []bench.PeerFramework
	if *peer != "" {
		if peers, err = bench.LookupPeers(*peer); err != nil {
			return usageError{fmt.Errorf("--peer: %w", err)}
		}
	}
	pythons, err := peerPythons(peers, *python, *peerPython)
	if err != nil {
		return err
	}
	if *devices < 1 {
		return usageError{fmt.Errorf("--devices must be ≥ 1, got %d", *devices)}
	}
	for _, s := range specs {
		if p, _ := backend.Parse(s); *devices > 1 && p.Name == "go" {
			return usageError{fmt.Errorf("--devices %d: the Go backend has one device and no collectives; data-parallel steps need XLA (--backend xla:cpu or xla:cuda)", *devices)}
		}
	}
	results, err := bench.Run(cases, bench.Options{Backends: specs, Steps: *steps, Reference: !*noRef, Peak: !*noPeak, Devices: *devices, Compute: compute}, os.Stderr)
	if err != nil {
		return err
	}
	// Each peer runs by the same mechanism; when one fails the others still run and the results are still
	// printed and saved, then the command fails with every peer's error.
	var peerErrs []error
	var peerResults []bench.Result
	for _, fw := range peers {
		py, err := bench.FindPeerPython(fw, pythons[fw.Name])
		if err == nil {
			var rs []bench.Result
			if _, rs, err = bench.Peer(fw, py, cases, *steps, os.Stderr); err == nil {
				bench.AddPeerRatios(results, fw.Name, rs)
				peerResults = append(peerResults, rs...)
			}
		}
		if err != nil {
			peerErrs = append(peerErrs, fmt.Errorf("--peer %s: %w", fw.Name, err))
		}
	}
	results = append(results, peerResults...)
	if *save != "" {
		if err := bench.Save(*save, specs, results); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	} else {
		fmt.Print(bench.Table(results))
	}
	return errors.Join(peerErrs...)
}

// peerPythons maps each peer's name to the Python given for it: its --peer-python NAME=PATH, else --python,
// else "" (FindPeerPython searches).
func peerPythons(peers []bench.PeerFramework, python string, flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range peers {
		out[p.Name] = python
	}
	for _, f := range flags {
		name, path, ok := strings.Cut(f, "=")
		if !ok || path == "" {
			return nil, usageError{fmt.Errorf("--peer-python: want NAME=PATH, got %q", f)}
		}
		if _, err := bench.LookupPeers(name); err != nil {
			return nil, usageError{fmt.Errorf("--peer-python: %w", err)}
		}
		out[name] = path
	}
	return out, nil
}

// backendSpecs returns the --backend values, or the default backend when there are none, checking each.
func backendSpecs(flag []string) ([]string, error) {
	specs := flag
	if len(specs) == 0 {
		specs = []string{backend.Spec("")}
	}
	for i, s := range specs {
		if _, err := backend.Parse(s); err != nil {
			return nil, usageError{fmt.Errorf("--backend: %w", err)}
		}
		var err error
		if specs[i], err = backend.Resolve(s); err != nil {
			return nil, err
		}
	}
	return specs, nil
}

// benchCompute is the training steps' compute dtype of --dtype: unset for float32, bfloat16 (float64 is for
// point data and is not benchmarked).
func benchCompute(dtype string) (dtypes.DType, error) {
	switch dtype {
	case "float32":
		return dtypes.InvalidDType, nil
	case "bfloat16":
		return dtypes.BFloat16, nil
	}
	return dtypes.InvalidDType, usageError{fmt.Errorf("--dtype must be float32 or bfloat16, got %q", dtype)}
}
