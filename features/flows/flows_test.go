package flows_test

import (
	"hash/maphash"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// recorder is an observer that remembers what happened. started holds
// the flows as the table passed them (valid until they end: the table
// recycles an ended flow's record), ids their IDs.
type recorder struct {
	started []*flows.Flow
	ids     []uint64
	ended   map[uint64]flows.EndReason
	order   []uint64
	records []flows.Record
}

func newRecorder() *recorder { return &recorder{ended: map[uint64]flows.EndReason{}} }

func (r *recorder) FlowStarted(f *flows.Flow) {
	r.started = append(r.started, f)
	r.ids = append(r.ids, f.ID)
}
func (r *recorder) Packet(*flows.Flow, *packet.Packet, packet.Direction) {}
func (r *recorder) ActiveRecord(rec *flows.Record)                       { r.records = append(r.records, *rec) }
func (r *recorder) FlowEnded(f *flows.Flow, why flows.EndReason) {
	r.ended[f.ID] = why
	r.order = append(r.order, f.ID)
}

func tcp(at float64, src, dst string, flags uint8, payload int) *packet.Packet {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	return &packet.Packet{
		Time:  t0.Add(time.Duration(at * float64(time.Second))),
		SrcIP: s.Addr(), DstIP: d.Addr(), SrcPort: s.Port(), DstPort: d.Port(),
		Proto: packet.ProtoTCP, HasPorts: true, HasTCP: true, TCPFlags: flags,
		PayloadLen: payload, IPLen: 40 + payload,
	}
}

func udp(at float64, src, dst string, payload int) *packet.Packet {
	p := tcp(at, src, dst, 0, payload)
	p.Proto, p.HasTCP, p.IPLen = packet.ProtoUDP, false, 28+payload
	return p
}

const (
	cli = "10.0.0.1:40000"
	srv = "10.0.0.2:3333"
	syn = packet.FlagSYN
	ack = packet.FlagACK
	fin = packet.FlagFIN
	rst = packet.FlagRST
)

func TestClientIsTheSYNSender(t *testing.T) {
	cases := []struct {
		name  string
		first *packet.Packet
		want  string
	}{
		{"SYN from client", tcp(0, cli, srv, syn, 0), cli},
		{"SYN/ACK first (capture missed the SYN)", tcp(0, srv, cli, syn|ack, 0), cli},
		{"mid-session: first sender", tcp(0, srv, cli, ack, 10), srv},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := newRecorder()
			tab := flows.NewTable(flows.DefaultConfig(), rec)
			tab.Add(c.first)
			if got := rec.started[0].Client.String(); got != c.want {
				t.Errorf("client = %s, want %s", got, c.want)
			}
		})
	}
}

func TestBothDirectionsShareOneFlow(t *testing.T) {
	rec := newRecorder()
	tab := flows.NewTable(flows.DefaultConfig(), rec)
	tab.Add(tcp(0, cli, srv, syn, 0))
	tab.Add(tcp(0.05, srv, cli, syn|ack, 0))
	tab.Add(tcp(0.1, cli, srv, ack, 0))
	tab.Add(tcp(0.2, cli, srv, ack, 100))
	if tab.Len() != 1 {
		t.Fatalf("flows = %d, want 1", tab.Len())
	}
	f := rec.started[0]
	if f.Up.Pkts != 3 || f.Down.Pkts != 1 || f.Up.Payload != 100 || f.Up.Bytes != 40*3+100 {
		t.Errorf("counters up=%+v down=%+v", f.Up, f.Down)
	}
}

// TestLastIsTheLatestPacketNotTheLatestArrival: Last (kept as an offset
// from First) follows the newest timestamp; a reordered older packet
// moves neither it nor Duration, and Last keeps First's location.
func TestLastIsTheLatestPacketNotTheLatestArrival(t *testing.T) {
	rec := newRecorder()
	tab := flows.NewTable(flows.DefaultConfig(), rec)
	tab.Add(tcp(1, cli, srv, syn, 0))
	f := rec.started[0]
	if !f.Last().Equal(f.First) || f.Duration() != 0 {
		t.Fatalf("one packet: last %v duration %v, want first %v and 0", f.Last(), f.Duration(), f.First)
	}
	tab.Add(tcp(3.5, srv, cli, syn|ack, 0))
	tab.Add(tcp(2, cli, srv, ack, 0)) // captured late: older than the last
	want := t0.Add(3500 * time.Millisecond)
	if got := f.Last(); got != want { // == : same instant and location
		t.Errorf("last %v, want %v", got, want)
	}
	if d := f.Duration(); d != 2500*time.Millisecond {
		t.Errorf("duration %v, want 2.5s", d)
	}
}

