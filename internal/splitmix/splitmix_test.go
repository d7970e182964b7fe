package splitmix

import "testing"

// TestNextMatchesTheReferenceSequence checks Next against the first outputs
// of SplitMix64 seeded with 0 (Vigna's reference splitmix64.c: state += the
// increment, then the finaliser), so the ids built on it stay what they were.
func TestNextMatchesTheReferenceSequence(t *testing.T) {
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}
	var state uint64
	for i, w := range want {
		if got := Next(state); got != w {
			t.Fatalf("output %d = %#x, want %#x", i, got, w)
		}
		state += 0x9e3779b97f4a7c15
	}
}
