package reassembly_test

import (
	"bytes"
	"math/rand"
	"strings"
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
		s.Init(reassembly.NewLimits(tc.cfg, nil))
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
	s1.Init(reassembly.NewLimits(reassembly.DefaultConfig(), b))
	s2.Init(reassembly.NewLimits(reassembly.DefaultConfig(), b))
	var c collect
	s1.Add(0, true, false, nil, &c)
	s2.Add(0, true, false, nil, &c)
	s1.Add(100, false, false, []byte("12345678"), &c) // held: 8 bytes
	s2.Add(100, false, false, []byte("12345678"), &c) // refused: 16 > 10
	st := b.Stats()
	if st.InUse != 8 || st.RefusedBytes != 8 || s2.Stats().BudgetDropped != 8 {
		t.Errorf("budget %+v, s2 dropped %d", st, s2.Stats().BudgetDropped)
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
	payload := bytes.Repeat([]byte(`{"id": 1, "method": "submit"}`+"\n"), 45)
	for _, cfg := range []reassembly.Config{
		{MaxBuffered: 1 << 10, MaxSegments: 8},
		// Padding accounting and conflict detection on, cap never reached.
		{MaxBytes: 1 << 40, MaxPadding: 1 << 40, MaxBuffered: 1 << 10, MaxSegments: 8, Conflicts: true},
	} {
		var s reassembly.Stream
		s.Init(reassembly.NewLimits(cfg, nil))
		seq := uint32(1)
		s.Add(0, true, false, nil, discard{})
		allocs := testing.AllocsPerRun(1000, func() {
			s.Add(seq, false, false, payload, discard{})
			s.Add(seq, false, false, payload, discard{}) // an identical retransmission
			seq += uint32(len(payload))
		})
		if allocs != 0 || s.Stats().Padding == 0 && cfg.MaxPadding > 0 {
			t.Errorf("%+v: %.1f allocations per in-order segment, want 0 (stats %+v)", cfg, allocs, s.Stats())
		}
	}
}

// TestHostileStreamStaysWithinItsCaps: millions of tiny segments, most of
// them out of order, never hold more than MaxBuffered bytes.
func TestHostileStreamStaysWithinItsCaps(t *testing.T) {
	cfg := reassembly.Config{MaxBytes: 64 << 10, MaxBuffered: 16 << 10, MaxSegments: 32}
	b := reassembly.NewBudget(1 << 20)
	var s reassembly.Stream
	s.Init(reassembly.NewLimits(cfg, b))
	rng := rand.New(rand.NewSource(1))
	one := []byte{'x'}
	for i := 0; i < 1_000_000; i++ {
		s.Add(uint32(rng.Intn(1<<20)), false, false, one, discard{})
		if s.Held() > cfg.MaxBuffered || b.Stats().InUse > int64(cfg.MaxBuffered) {
			t.Fatalf("after %d segments: held %d, budget %d", i, s.Held(), b.Stats().InUse)
		}
	}
	if s.Stats().Delivered > cfg.MaxBytes {
		t.Errorf("delivered %d > cap %d", s.Stats().Delivered, cfg.MaxBytes)
	}
}

func FuzzStream(f *testing.F) {
	f.Add([]byte{0, 1, 'a', 3, 'b', 'c', 2, 'x'}, uint16(8))
	f.Add([]byte{5, 'z', 0, 'a', 1, 'b', 1, 'b'}, uint16(2))
	f.Fuzz(func(t *testing.T, script []byte, maxBuf uint16) {
		cfg := reassembly.Config{MaxBytes: 1 << 12, MaxPadding: 64, MaxBuffered: int(maxBuf % 512), MaxSegments: 4, Conflicts: true}
		const limit = 256 + reassembly.AltWindow
		b := reassembly.NewBudget(limit)
		var s reassembly.Stream
		s.Init(reassembly.NewLimits(cfg, b))
		var c altCollect
		// script: pairs (offset, byte) → a 1–3 byte segment at that offset.
		for i := 0; i+1 < len(script); i += 2 {
			n := int(script[i+1]%3) + 1
			s.Add(uint32(script[i]), i == 0, false, bytes.Repeat(script[i+1:i+2], n), &c)
			if s.Held() > cfg.MaxBuffered || b.Stats().InUse > limit {
				t.Fatalf("held %d budget %d", s.Held(), b.Stats().InUse)
			}
		}
		s.Flush(&c)
		s.Release()
		if b.Stats().InUse != 0 {
			t.Fatalf("budget leak %d", b.Stats().InUse)
		}
		if int64(c.out.Len()-c.gaps) > cfg.MaxBytes+cfg.MaxPadding || c.alt.Len()-c.altGaps > c.out.Len() {
			t.Fatalf("delivered %d > cap", c.out.Len())
		}
	})
}

// TestPaddingDoesNotCountTowardTheCap: 70 KB of whitespace before a
// message does not use up a 64 KiB cap, until MaxPadding is spent.
func TestPaddingDoesNotCountTowardTheCap(t *testing.T) {
	pad := bytes.Repeat([]byte(" \r\n\t"), 70_000/4)
	cases := []struct {
		name       string
		maxPadding int64
		want       bool // "login" delivered
	}{
		{"padding is free", 1 << 20, true},
		{"padding beyond MaxPadding counts", 2 << 10, false},
		{"no MaxPadding: every byte counts", 0, false},
	}
	for _, tc := range cases {
		cfg := reassembly.Config{MaxBytes: 64 << 10, MaxPadding: tc.maxPadding, MaxBuffered: 16 << 10, MaxSegments: 32}
		var s reassembly.Stream
		s.Init(reassembly.NewLimits(cfg, nil))
		var c collect
		s.Add(0, true, false, nil, &c)
		seq := uint32(1)
		for b := append(append([]byte{}, pad...), "login"...); len(b) > 0; {
			n := min(1400, len(b))
			s.Add(seq, false, false, b[:n], &c)
			seq += uint32(n)
			b = b[n:]
		}
		if got := bytes.HasSuffix(c.out.Bytes(), []byte("login")); got != tc.want {
			t.Errorf("%s: login delivered %v, want %v (stats %+v)", tc.name, got, tc.want, s.Stats())
		}
	}
}

// altCollect also records the "last copy wins" reading.
type altCollect struct {
	collect
	alt     bytes.Buffer
	altGaps int
}

func (c *altCollect) AltData(b []byte) { c.alt.Write(b) }
func (c *altCollect) AltGap(n uint32)  { c.altGaps++; c.alt.WriteByte('|') }

// TestConflictingOverlapsAreReadBothWays: a decoy copy of each segment
// sent first at the same sequence numbers (Ptacek & Newsham insertion)
// is what the first reading sees; the real copy sent after it is counted
// as a conflict and is what the alternative reading sees.
func TestConflictingOverlapsAreReadBothWays(t *testing.T) {
	real := bytes.Repeat([]byte(`{"id":1,"method":"login"}`+"\n"), 400) // 10 KB: more than AltWindow
	cases := []struct {
		name      string
		seg       int
		decoyLast bool
		decoySeg  int // one decoy per decoySeg bytes (0: one per segment)
	}{
		{"decoy first, 100-byte segments", 100, false, 0},
		{"decoy first, 1-byte segments", 1, false, 0},
		{"decoy first, 1400-byte segments", 1400, false, 0},
		{"real first, decoy last", 100, true, 0},
		{"a 2896-byte decoy, then 1448-byte segments", 1448, false, 2896},
		{"a 4000-byte decoy, then 1000-byte segments", 1000, false, 4000},
		{"a 1400-byte decoy, then 7-byte segments", 7, false, 1400},
	}
	for _, tc := range cases {
		var s reassembly.Stream
		s.Init(reassembly.NewLimits(reassembly.DefaultConfig(), nil))
		var c altCollect
		s.Add(999, true, false, nil, &c)
		if tc.decoySeg > 0 {
			// One big decoy, then the real bytes in smaller segments.
			for off := 0; off < len(real); off += tc.decoySeg {
				end := min(off+tc.decoySeg, len(real))
				s.Add(1000+uint32(off), false, false, bytes.Repeat([]byte{'#'}, end-off), &c)
				for o := off; o < end; o += tc.seg {
					s.Add(1000+uint32(o), false, false, real[o:min(o+tc.seg, end)], &c)
				}
			}
		}
		for off := 0; off < len(real) && tc.decoySeg == 0; off += tc.seg {
			b := real[off:min(off+tc.seg, len(real))]
			decoy := bytes.Repeat([]byte{'#'}, len(b))
			first, second := decoy, b
			if tc.decoyLast {
				first, second = b, decoy
			}
			s.Add(1000+uint32(off), false, false, first, &c)
			s.Add(1000+uint32(off), false, false, second, &c)
		}
		s.Add(1000+uint32(len(real)), false, true, nil, &c) // FIN: the alternative reading is final
		firstWant, altWant := bytes.Repeat([]byte{'#'}, len(real)), real
		if tc.decoyLast {
			firstWant, altWant = real, firstWant
		}
		if !bytes.Equal(c.out.Bytes(), firstWant) {
			t.Errorf("%s: first reading %.40q", tc.name, c.out.String())
		}
		if !bytes.Equal(c.alt.Bytes(), altWant) || c.altGaps != 0 {
			t.Errorf("%s: alternative reading (%d gaps) %.60q…", tc.name, c.altGaps, c.alt.String())
		}
		if s.Stats().Conflicts == 0 || !s.Conflicting() {
			t.Errorf("%s: conflicts %d", tc.name, s.Stats().Conflicts)
		}
	}
}

// TestIdenticalRetransmissionsAreNoConflict: ordinary retransmissions,
// even overlapping several segments or cut differently, are no conflict.
func TestIdenticalRetransmissionsAreNoConflict(t *testing.T) {
	data := []byte("abcdefghijklmnopqrstuvwxyz")
	var s reassembly.Stream
	s.Init(reassembly.NewLimits(reassembly.DefaultConfig(), nil))
	var c altCollect
	s.Add(0, true, false, nil, &c)
	for off := 0; off < len(data); off += 5 {
		s.Add(1+uint32(off), false, false, data[off:min(off+5, len(data))], &c)
	}
	s.Add(1, false, false, data[:12], &c)  // covers two whole segments
	s.Add(6, false, false, data[5:20], &c) // and three
	s.Add(1, false, true, data, &c)
	// Partial overlaps may start the second reading; it reads the same.
	if s.Stats().Conflicts != 0 || c.alt.Len() > 0 && !strings.HasSuffix(string(data), c.alt.String()) || c.out.String() != string(data) {
		t.Errorf("conflicts %d alt %q out %q", s.Stats().Conflicts, c.alt.String(), c.out.String())
	}
}

// TestAlternativeReadingIsChargedAndReleased: the alternative reading's
// window is charged to the budget and returned by Release.
func TestAlternativeReadingIsChargedAndReleased(t *testing.T) {
	b := reassembly.NewBudget(1 << 20)
	var s reassembly.Stream
	s.Init(reassembly.NewLimits(reassembly.DefaultConfig(), b))
	var c altCollect
	s.Add(1, false, false, []byte("decoy"), &c)
	s.Add(1, false, false, []byte("login"), &c)
	if b.Stats().InUse != reassembly.AltWindow || !s.Conflicting() {
		t.Fatalf("in use %d, conflicting %v", b.Stats().InUse, s.Conflicting())
	}
	s.Flush(&c)
	if c.alt.String() != "login" {
		t.Errorf("alternative reading %q", c.alt.String())
	}
	s.Release()
	if b.Stats().InUse != 0 {
		t.Errorf("in use after release %d", b.Stats().InUse)
	}
}

// TestKeepAliveProbeIsNoConflict: a keep-alive probe (Windows sends one
// garbage byte at the sequence number before the next) is neither a
// conflict nor a reason for a second reading.
func TestKeepAliveProbeIsNoConflict(t *testing.T) {
	var s reassembly.Stream
	s.Init(reassembly.NewLimits(reassembly.DefaultConfig(), nil))
	var c altCollect
	s.Add(0, true, false, nil, &c)
	s.Add(1, false, false, []byte(`{"id":1,"method":"keepalived"}`+"\n"), &c)
	for i := 0; i < 3; i++ {
		s.Add(s.Next()-1, false, false, []byte{0}, &c)
	}
	if s.Stats().Conflicts != 0 || s.Conflicting() {
		t.Errorf("conflicts %d, second reading %v", s.Stats().Conflicts, s.Conflicting())
	}
}

// TestFollowingDropsTheAlternativeReading: once limits without Conflicts
// are set (the signature stage follows a decided flow), the alternative
// reading's window goes back to the budget.
func TestFollowingDropsTheAlternativeReading(t *testing.T) {
	b := reassembly.NewBudget(1 << 20)
	var s reassembly.Stream
	s.Init(reassembly.NewLimits(reassembly.DefaultConfig(), b))
	var c altCollect
	s.Add(1, false, false, []byte("decoy"), &c)
	s.Add(1, false, false, []byte("login"), &c)
	s.Flush(&c)
	s.SetLimits(reassembly.NewLimits(reassembly.Config{MaxBytes: 16 << 20}, b))
	if b.Stats().InUse != 0 || s.Conflicting() || c.alt.String() != "login" {
		t.Errorf("in use %d, conflicting %v, alternative reading %q", b.Stats().InUse, s.Conflicting(), c.alt.String())
	}
}

// BenchmarkStreamInOrder: in-order 1400-byte segments of JSON lines,
// with and without padding accounting and conflict detection (bytes/s).
func BenchmarkStreamInOrder(b *testing.B) {
	payload := bytes.Repeat([]byte(`{"id": 2, "method": "submit", "params": {"nonce": "ae000000"}}`+"\n"), 23)[:1400]
	for _, bc := range []struct {
		name string
		cfg  reassembly.Config
	}{
		{"plain", reassembly.Config{MaxBuffered: 16 << 10, MaxSegments: 32}},
		{"padding", reassembly.Config{MaxBytes: 1 << 62, MaxPadding: 1 << 62, MaxBuffered: 16 << 10, MaxSegments: 32}},
		{"conflicts", reassembly.Config{MaxBuffered: 16 << 10, MaxSegments: 32, Conflicts: true}},
		{"padding+conflicts", reassembly.Config{MaxBytes: 1 << 62, MaxPadding: 1 << 62, MaxBuffered: 16 << 10, MaxSegments: 32, Conflicts: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var s reassembly.Stream
			s.Init(reassembly.NewLimits(bc.cfg, nil))
			s.Add(0, true, false, nil, discard{})
			seq := uint32(1)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for range b.N {
				s.Add(seq, false, false, payload, discard{})
				seq += uint32(len(payload))
			}
		})
	}
}

// TestShortInOrderStreamAllocatesNothing: a stream of two in-order
// segments (a TLS record each way, a login and its answer: what most of a
// million concurrent flows hold) keeps everything inline, conflict
// hashes included, so the stream's 56 bytes are all it costs.
func TestShortInOrderStreamAllocatesNothing(t *testing.T) {
	lim := reassembly.NewLimits(reassembly.DefaultConfig(), reassembly.NewBudget(1<<20))
	var s reassembly.Stream
	var c altCollect
	login, submit := []byte(`{"id":1,"method":"login"}`+"\n"), []byte(`{"id":2,"method":"submit"}`+"\n")
	allocs := testing.AllocsPerRun(100, func() {
		s.Init(lim)
		s.Add(100, true, false, nil, &c)
		s.Add(101, false, false, login, &c)
		s.Add(101+uint32(len(login)), false, false, submit, &c)
		c.out.Reset()
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per two-segment stream, want 0", allocs)
	}
}

// TestConflictInAnOlderRunIsSeen: the hashes of runs beyond the two held
// inline (kept in the extension) still catch a decoy: a real copy of the
// third of six segments, sent after all six, is a conflict, and the
// second reading reads it.
func TestConflictInAnOlderRunIsSeen(t *testing.T) {
	var s reassembly.Stream
	s.Init(reassembly.NewLimits(reassembly.DefaultConfig(), nil))
	var c altCollect
	s.Add(0, true, false, nil, &c)
	segs := []string{"aaaa", "bbbb", "XXXX", "dddd", "eeee", "ffff"}
	for i, p := range segs {
		s.Add(1+uint32(4*i), false, false, []byte(p), &c)
	}
	s.Add(9, false, false, []byte("cccc"), &c) // the real bytes of the third run
	s.Flush(&c)
	if s.Stats().Conflicts != 1 || !strings.Contains(c.alt.String(), "cccc") {
		t.Errorf("conflicts %d, second reading %q", s.Stats().Conflicts, c.alt.String())
	}
	if c.out.String() != strings.Join(segs, "") {
		t.Errorf("first reading %q", c.out.String())
	}
}

// TestRecycledExtensionsAllocateNothing: streams whose limits have a
// Recycler hand their extensions (here for the hashes of a third run and
// a retransmission's counter) to the next stream, so a link that has run
// for a while allocates nothing for them; without one, each stream
// allocates its own.
func TestRecycledExtensionsAllocateNothing(t *testing.T) {
	segs := [][]byte{[]byte("aaaa"), []byte("bbbb"), []byte("cccc")}
	run := func(lim *reassembly.Limits) float64 {
		var s reassembly.Stream
		var c altCollect
		return testing.AllocsPerRun(100, func() {
			s.Init(lim)
			s.Add(0, true, false, nil, &c)
			for i, p := range segs {
				s.Add(1+uint32(4*i), false, false, p, &c)
			}
			s.Add(1, false, false, segs[0], &c) // an identical retransmission
			if s.Stats().Retransmitted != 4 {
				t.Fatalf("stats %+v", s.Stats())
			}
			s.Reset()
			c.out.Reset()
		})
	}
	if got := run(reassembly.NewLimits(reassembly.DefaultConfig(), nil).Recycle(reassembly.NewRecycler())); got != 0 {
		t.Errorf("%.1f allocations per stream with a recycler, want 0", got)
	}
	if got := run(reassembly.NewLimits(reassembly.DefaultConfig(), nil)); got != 1 {
		t.Errorf("%.1f allocations per stream without a recycler, want 1 (the extension)", got)
	}
}