func TestIdleTimeoutEndsFlow(t *testing.T) {
	cfg := flows.DefaultConfig()
	rec := newRecorder()
	tab := flows.NewTable(cfg, rec)
	tab.Add(tcp(0, cli, srv, ack, 10))
	// A mining flow idle for 60 s survives the 600 s default …
	tab.Add(tcp(60, srv, cli, ack, 10))
	if len(rec.ended) != 0 {
		t.Fatalf("flow ended after 60 s idle: %v", rec.ended)
	}
	// … but not 601 s of silence: the next packet starts a new flow.
	tab.Add(tcp(661.5, srv, cli, ack, 10))
	if len(rec.started) != 2 || rec.ended[rec.started[0].ID] != flows.EndIdle {
		t.Fatalf("started %d flows, ended %v; want the first to end idle", len(rec.started), rec.ended)
	}
}

func TestAdvanceExpiresQuietFlowsByWallClock(t *testing.T) {
	rec := newRecorder()
	tab := flows.NewTable(flows.DefaultConfig(), rec)
	tab.Add(udp(0, "10.0.0.1:5353", "10.0.0.2:53", 30))
	tab.Advance(t0.Add(119 * time.Second))
	if len(rec.ended) != 0 {
		t.Fatal("UDP flow ended before its 120 s timeout")
	}
	tab.Advance(t0.Add(121 * time.Second))
	if len(rec.ended) != 1 {
		t.Fatal("UDP flow did not end after its 120 s timeout")
	}
}

func TestCloseLingersForFinalACKs(t *testing.T) {
	rec := newRecorder()
	tab := flows.NewTable(flows.DefaultConfig(), rec)
	tab.Add(tcp(0, cli, srv, syn, 0))
	tab.Add(tcp(0.1, cli, srv, ack, 10))
	tab.Add(tcp(1, cli, srv, fin|ack, 0))
	tab.Add(tcp(1.1, srv, cli, fin|ack, 0))
	tab.Add(tcp(1.2, cli, srv, ack, 0)) // the last ACK stays in the flow
	if len(rec.ended) != 0 || rec.started[0].Up.Pkts != 4 {
		t.Fatalf("last ACK not in flow: ended %v, up pkts %d", rec.ended, rec.started[0].Up.Pkts)
	}
	tab.Advance(t0.Add(10 * time.Second))
	if rec.ended[rec.ids[0]] != flows.EndClosed {
		t.Fatalf("closed flow not ended after linger: %v", rec.ended)
	}
}

func TestNewSYNOnClosedTupleStartsNewFlow(t *testing.T) {
	rec := newRecorder()
	tab := flows.NewTable(flows.DefaultConfig(), rec)
	tab.Add(tcp(0, cli, srv, syn, 0))
	tab.Add(tcp(0.5, srv, cli, rst|ack, 0))
	tab.Add(tcp(1, cli, srv, syn, 0))
	if len(rec.started) != 2 || rec.ended[rec.ids[0]] != flows.EndReused {
		t.Fatalf("started %d, ended %v; want a reused-tuple split", len(rec.started), rec.ended)
	}
}

func TestActiveTimeoutEmitsRecordsAndFlowLivesOn(t *testing.T) {
	cfg := flows.DefaultConfig()
	cfg.ActiveTimeout = 100 * time.Second
	rec := newRecorder()
	tab := flows.NewTable(cfg, rec)
	for at := 0.0; at <= 350; at += 10 {
		tab.Add(tcp(at, cli, srv, ack, 10))
	}
	tab.Flush()
	if len(rec.started) != 1 {
		t.Fatalf("flows = %d, want 1 (it lives on)", len(rec.started))
	}
	if len(rec.records) != 3 {
		t.Fatalf("active records = %d, want 3 (at 100, 200, 300 s)", len(rec.records))
	}
	var sum uint64
	for _, r := range rec.records {
		sum += r.Up.Pkts
	}
	// The packet that reaches the timeout closes its period: 0..100 s (11),
	// 110..200 s (10), 210..300 s (10).
	if sum != 31 {
		t.Errorf("packets in active records = %d, want 31", sum)
	}
}

