// Command simclr trains, evaluates and benchmarks SimCLR encoders with GoMLX.
//
//	simclr train [flags]   train an encoder (simclr train --help)
//	simclr eval --run DIR  kNN and linear-probe accuracy of a trained run (DIR/eval.json)
//	simclr export --run DIR  the encoder as .npz or safetensors (PyTorch layout), or ONNX
//	simclr embed --run DIR   encoder features of the run's data as .npy
//	simclr info            Go version, SIMD, backends, PJRT plugins and devices
//	simclr bench [flags]   time training steps against the pure-Go reference
//	simclr augment [flags] write a PNG grid of augmented views
//
// Exit status: 0 success, 1 runtime failure, 2 usage error.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/train"
	"github.com/spf13/pflag"
)

type command struct {
	name, summary string
	run           func(args []string) error
}

var commands = []command{
	{"train", "train a SimCLR encoder", runTrain},
	{"info", "print the Go version, SIMD, backends, PJRT plugins and devices", runInfo},
	{"plugin", "install a PJRT plugin (install cpu|cuda; needs the internet)", runPlugin},
	{"eval", "evaluate a trained run: kNN and linear probe against raw-input baselines", runEval},
	{"export", "write a run's encoder as .npz or safetensors in PyTorch's layout, or as an ONNX model", runExport},
	{"embed", "write a run's encoder features of its data as .npy (with labels)", runEmbed},
	{"bench", "time SimCLR steps on a backend and on the pure-Go reference", runBench},
	{"augment", "write a PNG grid of augmented views of a data set's images", runAugment},
	{"experiment", "run a reproduction experiment (loss-landscape, particle-vs-network, depth-width, ntk, authors-1d, mnist-012, all)", runExperiment},
}

// usageError makes main exit with status 2.
type usageError struct{ error }

// usage prints the top-level help to w: stdout when asked for (--help), stderr beside a usage error.
func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: simclr <command> [flags]\n\ncommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "\nsimclr <command> --help shows a command's flags; simclr --version the build.\n")
}

// helpOut is where help goes: stdout when the user asked for it (so that it pipes into less or grep), stderr
// when it accompanies a usage error.
func helpOut(asked bool) io.Writer {
	if asked {
		return os.Stdout
	}
	return os.Stderr
}

// asksHelp reports whether args start with -h or --help.
func asksHelp(args []string) bool { return len(args) > 0 && (args[0] == "-h" || args[0] == "--help") }

func main() {
	if len(os.Args) == 3 && os.Args[1] == backend.VersionCmd { // a child of PJRTVersion: load one plugin, report
		os.Exit(backend.RunVersionCmd(os.Args[2]))
	}
	if exe, err := os.Executable(); err == nil {
		backend.VersionCheck = func(path string) error { _, _, err := backend.CheckVersion(exe, path); return err }
	}
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "version") {
		printVersion()
		return
	}
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage(helpOut(len(os.Args) >= 2))
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	for _, c := range commands {
		if c.name == os.Args[1] {
			os.Exit(exitCode(c.run(os.Args[2:])))
		}
	}
	fmt.Fprintf(os.Stderr, "simclr: unknown command %q\n\n", os.Args[1])
	usage(os.Stderr)
	os.Exit(2)
}

// exitCode prints err (if any) and maps it to the exit status.
func exitCode(err error) int {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(os.Stderr, "simclr: %v\n", err)
	var intr train.InterruptedError
	if errors.As(err, &intr) {
		if intr.Signal == syscall.SIGTERM {
			return 143
		}
		return 130
	}
	var u usageError
	if errors.As(err, &u) || isUsage(err) || errors.Is(err, backend.ErrNoPlugin) || errors.Is(err, backend.ErrBadSpec) || errors.Is(err, backend.ErrPluginInit) {
		return 2
	}
	return 1
}

// newFlags returns a flag set that reports errors instead of exiting, keeping flags in declaration order.
func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() { // pflag calls it for -h and --help only: the help asked for, to stdout
		fmt.Fprintf(os.Stdout, "usage: simclr %s [flags]\n\n%s", name, fs.FlagUsages())
	}
	return fs
}

// parse parses args, turning a flag error into a usageError.
func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// printVersion prints the module version and commit, Go, SIMD and the compiled-in backends.
func printVersion() {
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	names := compute.List()
	slices.Sort(names)
	fmt.Printf("simclr %s, commit %s\n%s %s/%s, GOEXPERIMENT=simd: %v\nbackends: %s (xla compiled in: %v)\n",
		version, train.GitCommit(), runtime.Version(), runtime.GOOS, runtime.GOARCH, backend.SIMD, strings.Join(names, ", "), backend.XLACompiled)
}
