package main

import (
	"fmt"
	"os"

	"github.com/gosimclr/gosimclr/backend"
)

// runPlugin is "simclr plugin install cpu|cuda": opt-in, the pinned wheel with pip (it needs the package index,
// or --wheel-dir), then a check that the plugin loads and, for cpu, runs a graph.
func runPlugin(args []string) error {
	fs := newFlags("plugin install")
	python := fs.String("python", "", "the Python that creates gosimclr's virtual environment (default: python3 on PATH)")
	wheelDir := fs.String("wheel-dir", "", "install from the pinned wheel in this folder instead of the package index (offline)")
	quiet := fs.Bool("quiet", false, "hide pip's output")
	if len(args) < 2 || args[0] != "install" || (args[1] != "cpu" && args[1] != "cuda") {
		pins := backend.Pins()
		fmt.Fprintf(helpOut(asksHelp(args)), "usage: simclr plugin install cpu|cuda [--python PY] [--wheel-dir DIR] [--quiet]\n\n"+
			"Installs a pinned PJRT plugin with pip (--require-hashes, no dependencies) into gosimclr's virtual\n"+
			"environment ($%s, default ~/.local/share/gosimclr, folder pjrt-venv) and checks that it loads:\n"+
			"  cpu   %s==%s (XLA's CPU plugin of jaxlib %s), linked as plugins/pjrt_c_api_cpu_plugin.so there\n"+
			"  cuda  %s==%s (XLA's CUDA 13 plugin; needs an NVIDIA GPU and the CUDA 13 libraries to run)\n"+
			"--backend auto (the default) then uses it. Nothing else in gosimclr downloads anything.\n",
			backend.HomeEnv, pins["cpu"].Package, pins["cpu"].Version, pins["cpu"].Version, pins["cuda"].Package, pins["cuda"].Version)
		if asksHelp(args) {
			return nil
		}
		return usageError{fmt.Errorf("plugin: want install cpu or install cuda, got %q", args)}
	}
	kind := args[1]
	if err := parse(fs, args[2:]); err != nil {
		return err
	}
	o := backend.InstallOptions{Python: *python, WheelDir: *wheelDir, Log: os.Stderr}
	if *quiet {
		o.Log = nil
	}
	path, err := backend.InstallPinned(kind, o)
	if err != nil {
		return fmt.Errorf("plugin install %s failed: %v; %s", kind, err, backend.InstallHelp(kind))
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	major, minor, err := backend.CheckVersion(exe, path)
	if err != nil {
		return fmt.Errorf("plugin install %s: %s was installed but does not load: %v", kind, path, err)
	}
	fmt.Fprintf(os.Stderr, "installed %s (PJRT C API %d.%d)\n", path, major, minor)
	if kind == "cuda" {
		fmt.Fprintf(os.Stderr, "check it on a GPU machine with: simclr info --backend xla:cuda\n")
		return nil
	}
	b, err := backend.New("xla:cpu")
	if err != nil {
		return fmt.Errorf("plugin install cpu: %v", err)
	}
	defer b.Finalize()
	if err := backend.Smoke(b); err != nil {
		return fmt.Errorf("plugin install cpu: %v", err)
	}
	fmt.Fprintf(os.Stderr, "it runs: %s; --backend auto (the default) now uses xla:cpu (--backend go for the pure-Go backend)\n", backend.Describe(b))
	return nil
}