func TestTableCapEvictsAndCounts(t *testing.T) {
	cfg := flows.DefaultConfig()
	cfg.MaxFlows = 100
	rec := newRecorder()
	tab := flows.NewTable(cfg, rec)
	// One established flow, then a SYN flood from 1000 ports.
	tab.Add(tcp(0, cli, srv, ack, 10))
	for i := 0; i < 1000; i++ {
		src := netip.AddrPortFrom(netip.MustParseAddr("10.9.0.1"), uint16(1000+i)).String()
		tab.Add(tcp(1+float64(i)/1000, src, srv, syn, 0))
		if tab.Len() > cfg.MaxFlows {
			t.Fatalf("table grew to %d > cap %d", tab.Len(), cfg.MaxFlows)
		}
	}
	st := tab.Stats()
	if st.Evicted != 901 {
		t.Errorf("evicted = %d, want 901", st.Evicted)
	}
	// Half-open flood flows go first: the established flow survives.
	if _, gone := rec.ended[rec.started[0].ID]; gone {
		t.Error("the established flow was evicted before the half-open flood")
	}
}

func TestPacketsWithoutPortsAreCountedNotFlowed(t *testing.T) {
	tab := flows.NewTable(flows.DefaultConfig(), newRecorder())
	p := udp(0, "10.0.0.1:0", "10.0.0.2:0", 1000)
	p.HasPorts, p.Fragment = false, true
	tab.Add(p)
	if tab.Len() != 0 || tab.Stats().NoPorts != 1 {
		t.Errorf("len %d, no-ports %d; want 0, 1", tab.Len(), tab.Stats().NoPorts)
	}
}

// TestFlowIDIsStableAndJSONSafe: the id is what alerts, flow events and
// feature rows share, so two tables (two workers, or two runs) must give
// the same flow the same id, whichever direction its first packet had; a
// reused key (a later connection) gets another; and it fits in 51 bits,
// the most a JSON consumer reading numbers as doubles keeps exact.
func TestFlowIDIsStableAndJSONSafe(t *testing.T) {
	first := func(p *packet.Packet) uint64 {
		rec := newRecorder()
		tb := flows.NewTable(flows.DefaultConfig(), rec)
		tb.Add(p)
		return rec.started[0].ID
	}
	a := first(tcp(0, cli, srv, syn, 0))
	if b := first(tcp(0, cli, srv, syn, 0)); a != b {
		t.Errorf("two tables: ids %d and %d", a, b)
	}
	if b := first(tcp(0, srv, cli, syn|ack, 0)); a != b {
		t.Errorf("first packet from the server: id %d, want %d", b, a)
	}
	if b := first(tcp(60, cli, srv, syn, 0)); a == b {
		t.Errorf("a later connection on the same key kept id %d", a)
	}
	if b := first(tcp(0, "10.0.0.1:40001", srv, syn, 0)); a == b {
		t.Errorf("another client port kept id %d", a)
	}
	for i := range 1000 {
		id := first(udp(float64(i)*0.001, cli, srv, 10))
		if id == 0 || id >= 1<<51 {
			t.Fatalf("id %d outside 1..2^51-1", id)
		}
	}
}

// A key is the same from both directions, keeps IPv4 and IPv6 apart
// (192.0.2.1 is not ::ffff:192.0.2.1) and gives its addresses back.
func TestKeyIsDirectionFreeAndKeepsAddressFamilies(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	mapped := netip.AddrFrom16(v4.As16())
	up := packet.Packet{SrcIP: v6, DstIP: v4, SrcPort: 40000, DstPort: 3333, Proto: packet.ProtoTCP}
	down := packet.Packet{SrcIP: v4, DstIP: v6, SrcPort: 3333, DstPort: 40000, Proto: packet.ProtoTCP}
	if flows.KeyOf(&up) != flows.KeyOf(&down) {
		t.Fatal("the two directions of a flow have different keys")
	}
	m := up
	m.DstIP = mapped
	if flows.KeyOf(&m) == flows.KeyOf(&up) {
		t.Error("an IPv4 address and its 4in6 form share a key")
	}
	lo, hi := flows.KeyOf(&up).Addrs()
	if lo != v4 || hi != v6 {
		t.Errorf("Addrs() = %s, %s; want %s, %s", lo, hi, v4, v6)
	}
}

// BenchmarkFlowID is the id's cost per new flow (the new-flow target is
// 500k/s per core: 2 µs per flow for everything).
func BenchmarkFlowID(b *testing.B) {
	k := flows.KeyOf(tcp(0, cli, srv, syn, 0))
	b.ReportAllocs()
	var sink uint64
	for i := 0; b.Loop(); i++ {
		sink += flows.FlowID(k, t0.Add(time.Duration(i)))
	}
	_ = sink
}

