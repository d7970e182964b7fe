package reassembly

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestCountPaddingCountsWhatIsPaddingSays compares the SIMD count with
// isPadding byte by byte: every length up to a few blocks at every
// alignment, bytes drawn mostly from near the whitespace values (so
// near misses such as 0x08, 0x0b, 0x0c, 0x1f, 0x21 and the high-bit
// bytes occur), and inputs past 255 blocks, where the byte counters are
// summed and restarted.
func TestCountPaddingCountsWhatIsPaddingSays(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{' ', '\t', '\n', '\r', 0x08, 0x0b, 0x0c, 0x0e, 0x1f, 0x21, 0x00, 0x80, 0xa0, 0x89, 0x8a, 0x8d, 0xff, '{', '"'}
	draw := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = byte(rng.Uint32())
			} else {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		return b
	}
	want := func(b []byte) int {
		n := 0
		for _, c := range b {
			if isPadding(c) {
				n++
			}
		}
		return n
	}
	buf := draw(100)
	for off := 0; off < 16; off++ {
		for n := 0; off+n <= len(buf); n++ {
			b := buf[off : off+n]
			if got, w := countPadding(b), want(b); got != w {
				t.Fatalf("countPadding(% x) = %d, want %d", b, got, w)
			}
		}
	}
	for _, n := range []int{255 * 16, 255*16 + 1, 256 * 16, 1000*16 + 7, 64 << 10} {
		b := draw(n)
		if got, w := countPadding(b), want(b); got != w {
			t.Fatalf("countPadding of %d bytes = %d, want %d", n, got, w)
		}
	}
	// All whitespace: every byte counter reaches 255 before each sum.
	for _, n := range []int{255 * 16, 256 * 16, 300*16 + 5} {
		b := bytes.Repeat([]byte{'\n'}, n)
		if got := countPadding(b); got != n {
			t.Fatalf("countPadding of %d newlines = %d", n, got)
		}
	}
}

// BenchmarkCountPadding is the count of a 200-byte segment.
func BenchmarkCountPadding(b *testing.B) {
	p := bytes.Repeat([]byte(`{"id":1, "x":  2}`+"\r\n"), 11)[:200]
	b.SetBytes(int64(len(p)))
	for range b.N {
		countPadding(p)
	}
}
