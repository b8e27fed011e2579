package ops

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/backend"
)

var testBackend compute.Backend

func TestMain(m *testing.M) {
	// GOMLX_BACKEND=xla:… runs these tests on XLA.
	b, err := backend.New(backend.Spec(""))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testBackend = b
	os.Exit(m.Run())
}

// bothForms runs test twice, as subtests with the substitutes forced on and off.
func bothForms(t *testing.T, test func(t *testing.T)) {
	t.Helper()
	for _, sub := range []bool{true, false} {
		t.Run(fmt.Sprintf("substitutes=%v", sub), func(t *testing.T) {
			defer ForceSubstitutes(sub)()
			test(t)
		})
	}
}

// TestForceSubstitutes: without an override Substitute answers by backend (the Go backend only); the override
// answers for every graph and restore puts back the previous setting, nested overrides included.
func TestForceSubstitutes(t *testing.T) {
	g := graph.NewGraph(testBackend, "probe")
	natural := strings.HasPrefix(strings.ToLower(testBackend.Name()), "go")
	if Substitute(g) != natural {
		t.Fatalf("Substitute on %q = %v, want %v", testBackend.Name(), Substitute(g), natural)
	}
	outer := ForceSubstitutes(!natural)
	if Substitute(g) != !natural {
		t.Errorf("ForceSubstitutes(%v) ignored", !natural)
	}
	inner := ForceSubstitutes(natural)
	if Substitute(g) != natural {
		t.Errorf("nested ForceSubstitutes(%v) ignored", natural)
	}
	inner()
	if Substitute(g) != !natural {
		t.Errorf("restore of the nested override did not restore the outer one")
	}
	outer()
	if Substitute(g) != natural {
		t.Errorf("restore did not return to the backend's choice")
	}
}
