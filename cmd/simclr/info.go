package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/bench"
	"github.com/gosimclr/gosimclr/internal/avx"
)

func runInfo(args []string) error {
	fs := newFlags("info")
	spec := fs.String("backend", "", "backend whose devices to list (default $GOMLX_BACKEND or auto)")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Printf("go:        %s %s/%s, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Printf("simd:      %v (GOEXPERIMENT=simd %s)\n", backend.SIMD, map[bool]string{true: "was set at build time", false: "was not set: GEMMs run ~6x slower"}[backend.SIMD])
	fmt.Printf("cpu:       %s\n", bench.CPUModel())
	pr := avx.Measure(100000)
	verdict := "no AVX→SSE penalty on this CPU"
	switch {
	case !pr.Dirtied:
		verdict = "no AVX code in this build: nothing to guard"
	case pr.Penalty() > 3:
		verdict = fmt.Sprintf("this CPU has the AVX→SSE penalty (%.0f×)", pr.Penalty())
	}
	fmt.Printf("avx probe: math.Exp %.1f ns clean, %.1f ns after an AVX op, %.1f ns after VZEROUPPER: %s\n",
		pr.CleanNs, pr.DirtyNs, pr.AfterCleanNs, verdict)
	fmt.Printf("           workaround active: %v (our SIMD kernels end with VZEROUPPER; Go-backend graphs use package ops' Exp,\n"+
		"           LogSumExp, Tanh, Softplus instead of the backend's math.Exp-based ops)\n", avx.Active())
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
		} else if exe, err := os.Executable(); err == nil {
			if ma, mi, err := backend.CheckVersion(exe, p.Path); err != nil {
				status = "refused: " + err.Error()
			} else {
				status = fmt.Sprintf("ok, PJRT C API %d.%d", ma, mi)
			}
		}
		fmt.Printf("           %-6s %s (%s)\n", p.Name, p.Path, status)
	}
	s := backend.Spec(*spec)
	b, resolved, err := backend.Open(s)
	if err != nil {
		return err
	}
	defer b.Finalize()
	if resolved != s {
		resolved = fmt.Sprintf("%s (%s)", resolved, s)
	}
	fmt.Printf("backend:   %s: %s\n", resolved, b.Description())
	for i := range b.NumDevices() {
		fmt.Printf("device %d:  %s\n", i, b.DeviceDescription(compute.DeviceNum(i)))
	}
	return nil
}
