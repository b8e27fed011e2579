//go:build !noxla

package backend

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
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
	b, err := xla.New(cfg)
	if err != nil && isCUDA(path) && !nvidiaDriver() {
		return nil, fmt.Errorf("%w: %s is a CUDA plugin, and this machine has no NVIDIA GPU driver (no /dev/nvidiactl, "+
			"no /proc/driver/nvidia/version, so no libcuda.so.1 to open): it cannot initialise without a GPU; use --backend xla:cpu or go (%v)",
			ErrPluginInit, path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPluginInit, path, err)
	}
	return b, nil
}
