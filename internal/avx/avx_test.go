package avx

import "testing"

// TestCleanRestoresExp checks the guard where it matters: after an AVX instruction and Clean, math.Exp costs
// what it costs on a clean thread (within 2×), whatever the CPU. On CPUs without the penalty the dirty cost
// is close to the clean one too; on those with it, it is ~100× and Clean is what brings it back.
func TestCleanRestoresExp(t *testing.T) {
	p := Measure(50000)
	t.Logf("math.Exp: clean %.1f ns, after an AVX op %.1f ns (dirtied: %v, penalty %.1f×), after Clean %.1f ns",
		p.CleanNs, p.DirtyNs, p.Dirtied, p.Penalty(), p.AfterCleanNs)
	if !(p.CleanNs > 0 && p.AfterCleanNs > 0) {
		t.Fatalf("probe measured nothing: %+v", p)
	}
	if p.AfterCleanNs > 2*p.CleanNs {
		t.Errorf("after Clean math.Exp costs %.1f ns, clean %.1f ns: more than 2×", p.AfterCleanNs, p.CleanNs)
	}
}
