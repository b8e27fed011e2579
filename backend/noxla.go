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

func pjrtVersionInProcess(path string) (major, minor int, err error) {
	return 0, 0, fmt.Errorf("this binary was built with -tags noxla (or CGO_ENABLED=0): it cannot load %s", path)
}
