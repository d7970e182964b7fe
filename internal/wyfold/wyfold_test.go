package wyfold

import (
	"math/bits"
	"testing"
)

func TestFoldIsTheProductsHalvesXored(t *testing.T) {
	tests := []struct{ a, b uint64 }{
		{0, 12345},
		{1, 1},
		{1 << 63, 2},                             // the product's only bit is in the high half
		{0xffffffffffffffff, 0xffffffffffffffff}, // both halves set
		{0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9}, // typical secrets
	}
	for _, tt := range tests {
		hi, lo := bits.Mul64(tt.a, tt.b)
		if got := Fold(tt.a, tt.b); got != hi^lo {
			t.Errorf("Fold(%#x, %#x) = %#x, want %#x", tt.a, tt.b, got, hi^lo)
		}
	}
	if Fold(1<<63, 2) != 1 {
		t.Error("Fold must keep the product's high half")
	}
}