// TestIndexFindsEveryFlowThroughChurn drives the table's open-addressing
// index through growth and tens of thousands of insertions and
// backward-shift deletions (idle expiry) and checks each packet against a
// model: a packet of a live flow must find it, one of an expired flow must
// start a new one, and the table must hold exactly the live flows.
func TestIndexFindsEveryFlowThroughChurn(t *testing.T) {
	cfg := flows.DefaultConfig()
	cfg.IdleUDP = 10 * time.Second
	tab := flows.NewTable(cfg, newRecorder())
	rng := rand.New(rand.NewPCG(13, 1))
	const keys = 3000
	last := map[int]time.Duration{} // live flows: time of their last packet
	var now time.Duration
	for step := range 60000 {
		now += time.Millisecond + time.Duration(rng.IntN(10000))*time.Microsecond
		i := rng.IntN(keys)
		_, live := last[i]
		if live && now-last[i] > cfg.IdleUDP {
			live = false // the table expires it before the lookup
		}
		created := tab.Stats().FlowsCreated
		tab.Add(&packet.Packet{Time: t0.Add(now), SrcIP: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), DstIP: netip.MustParseAddr("192.0.2.7"),
			SrcPort: uint16(1024 + i), DstPort: 53, Proto: packet.ProtoUDP, HasPorts: true, IPLen: 60, PayloadLen: 32})
		if got := tab.Stats().FlowsCreated - created; got != 0 == live {
			t.Fatalf("step %d, flow %d (live %v): %d flows created", step, i, live, got)
		}
		last[i] = now
		if step%1000 == 999 {
			for k, at := range last {
				if now-at > cfg.IdleUDP {
					delete(last, k)
				}
			}
			if tab.Len() != len(last) {
				t.Fatalf("step %d: table holds %d flows, model %d", step, tab.Len(), len(last))
			}
		}
	}
	if st := tab.Stats(); st.FlowsEnded[flows.EndIdle] < 10000 {
		t.Fatalf("only %d flows expired: the deletions went untested", st.FlowsEnded[flows.EndIdle])
	}
}

// The table skips its expiry pass until the first list head can time out.
// A second table that is made to run the pass at every packet that moves
// the clock (Advance, as the table did before the skip) must end the same
// flows, for the same reasons, in the same order, through random TCP and
// UDP traffic with handshakes, FINs, RSTs, reused tuples, idle gaps, clock
// jumps and packets out of time order, and a table cap that evicts.
func TestExpirySkipEndsWhatAPassPerPacketEnds(t *testing.T) {
	cfg := flows.DefaultConfig()
	cfg.IdleUDP, cfg.IdleTCP, cfg.IdleHalfOpen, cfg.CloseLinger = 5*time.Second, 20*time.Second, 3*time.Second, time.Second
	cfg.MaxFlows = 150
	a, b := newRecorder(), newRecorder()
	ta, tb := flows.NewTable(cfg, a), flows.NewTable(cfg, b)
	rng := rand.New(rand.NewPCG(7, 21))
	var now, maxSeen time.Duration
	flags := []uint8{syn, syn | ack, ack, ack, ack, fin | ack, rst, 0}
	for step := range 40000 {
		switch r := rng.IntN(1000); {
		case r < 3:
			now += time.Duration(rng.IntN(60)) * time.Second // a quiet spell
		case r < 40:
			now -= time.Duration(rng.IntN(2000)) * time.Millisecond // out of order
		default:
			now += time.Duration(rng.IntN(40)) * time.Millisecond
		}
		i := rng.IntN(200)
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(40000+i%7))
		dst := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 3333)
		if rng.IntN(2) == 0 {
			src, dst = dst, src
		}
		p := &packet.Packet{Time: t0.Add(now), SrcIP: src.Addr(), DstIP: dst.Addr(), SrcPort: src.Port(), DstPort: dst.Port(),
			Proto: packet.ProtoTCP, HasPorts: true, HasTCP: true, TCPFlags: flags[rng.IntN(len(flags))], IPLen: 40}
		if i%5 == 0 {
			p.Proto, p.HasTCP, p.TCPFlags = packet.ProtoUDP, false, 0
		}
		if rng.IntN(3) == 0 {
			p.PayloadLen = 1 + rng.IntN(100)
			p.IPLen += p.PayloadLen
		}
		q := *p
		ta.Add(p)
		if now > maxSeen || step == 0 {
			maxSeen = now
			tb.Advance(q.Time)
		}
		tb.Add(&q)
		if len(a.order) != len(b.order) {
			t.Fatalf("step %d: %d flows ended, want %d", step, len(a.order), len(b.order))
		}
	}
	ta.Flush()
	tb.Flush()
	if len(a.order) != len(b.order) {
		t.Fatalf("%d flows ended, want %d", len(a.order), len(b.order))
	}
	for i := range a.order {
		if a.order[i] != b.order[i] || a.ended[a.order[i]] != b.ended[b.order[i]] {
			t.Fatalf("end %d: flow %x (%v), want %x (%v)", i, a.order[i], a.ended[a.order[i]], b.order[i], b.ended[b.order[i]])
		}
	}
	st := ta.Stats()
	for _, why := range []flows.EndReason{flows.EndIdle, flows.EndClosed, flows.EndEvicted} {
		if st.FlowsEnded[why] == 0 {
			t.Errorf("no flow ended %v: that path went untested (%v)", why, st.FlowsEnded)
		}
	}
}

