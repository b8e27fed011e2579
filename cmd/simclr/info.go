package main

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/backend"
)

func runInfo(args []string) error {
	fs := newFlags("info")
	spec := fs.String("backend", "", "backend whose devices to list (default $GOMLX_BACKEND or go)")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Printf("go:        %s %s/%s, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Printf("simd:      %v (GOEXPERIMENT=simd %s)\n", backend.SIMD, map[bool]string{true: "was set at build time", false: "was not set: GEMMs run ~6x slower"}[backend.SIMD])
	names := compute.List()
	slices.Sort(names)
	fmt.Printf("backends:  %v (xla compiled in: %v)\n", names, backend.XLACompiled)
	fmt.Printf("plugins:   searched %v\n", backend.SearchDirs())
	ps := backend.Plugins()
	if len(ps) == 0 {
		fmt.Printf("           none found\n")
	}
	for _, p := range ps {
		status := "ok"
		if p.Err != nil {
			status = "unusable: " + p.Err.Error()
		}
		fmt.Printf("           %-6s %s (%s)\n", p.Name, p.Path, status)
	}
	s := backend.Spec(*spec)
	b, err := backend.New(s)
	if err != nil {
		return err
	}
	defer b.Finalize()
	fmt.Printf("backend:   %s\n", s)
	for i := range b.NumDevices() {
		fmt.Printf("device %d:  %s\n", i, b.DeviceDescription(compute.DeviceNum(i)))
	}
	return nil
}
