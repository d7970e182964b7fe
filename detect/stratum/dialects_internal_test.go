package stratum

import (
	"slices"
	"testing"
)

// TestDialectsListsEveryRegisteredDialect guards the engine's one-byte
// dialect index: a dialect registered (or refined to) but missing from
// Dialects would lose its name in feature rows and training labels.
func TestDialectsListsEveryRegisteredDialect(t *testing.T) {
	all := Dialects()
	// The registry's names, plus those a machine sets outside it: the
	// refinement of stratum-v1 (stratumv1.go) and Stratum V2 (sv2.go,
	// machine.go's Noise handshake).
	want := []string{DialectEthStratum1, DialectSV2, DialectSV2Noise}
	for _, d := range dialects {
		want = append(want, d.name)
	}
	for _, name := range want {
		if !slices.Contains(all, name) {
			t.Errorf("Dialects() lacks %q", name)
		}
	}
	seen := map[string]bool{}
	for _, name := range all {
		if name == "" || seen[name] {
			t.Errorf("Dialects() has %q empty or twice", name)
		}
		seen[name] = true
	}
}
