package flowfeat

import "testing"

// TestPreludeLenCountsTheLeadingHeldSlots checks the word-wide Len
// against the slot-by-slot count for every pattern of held slots (and
// the other bits set or not beside them).
func TestPreludeLenCountsTheLeadingHeldSlots(t *testing.T) {
	for pattern := range 1 << PreludeLen {
		for _, other := range []uint8{0, ^uint8(preHeld)} {
			var pr Prelude
			for i := range PreludeLen {
				pr.bits[i] = other
				if pattern>>i&1 != 0 {
					pr.bits[i] |= preHeld
				}
			}
			want := 0
			for want < PreludeLen && pr.bits[want]&preHeld != 0 {
				want++
			}
			if got := pr.Len(); got != want {
				t.Fatalf("bits %08b: Len %d, want %d", pr.bits, got, want)
			}
		}
	}
}