// A parallel worker's table sees a third of the packets and follows the
// capture's clock at all of them (Advance); it may skip the Advance
// calls that NextExpiry says end nothing. Skipping them must end the
// same flows, for the same reasons, in the same order, as calling
// Advance at every move of the clock, through the traffic of
// TestExpirySkipEndsWhatAPassPerPacketEnds (clock jumps, packets out of
// time order, an evicting cap), and must skip most of the calls.
func TestNextExpirySaysWhichClockMovesEndNothing(t *testing.T) {
	cfg := flows.DefaultConfig()
	cfg.IdleUDP, cfg.IdleTCP, cfg.IdleHalfOpen, cfg.CloseLinger = 5*time.Second, 20*time.Second, 3*time.Second, time.Second
	cfg.MaxFlows = 50
	a, b := newRecorder(), newRecorder()
	ta, tb := flows.NewTable(cfg, a), flows.NewTable(cfg, b)
	rng := rand.New(rand.NewPCG(3, 13))
	var now, clock time.Duration
	flags := []uint8{syn, syn | ack, ack, ack, ack, fin | ack, rst, 0}
	moves, skipped := 0, 0
	for step := range 60000 {
		switch r := rng.IntN(1000); {
		case r < 3:
			now += time.Duration(rng.IntN(60)) * time.Second
		case r < 40:
			now -= time.Duration(rng.IntN(2000)) * time.Millisecond
		default:
			now += time.Duration(rng.IntN(40)) * time.Millisecond
		}
		if now > clock || step == 0 {
			clock = now
			moves++
			ta.Advance(t0.Add(clock))
			if at, check, ok := tb.NextExpiry(); check || (ok && t0.Add(clock).UnixNano()-at > 0) {
				tb.Advance(t0.Add(clock))
			} else {
				skipped++
			}
		}
		if rng.IntN(3) != 0 {
			continue // another worker's packet: only the clock moved
		}
		i := rng.IntN(70)
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(40000+i%7))
		dst := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 3333)
		if rng.IntN(2) == 0 {
			src, dst = dst, src
		}
		p := &packet.Packet{Time: t0.Add(now), SrcIP: src.Addr(), DstIP: dst.Addr(), SrcPort: src.Port(), DstPort: dst.Port(),
			Proto: packet.ProtoTCP, HasPorts: true, HasTCP: true, TCPFlags: flags[rng.IntN(len(flags))], IPLen: 40}
		if i%5 == 0 {
			p.Proto, p.HasTCP, p.TCPFlags = packet.ProtoUDP, false, 0
		}
		q := *p
		ta.Add(p)
		tb.Add(&q)
		if len(a.order) != len(b.order) {
			t.Fatalf("step %d: %d flows ended, want %d", step, len(b.order), len(a.order))
		}
	}
	ta.Flush()
	tb.Flush()
	if !slices.Equal(a.order, b.order) || !maps.Equal(a.ended, b.ended) {
		t.Fatalf("skipping the quiet clock moves ended other flows (%d against %d), or in another order", len(b.order), len(a.order))
	}
	st := ta.Stats()
	for _, why := range []flows.EndReason{flows.EndIdle, flows.EndClosed, flows.EndEvicted} {
		if st.FlowsEnded[why] == 0 {
			t.Errorf("no flow ended %v: that path went untested (%v)", why, st.FlowsEnded)
		}
	}
	if skipped < moves/2 || skipped == moves {
		t.Errorf("%d of %d clock moves skipped: want most, not all", skipped, moves)
	}
	t.Logf("%d of %d clock moves skipped", skipped, moves)
}

