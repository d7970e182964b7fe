package defrag_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/defrag"
	"github.com/minerwatch/minerwatch/features/defrag/defragtest"
	"github.com/minerwatch/minerwatch/features/packet"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// login is the shape of XMRig's first Stratum message.
var login = []byte(`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","algo":["rx/0"]}}` + "\n")

// tcpPacket is a raw IPv4 or IPv6 TCP packet carrying payload.
func tcpPacket(tb testing.TB, v6 bool, id uint16, payload []byte) []byte {
	tb.Helper()
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 3333, Seq: 1000, Ack: 1, PSH: true, ACK: true, Window: 512}
	var nl gopacket.SerializableLayer
	if v6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.ParseIP("2001:db8::2"), DstIP: net.ParseIP("2001:db8::7")}
		tcp.SetNetworkLayerForChecksum(ip)
		nl = ip
	} else {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: id, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP{10, 0, 0, 2}, DstIP: net.IP{198, 51, 100, 7}}
		tcp.SetNetworkLayerForChecksum(ip)
		nl = ip
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		nl, tcp, gopacket.Payload(payload)); err != nil {
		tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func split(tb testing.TB, ip []byte, size int) [][]byte {
	tb.Helper()
	fs, err := defragtest.Split(ip, size, 77)
	if err != nil {
		tb.Fatal(err)
	}
	return fs
}

// feeder decodes raw IP packets and hands them to a table, as ingest does.
type feeder struct {
	tb  testing.TB
	t   *defrag.Table
	dec decode.Decoder
	p   packet.Packet
}

func (f *feeder) add(raw []byte, at time.Time) *packet.Packet {
	f.tb.Helper()
	if r := f.dec.Decode(layers.LinkTypeRaw, raw, at, &f.p); r != decode.OK {
		f.tb.Fatalf("decode: %v", r)
	}
	f.p.FrameLen = len(raw)
	return f.t.Add(&f.p, f.dec.IPPacket())
}

func newFeeder(tb testing.TB, cfg defrag.Config) *feeder {
	return &feeder{tb: tb, t: defrag.New(cfg)}
}

func TestFragmentedSegmentIsReassembledWithPortsAndPayload(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v6    bool
		order func([][]byte) [][]byte
	}{
		{"ipv4 in order", false, nil},
		{"ipv6 in order", true, nil},
		{"ipv4 reversed", false, func(fs [][]byte) [][]byte {
			out := make([][]byte, len(fs))
			for i := range fs {
				out[len(fs)-1-i] = fs[i]
			}
			return out
		}},
		{"ipv4 with duplicates", false, func(fs [][]byte) [][]byte {
			return append([][]byte{fs[2], fs[0]}, fs...)
		}},
		{"ipv6 last first", true, func(fs [][]byte) [][]byte {
			return append([][]byte{fs[len(fs)-1]}, fs[:len(fs)-1]...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := tcpPacket(t, tc.v6, 4242, login)
			frags := split(t, whole, 64)
			if len(frags) < 4 {
				t.Fatalf("only %d fragments", len(frags))
			}
			first := frags[0]
			if tc.order != nil {
				frags = tc.order(frags)
			}
			f := newFeeder(t, defrag.Config{})
			var got *packet.Packet
			for i, fr := range frags {
				out := f.add(fr, t0.Add(time.Duration(i)*time.Millisecond))
				if out != nil && i != len(frags)-1 {
					t.Fatalf("datagram handed on after fragment %d of %d", i+1, len(frags))
				}
				got = out
			}
			if got == nil {
				t.Fatalf("not reassembled: %+v", f.t.Stats())
			}
			if got.Fragment || !got.HasTCP || got.SrcPort != 40000 || got.DstPort != 3333 || got.Seq != 1000 {
				t.Errorf("reassembled header wrong: %+v", got)
			}
			if !bytes.Equal(got.Payload, login) {
				t.Errorf("payload = %q", got.Payload)
			}
			// Frame bytes as tshark counts them without reassembly: the
			// first fragment's frame; the IP length is the whole datagram's.
			if got.FrameLen != len(first) || got.IPLen != len(whole) {
				t.Errorf("FrameLen %d IPLen %d, want %d and %d", got.FrameLen, got.IPLen, len(first), len(whole))
			}
			if want := t0.Add(time.Duration(len(frags)-1) * time.Millisecond); !got.Time.Equal(want) {
				t.Errorf("time = %v, want the last fragment's %v", got.Time, want)
			}
			st := f.t.Stats()
			if st.Reassembled != 1 || st.HeldBytes != 0 || st.HeldDgrams != 0 {
				t.Errorf("stats after completion: %+v", st)
			}
		})
	}
}

func TestNonFragmentPassesThroughUntouched(t *testing.T) {
	f := newFeeder(t, defrag.Config{})
	raw := tcpPacket(t, false, 1, login)
	if out := f.add(raw, t0); out != &f.p {
		t.Fatalf("a whole packet was not passed through")
	}
	allocs := testing.AllocsPerRun(100, func() { f.t.Add(&f.p, raw) })
	if allocs != 0 {
		t.Errorf("fast path allocates %.1f times per packet", allocs)
	}
}

func TestConflictingOverlapKeepsFirstBytesAndIsCounted(t *testing.T) {
	whole := tcpPacket(t, false, 9, login)
	frags := split(t, whole, 64)
	// A decoy copy of the second fragment with other bytes arrives first;
	// the real one follows. Policy "first": the decoy's bytes stand.
	decoy := append([]byte(nil), frags[1]...)
	for i := 20; i < len(decoy); i++ {
		decoy[i] = 'A'
	}
	f := newFeeder(t, defrag.Config{})
	seq := append([][]byte{decoy}, frags...)
	var got *packet.Packet
	for i, fr := range seq {
		got = f.add(fr, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if got == nil {
		t.Fatalf("not reassembled: %+v", f.t.Stats())
	}
	st := f.t.Stats()
	if st.Overlaps != 1 || st.Conflicts != 1 {
		t.Errorf("overlaps %d conflicts %d, want 1 and 1", st.Overlaps, st.Conflicts)
	}
	// Fragment 2 holds IP payload bytes 64..127: TCP payload bytes 44..107.
	if !bytes.Equal(got.Payload[44:108], bytes.Repeat([]byte("A"), 64)) {
		t.Errorf("first copy did not win: %q", got.Payload[40:112])
	}
}

func TestIncompleteDatagramTimesOut(t *testing.T) {
	frags := split(t, tcpPacket(t, false, 5, login), 64)
	f := newFeeder(t, defrag.Config{Timeout: 30 * time.Second})
	f.add(frags[0], t0)
	f.add(frags[1], t0.Add(10*time.Second))
	if st := f.t.Stats(); st.HeldDgrams != 1 || st.HeldBytes == 0 {
		t.Fatalf("nothing held: %+v", st)
	}
	// Any packet 31 s after the first fragment expires it; the late rest
	// of the datagram then starts a new one that never completes.
	f.add(tcpPacket(t, false, 6, nil), t0.Add(31*time.Second))
	st := f.t.Stats()
	if st.TimedOut != 1 || st.HeldDgrams != 0 || st.HeldBytes != 0 {
		t.Errorf("after the timeout: %+v", st)
	}
	for _, fr := range frags[2:] {
		if out := f.add(fr, t0.Add(32*time.Second)); out != nil {
			t.Errorf("reassembled a datagram missing its first fragments")
		}
	}
	f.t.Flush()
	if st := f.t.Stats(); st.Incomplete != 1 || st.HeldBytes != 0 {
		t.Errorf("after flush: %+v", st)
	}
}

func TestMemCapEvictsOldestDatagram(t *testing.T) {
	// MinMemCap is 128 KiB: first fragments of 1480 bytes from many
	// datagrams must push the oldest out while held bytes stay under it.
	f := newFeeder(t, defrag.Config{MemCap: defrag.MinMemCap})
	payload := bytes.Repeat([]byte("x"), 3000)
	const n = 200
	for i := range n {
		frags := split(t, tcpPacket(t, false, uint16(i), payload), 1480)
		if out := f.add(frags[0], t0); out != nil {
			t.Fatal("a first fragment was handed on")
		}
		if st := f.t.Stats(); st.HeldBytes > defrag.MinMemCap {
			t.Fatalf("held %d bytes over the cap", st.HeldBytes)
		}
	}
	st := f.t.Stats()
	if st.Evicted == 0 || st.Evicted+st.HeldDgrams != n {
		t.Errorf("evicted %d + held %d, want %d", st.Evicted, st.HeldDgrams, n)
	}
	// The newest datagram survived eviction and completes.
	frags := split(t, tcpPacket(t, false, n-1, payload), 1480)
	var got *packet.Packet
	for _, fr := range frags[1:] {
		got = f.add(fr, t0)
	}
	if got == nil || len(got.Payload) != len(payload) {
		t.Errorf("the newest datagram did not complete: %+v", f.t.Stats())
	}
}

func TestMaxDatagramsEvicts(t *testing.T) {
	f := newFeeder(t, defrag.Config{MaxDatagrams: 10})
	for i := range 25 {
		f.add(split(t, tcpPacket(t, false, uint16(i), login), 64)[0], t0)
	}
	if st := f.t.Stats(); st.HeldDgrams != 10 || st.Evicted != 15 {
		t.Errorf("held %d evicted %d, want 10 and 15", st.HeldDgrams, st.Evicted)
	}
}

func TestOversizeDatagramIsRefused(t *testing.T) {
	// The "ping of death": a last fragment at offset 65528 with 8 bytes
	// reaches beyond 65535.
	for _, v6 := range []bool{false, true} {
		frags := split(t, tcpPacket(t, v6, 3, bytes.Repeat([]byte("y"), 20)), 8) // 40 bytes of TCP: 5 fragments of 8
		last := frags[len(frags)-1]
		if v6 {
			binary.BigEndian.PutUint16(last[42:44], uint16(65528/8)<<3)
		} else {
			binary.BigEndian.PutUint16(last[6:8], uint16(65528/8))
		}
		f := newFeeder(t, defrag.Config{})
		f.add(frags[0], t0)
		if out := f.add(last, t0); out != nil {
			t.Fatalf("v6=%v: oversize datagram handed on", v6)
		}
		if st := f.t.Stats(); st.Oversize != 1 || st.HeldDgrams != 0 || st.HeldBytes != 0 {
			t.Errorf("v6=%v: %+v", v6, st)
		}
	}
}

func TestTinyFragmentFloodIsBounded(t *testing.T) {
	// 8-byte fragments: a 1000-byte payload needs 128, over the default 64.
	frags := split(t, tcpPacket(t, false, 8, bytes.Repeat([]byte("z"), 1000)), 8)
	f := newFeeder(t, defrag.Config{})
	for _, fr := range frags {
		if out := f.add(fr, t0); out != nil {
			t.Fatal("a datagram of 128 fragments was reassembled")
		}
	}
	st := f.t.Stats()
	if st.TooMany == 0 {
		t.Errorf("too-many-fragments not counted: %+v", st)
	}
	if st.HeldBytes > 64*(8+100)+1024 {
		t.Errorf("held %d bytes for a tiny-fragment flood", st.HeldBytes)
	}
	// Duplicates of a held fragment cost nothing and do not use up the
	// fragment budget.
	f2 := newFeeder(t, defrag.Config{MaxFragments: 4})
	for range 100 {
		f2.add(frags[0], t0)
	}
	if st := f2.t.Stats(); st.TooMany != 0 || st.Overlaps != 99 || st.Conflicts != 0 {
		t.Errorf("duplicates: %+v", st)
	}
}

func TestSnaplenCutFragmentPassesThrough(t *testing.T) {
	frags := split(t, tcpPacket(t, false, 11, login), 64)
	f := newFeeder(t, defrag.Config{})
	cut := frags[0][:40]
	if out := f.add(cut, t0); out != &f.p {
		t.Fatal("a cut fragment was not passed through as decoded")
	}
	if st := f.t.Stats(); st.Truncated != 1 || st.HeldDgrams != 0 {
		t.Errorf("%+v", st)
	}
}

// withHopByHop inserts an 8-byte hop-by-hop options header before the
// fragment header of an IPv6 fragment (the unfragmentable part of RFC 8200).
func withHopByHop(frag []byte) []byte {
	out := make([]byte, 0, len(frag)+8)
	out = append(out, frag[:40]...)
	out[6] = 0                                 // hop-by-hop next
	out = append(out, 44, 0, 1, 4, 0, 0, 0, 0) // next: fragment; PadN
	out = append(out, frag[40:]...)
	binary.BigEndian.PutUint16(out[4:6], uint16(len(out)-40))
	return out
}

func TestIPv6ShapesAreReassembled(t *testing.T) {
	whole := tcpPacket(t, true, 0, login)
	for _, tc := range []struct {
		name  string
		frags [][]byte
	}{
		// RFC 6946: offset 0 and no more fragments — a whole packet behind
		// a fragment header, handed on at once.
		{"atomic fragment", split(t, whole, 4096)},
		{"hop-by-hop before the fragment header", func() [][]byte {
			fs := split(t, whole, 64)
			for i := range fs {
				fs[i] = withHopByHop(fs[i])
			}
			return fs
		}()},
	} {
		f := newFeeder(t, defrag.Config{})
		var got *packet.Packet
		for _, fr := range tc.frags {
			got = f.add(fr, t0)
		}
		if got == nil || got == &f.p || got.DstPort != 3333 || !bytes.Equal(got.Payload, login) {
			t.Errorf("%s: not reassembled: %+v", tc.name, f.t.Stats())
		}
	}
}

func TestDisagreeingEndIsAConflict(t *testing.T) {
	frags := split(t, tcpPacket(t, false, 21, login), 64)
	last := frags[len(frags)-1]
	// A second "last" fragment ending 8 bytes earlier, sent first.
	early := append([]byte(nil), last[:len(last)-8]...)
	binary.BigEndian.PutUint16(early[2:4], uint16(len(early)))
	f := newFeeder(t, defrag.Config{})
	f.add(early, t0)
	f.add(last, t0) // the real end, 8 bytes further: a conflict
	var got *packet.Packet
	for _, fr := range frags[:len(frags)-1] {
		got = f.add(fr, t0)
	}
	st := f.t.Stats()
	if st.Conflicts == 0 {
		t.Errorf("a second, different end not counted: %+v", st)
	}
	// First policy: the earlier end stands, so the datagram is 8 bytes short.
	if got == nil || got.IPLen != len(tcpPacket(t, false, 21, login))-8 {
		t.Errorf("reassembled %+v", got)
	}
}

// A fragment header inside a reassembled IPv6 payload (found by
// FuzzDefrag) is nested fragmentation: refused as malformed, never handed
// on as a datagram that is itself a fragment.
func TestNestedFragmentHeaderIsRefused(t *testing.T) {
	inner := split(t, tcpPacket(t, true, 0, login), 64)[0] // a fragment, next header 44
	outer := split(t, inner, 4096)                         // fragmented again: one atomic fragment
	f := newFeeder(t, defrag.Config{})
	if out := f.add(outer[0], t0); out != nil {
		t.Fatalf("handed on %+v", out)
	}
	if st := f.t.Stats(); st.Malformed != 1 || st.HeldDgrams != 0 || st.HeldBytes != 0 {
		t.Errorf("%+v", st)
	}
}

// RFC 1858's tiny-fragment attack splits the TCP header over fragments so
// a filter that looks at the first one alone sees no flags; its overlap
// attack rewrites the header with a later fragment at offset 8. Reassembly
// sees the whole header; the rewrite is a conflict and the first copy
// stands.
func TestRFC1858FragmentAttacks(t *testing.T) {
	whole := tcpPacket(t, false, 31, login)
	t.Run("tiny fragments", func(t *testing.T) {
		frags := split(t, whole, 8) // ports in the first, seq in the second, flags in the third
		if len(frags) > defrag.DefaultMaxFragments {
			t.Fatalf("%d fragments", len(frags))
		}
		f := newFeeder(t, defrag.Config{})
		var got *packet.Packet
		for _, fr := range frags {
			got = f.add(fr, t0)
		}
		if got == nil || !got.HasTCP || !got.Has(packet.FlagPSH|packet.FlagACK) || !bytes.Equal(got.Payload, login) {
			t.Fatalf("not reassembled: %+v", f.t.Stats())
		}
	})
	t.Run("overlapping header rewrite", func(t *testing.T) {
		frags := split(t, whole, 64)
		// Offset 8 (IP payload bytes 8..15): the TCP ack, data offset and
		// flags, here rewritten to a RST with a 60-byte header.
		evil := append([]byte(nil), frags[0][:20+8]...)
		binary.BigEndian.PutUint16(evil[2:4], 28)
		binary.BigEndian.PutUint16(evil[6:8], 0x2000|1)
		copy(evil[20:], []byte{0, 0, 0, 0, 0xf0, packet.FlagRST, 0, 0})
		f := newFeeder(t, defrag.Config{})
		var got *packet.Packet
		for _, fr := range append([][]byte{frags[0], evil}, frags[1:]...) {
			got = f.add(fr, t0)
		}
		if got == nil || got.Has(packet.FlagRST) || !bytes.Equal(got.Payload, login) {
			t.Fatalf("the rewrite won: %+v", got)
		}
		if st := f.t.Stats(); st.Conflicts != 1 {
			t.Errorf("conflicts %d, want 1", st.Conflicts)
		}
	})
}
