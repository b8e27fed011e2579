package deps

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/gosimclr/gosimclr"

// mayImportRef lists the packages, besides test-support packages (last path element ending in "test"),
// that may import ref.
var mayImportRef = []string{module + "/bench"}

// pure lists the packages that may depend on no GoMLX module, directly or not.
var pure = []string{module + "/ref", module + "/internal/hostmath", module + "/recipe", module + "/arch"}

// pkg is one package of `go list`: its path, direct imports (not those of its tests) and all dependencies.
type pkg struct {
	path          string
	imports, deps []string
}

// listPackages runs go list on every package of the module, with GOEXPERIMENT=simd as our builds use.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=simd")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, msg)
	}
	var ps []pkg
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		f := strings.Split(strings.TrimSpace(line), "|")
		ps = append(ps, pkg{path: f[0], imports: strings.Fields(f[1]), deps: strings.Fields(f[2])})
	}
	if len(ps) < 10 {
		t.Fatalf("go list found %d packages; is this the module root?", len(ps))
	}
	return ps
}

// TestImports checks that no production package imports ref, and that ref and the packages it builds on
// depend on no GoMLX module.
func TestImports(t *testing.T) {
	ref := module + "/ref"
	found := map[string]bool{}
	for _, p := range listPackages(t) {
		found[p.path] = true
		support := strings.HasSuffix(p.path[strings.LastIndex(p.path, "/")+1:], "test")
		importsRef := slices.Contains(p.imports, ref)
		if importsRef && !support && !slices.Contains(mayImportRef, p.path) {
			t.Errorf("%s imports ref, the test oracle: use internal/hostmath or recipe instead", p.path)
		}
		if slices.Contains(pure, p.path) {
			if i := slices.IndexFunc(p.deps, func(d string) bool { return strings.HasPrefix(d, "github.com/gomlx/") }); i >= 0 {
				t.Errorf("%s depends on %s (and maybe more of GoMLX): it must stay free of GoMLX", p.path, p.deps[i])
			}
		}
	}
	for _, p := range slices.Concat(mayImportRef, pure) {
		if !found[p] {
			t.Errorf("%s: no such package (update the lists of this test)", p)
		}
	}
}