// A table fed by AddHashed, with a hash its caller computed from the
// flow key, holds the flows a table fed by Add holds: the same flows
// start and end, for the same reasons, in the same order, through random
// traffic with reused tuples, time-outs and an evicting cap; also when
// every key hashes alike (each lookup then walks one long probe run).
func TestAddHashedFlowsAsAdd(t *testing.T) {
	seed := maphash.MakeSeed()
	for _, tc := range []struct {
		name string
		hash func(k flows.Key) uint64
	}{
		{"a hash of the key", func(k flows.Key) uint64 { return maphash.Comparable(seed, k) }},
		{"every key alike", func(flows.Key) uint64 { return 7 << 32 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := flows.DefaultConfig()
			cfg.IdleUDP, cfg.IdleTCP, cfg.IdleHalfOpen, cfg.CloseLinger = 5*time.Second, 20*time.Second, 3*time.Second, time.Second
			cfg.MaxFlows = 60
			a, b := newRecorder(), newRecorder()
			ta, tb := flows.NewTable(cfg, a), flows.NewTable(cfg, b)
			rng := rand.New(rand.NewPCG(5, 8))
			var now time.Duration
			flags := []uint8{syn, syn | ack, ack, ack, fin | ack, rst}
			for range 20000 {
				if rng.IntN(200) == 0 {
					now += time.Duration(rng.IntN(30)) * time.Second
				}
				now += time.Duration(rng.IntN(40)) * time.Millisecond
				i := rng.IntN(300)
				src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(40000+i%7))
				dst := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 3333)
				if rng.IntN(2) == 0 {
					src, dst = dst, src
				}
				p := &packet.Packet{Time: t0.Add(now), SrcIP: src.Addr(), DstIP: dst.Addr(), SrcPort: src.Port(), DstPort: dst.Port(),
					Proto: packet.ProtoTCP, HasPorts: true, HasTCP: true, TCPFlags: flags[rng.IntN(len(flags))], IPLen: 40}
				if i%4 == 0 {
					p.Proto, p.HasTCP, p.TCPFlags = packet.ProtoUDP, false, 0
				}
				q := *p
				ta.Add(p)
				tb.AddHashed(&q, tc.hash(flows.KeyOf(&q)))
			}
			ta.Flush()
			tb.Flush()
			if !slices.Equal(a.ids, b.ids) || !slices.Equal(a.order, b.order) || !maps.Equal(a.ended, b.ended) {
				t.Fatalf("AddHashed started %d and ended %d flows, Add %d and %d (or in another order)", len(b.ids), len(b.order), len(a.ids), len(a.order))
			}
			if st := ta.Stats(); st.FlowsEnded[flows.EndIdle] == 0 || st.FlowsEnded[flows.EndEvicted] == 0 || st.FlowsEnded[flows.EndReused] == 0 {
				t.Errorf("a way to end went untested: %v", st.FlowsEnded)
			}
		})
	}
}

// The table's time tests are written now.After(last.Add(d)) and
// !now.Before(from.Add(d)) instead of with Sub, which checks for overflow
// at every call: they must agree with Sub's answers for any two instants,
// including those centuries apart, where Sub saturates.
func TestAddComparisonsAgreeWithSub(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	far := []time.Time{{}, time.Unix(0, 0), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(1<<40, 0), time.Unix(-(1 << 40), 0), t0, t0.Add(time.Nanosecond)}
	pick := func() time.Time {
		if rng.IntN(4) == 0 {
			return far[rng.IntN(len(far))].Add(time.Duration(rng.Int64N(1e12)) - 5e11)
		}
		return t0.Add(time.Duration(rng.Int64N(4e12)) - 2e12)
	}
	durs := []time.Duration{0, time.Nanosecond, time.Second, 30 * time.Second, time.Hour, 30 * time.Minute}
	for range 200000 {
		a, b, d := pick(), pick(), durs[rng.IntN(len(durs))]
		if got, want := a.After(b.Add(d)), a.Sub(b) > d; got != want {
			t.Fatalf("%v after %v + %v = %v, Sub says %v", a, b, d, got, want)
		}
		if got, want := !a.Before(b.Add(d)), a.Sub(b) >= d; got != want {
			t.Fatalf("%v not before %v + %v = %v, Sub says %v", a, b, d, got, want)
		}
	}
}
