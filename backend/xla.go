//go:build !noxla

package backend

import (
	"fmt"
	"path/filepath"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/installer"
)

// XLACompiled tells whether this binary includes the XLA backend (it is left out with -tags noxla).
const XLACompiled = true

func init() { xla.EnableAutoInstall(false) }

func newXLA(p Parsed) (compute.Backend, error) {
	path, err := findPlugin(p.Plugin)
	if err != nil {
		return nil, err
	}
	if VersionCheck != nil {
		if err := VersionCheck(path); err != nil {
			return nil, err
		}
	}
	cfg := path
	if p.Options != "" {
		cfg += "," + p.Options
	}
	return xla.New(cfg)
}

// InstallPlugin installs the PJRT plugin kind ("cpu" or "cuda") with go-xla's installer into
// ~/.local/lib/go-xla (CUDA: its nvidia/ folder, with the NVIDIA libraries), where SearchDirs finds it. It
// needs the internet; the caller says what to do by hand when it fails (InstallHelp).
func InstallPlugin(kind string, verbose bool) error {
	lib, err := installer.DefaultHomeLibPath()
	if err != nil {
		return err
	}
	dir := filepath.Join(lib, "go-xla")
	v := installer.Normal
	if !verbose {
		v = installer.Quiet
	}
	switch kind {
	case "cpu":
		return installer.CPUAutoInstall(dir, true, v)
	case "cuda":
		return installer.CudaInstall("cuda13", "latest", dir, true, v)
	}
	return fmt.Errorf("%w: plugin install takes cpu or cuda, got %q", ErrBadSpec, kind)
}
