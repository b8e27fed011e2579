//go:build noxla

package backend

import (
	"fmt"

	"github.com/gomlx/compute"
)

// XLACompiled tells whether this binary includes the XLA backend (it is left out with -tags noxla).
const XLACompiled = false

func newXLA(p Parsed) (compute.Backend, error) {
	if _, err := findPlugin(p.Plugin); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: this binary was built with -tags noxla (or CGO_ENABLED=0); rebuild with cgo to use XLA", ErrNoPlugin)
}

// InstallPlugin cannot install anything in a binary without XLA.
func InstallPlugin(kind string, verbose bool) error {
	return fmt.Errorf("%w: this binary was built with -tags noxla (or CGO_ENABLED=0): it cannot use a plugin", ErrNoPlugin)
}

func pjrtVersionInProcess(path string) (major, minor int, err error) {
	return 0, 0, fmt.Errorf("this binary was built with -tags noxla (or CGO_ENABLED=0): it cannot load %s", path)
}
