package main

import (
	"fmt"
	"os"

	"github.com/gosimclr/gosimclr/backend"
)

// runPlugin is "simclr plugin install cpu|cuda": opt-in, with go-xla's installer (it needs the internet).
func runPlugin(args []string) error {
	fs := newFlags("plugin install")
	verbose := fs.Bool("verbose", true, "show the installer's progress")
	if len(args) < 2 || args[0] != "install" || (args[1] != "cpu" && args[1] != "cuda") {
		fmt.Fprintf(os.Stderr, "usage: simclr plugin install cpu|cuda [--verbose=false]\n\n"+
			"Downloads a PJRT plugin with go-xla's installer into ~/.local/lib/go-xla (cuda: its nvidia/ folder with the\n"+
			"NVIDIA libraries), where --backend xla:cpu / xla:cuda find it. Nothing else in gosimclr downloads anything.\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return usageError{fmt.Errorf("plugin: want install cpu or install cuda, got %q", args)}
	}
	kind := args[1]
	if err := parse(fs, args[2:]); err != nil {
		return err
	}
	if err := backend.InstallPlugin(kind, *verbose); err != nil {
		return fmt.Errorf("plugin install %s failed (%v); %s", kind, err, backend.InstallHelp(kind))
	}
	fmt.Fprintf(os.Stderr, "installed; check it with: simclr info --backend xla:%s\n", kind)
	return nil
}
