//go:build !noxla

package backend

import (
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
	cfg := path
	if p.Options != "" {
		cfg += "," + p.Options
	}
	return xla.New(cfg)
}
