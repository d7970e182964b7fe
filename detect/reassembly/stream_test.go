package reassembly_test

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/minerwatch/minerwatch/detect/reassembly"
)

// collect records what a Stream delivers; gaps are written as '|'.
type collect struct {
	out  bytes.Buffer
	gaps int
}

func (c *collect) Data(b []byte) { c.out.Write(b) }
func (c *collect) Gap(n uint32)  { c.gaps++; c.out.WriteByte('|') }

type seg struct {
	seq  uint32
	syn  bool
	data string
}

func TestStreamDeliversInOrder(t *testing.T) {
	var isn uint32 = 4294967290 // wraps around 2^32 within the test
	cases := []struct {
		name string
		cfg  reassembly.Config
		segs []seg
		want string
		gaps int
	}{
		{"in order", reassembly.DefaultConfig(), []seg{{isn, true, ""}, {isn + 1, false, "abc"}, {isn + 4, false, "def"}}, "abcdef", 0},
		{"retransmission", reassembly.DefaultConfig(), []seg{{isn, true, ""}, {isn + 1, false, "abc"}, {isn + 1, false, "abc"}, {isn + 4, false, "def"}}, "abcdef", 0},
		{"overlap keeps first copy", reassembly.DefaultConfig(), []seg{{isn, true, ""}, {isn + 1, false, "abc"}, {isn + 2, false, "XCde"}}, "abcde", 0},
		{"out of order", reassembly.DefaultConfig(), []seg{{isn, true, ""}, {isn + 4, false, "def"}, {isn + 7, false, "g"}, {isn + 1, false, "abc"}}, "abcdefg", 0},
		{"no syn: first segment starts the stream", reassembly.DefaultConfig(), []seg{{100, false, "xy"}, {102, false, "z"}}, "xyz", 0},
		{"hole skipped when the buffer is full", reassembly.Config{MaxBytes: 1 << 20, MaxBuffered: 4, MaxSegments: 8},
			[]seg{{0, true, ""}, {1, false, "ab"}, {10, false, "cd"}, {12, false, "ef"}, {14, false, "gh"}}, "ab|cdefgh", 1},
		{"hole skipped after max segments", reassembly.Config{MaxBytes: 1 << 20, MaxBuffered: 1 << 10, MaxSegments: 2},
			[]seg{{0, true, ""}, {1, false, "a"}, {5, false, "b"}, {6, false, "c"}, {7, false, "d"}}, "a|bcd", 1},
		{"in-order only mode skips at once", reassembly.Config{MaxBytes: 1 << 20}, []seg{{0, true, ""}, {1, false, "a"}, {5, false, "b"}, {2, false, "late"}}, "a|b", 1},
		{"delivery cap", reassembly.Config{MaxBytes: 4, MaxBuffered: 16, MaxSegments: 4}, []seg{{0, true, ""}, {1, false, "abc"}, {4, false, "def"}, {7, false, "ghi"}}, "abcd", 0},
	}
	for _, tc := range cases {
		var s reassembly.Stream
		s.Init(tc.cfg, nil)
		var c collect
		for _, g := range tc.segs {
			s.Add(g.seq, g.syn, false, []byte(g.data), &c)
		}
		if c.out.String() != tc.want || c.gaps != tc.gaps {
			t.Errorf("%s: got %q (%d gaps), want %q (%d gaps)", tc.name, c.out.String(), c.gaps, tc.want, tc.gaps)
		}
	}
}

func TestBudgetRefusesBeyondItsCap(t *testing.T) {
	b := reassembly.NewBudget(10)
	var s1, s2 reassembly.Stream
	s1.Init(reassembly.DefaultConfig(), b)
	s2.Init(reassembly.DefaultConfig(), b)
	var c collect
	s1.Add(0, true, false, nil, &c)
	s2.Add(0, true, false, nil, &c)
	s1.Add(100, false, false, []byte("12345678"), &c) // held: 8 bytes
	s2.Add(100, false, false, []byte("12345678"), &c) // refused: 16 > 10
	st := b.Stats()
	if st.InUse != 8 || st.RefusedBytes != 8 || s2.Stats.BudgetDropped != 8 {
		t.Errorf("budget %+v, s2 dropped %d", st, s2.Stats.BudgetDropped)
	}
	s1.Release()
	if b.Stats().InUse != 0 {
		t.Errorf("in use after release: %d", b.Stats().InUse)
	}
}

type discard struct{}

func (discard) Data([]byte) {}
func (discard) Gap(uint32)  {}

func TestInOrderSegmentsDoNotAllocate(t *testing.T) {
	var s reassembly.Stream
	s.Init(reassembly.Config{MaxBuffered: 1 << 10, MaxSegments: 8}, nil)
	payload := make([]byte, 1400)
	seq := uint32(1)
	s.Add(0, true, false, nil, discard{})
	allocs := testing.AllocsPerRun(1000, func() {
		s.Add(seq, false, false, payload, discard{})
		seq += 1400
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per in-order segment, want 0", allocs)
	}
}

// TestHostileStreamStaysWithinItsCaps: millions of tiny segments, most of
// them out of order, never hold more than MaxBuffered bytes.
func TestHostileStreamStaysWithinItsCaps(t *testing.T) {
	cfg := reassembly.Config{MaxBytes: 64 << 10, MaxBuffered: 16 << 10, MaxSegments: 32}
	b := reassembly.NewBudget(1 << 20)
	var s reassembly.Stream
	s.Init(cfg, b)
	rng := rand.New(rand.NewSource(1))
	one := []byte{'x'}
	for i := 0; i < 1_000_000; i++ {
		s.Add(uint32(rng.Intn(1<<20)), false, false, one, discard{})
		if s.Held() > cfg.MaxBuffered || b.Stats().InUse > int64(cfg.MaxBuffered) {
			t.Fatalf("after %d segments: held %d, budget %d", i, s.Held(), b.Stats().InUse)
		}
	}
	if s.Stats.Delivered > cfg.MaxBytes {
		t.Errorf("delivered %d > cap %d", s.Stats.Delivered, cfg.MaxBytes)
	}
}

func FuzzStream(f *testing.F) {
	f.Add([]byte{0, 1, 'a', 3, 'b', 'c', 2, 'x'}, uint16(8))
	f.Add([]byte{5, 'z', 0, 'a', 1, 'b', 1, 'b'}, uint16(2))
	f.Fuzz(func(t *testing.T, script []byte, maxBuf uint16) {
		cfg := reassembly.Config{MaxBytes: 1 << 12, MaxBuffered: int(maxBuf % 512), MaxSegments: 4}
		b := reassembly.NewBudget(256)
		var s reassembly.Stream
		s.Init(cfg, b)
		var c collect
		// script: pairs (offset, byte) → a 1–3 byte segment at that offset.
		for i := 0; i+1 < len(script); i += 2 {
			n := int(script[i+1]%3) + 1
			s.Add(uint32(script[i]), i == 0, false, bytes.Repeat(script[i+1:i+2], n), &c)
			if s.Held() > cfg.MaxBuffered || b.Stats().InUse > 256 {
				t.Fatalf("held %d budget %d", s.Held(), b.Stats().InUse)
			}
		}
		s.Flush(&c)
		s.Release()
		if b.Stats().InUse != 0 {
			t.Fatalf("budget leak %d", b.Stats().InUse)
		}
		if int64(c.out.Len()-c.gaps) > cfg.MaxBytes {
			t.Fatalf("delivered %d > cap", c.out.Len())
		}
	})
}
