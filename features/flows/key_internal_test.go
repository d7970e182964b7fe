package flows

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/packet"
)

// TestFlowMatchesExactlyItsOwnKey: the table's lookup compares a packet's
// key with a flow's endpoints without building the flow's key; that must
// say yes exactly when building it would give the same key — for IPv4,
// IPv6 and IPv4-mapped IPv6 addresses (the same 16 bytes as the IPv4
// one), equal addresses, equal ports, either orientation and VLAN tags.
func TestFlowMatchesExactlyItsOwnKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2))
	addrs := []netip.Addr{
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
		netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"),
	}
	ports := []uint16{53, 443, 40000}
	endpoint := func() netip.AddrPort {
		return netip.AddrPortFrom(addrs[rng.IntN(len(addrs))], ports[rng.IntN(len(ports))])
	}
	matched := 0
	for range 20000 {
		f := &Flow{Client: endpoint(), Server: endpoint(), Proto: []uint8{6, 17}[rng.IntN(2)], VLAN: [2]uint16{uint16(rng.IntN(2)), 0}}
		// Half the keys are built from the flow's own endpoints, in either
		// order, so that many are its key and many differ in one part.
		a, b := endpoint(), endpoint()
		switch rng.IntN(4) {
		case 0:
			a, b = f.Client, f.Server
		case 1:
			a, b = f.Server, f.Client
		}
		proto, vlan := f.Proto, f.VLAN
		if rng.IntN(4) == 0 {
			proto, vlan = []uint8{6, 17}[rng.IntN(2)], [2]uint16{uint16(rng.IntN(2)), 0}
		}
		k := makeKey(a.Addr(), b.Addr(), a.Port(), b.Port(), proto, vlan)
		fk := makeKey(f.Client.Addr(), f.Server.Addr(), f.Client.Port(), f.Server.Port(), f.Proto, f.VLAN)
		if k.same(&fk) != (k == fk) {
			t.Fatalf("keys %v <-> %v and %v <-> %v: same says %v, == says %v", a, b, f.Client, f.Server, k.same(&fk), k == fk)
		}
		if want := fk == k; f.matches(&k) != want {
			t.Fatalf("flow %v <-> %v proto %d vlan %v, key of %v <-> %v: matches %v, want %v", f.Client, f.Server, f.Proto, f.VLAN, a, b, !want, want)
		}
		if f.matches(&fk) != true {
			t.Fatalf("flow %v <-> %v does not match its own key", f.Client, f.Server)
		}
		if fk == k {
			matched++
		}
	}
	if matched < 5000 {
		t.Fatalf("only %d random keys were the flow's own: the comparison was barely tested", matched)
	}
}

// makeKeyGeneric is makeKey without its IPv4 fast path: netip's order and
// 16-byte forms for every family.
func makeKeyGeneric(a, b netip.Addr, ap, bp uint16, proto uint8, vlan [2]uint16) Key {
	c := a.Compare(b)
	if c > 0 || (c == 0 && ap > bp) {
		a, b, ap, bp = b, a, bp, ap
	}
	k := Key{lo: a.As16(), hi: b.As16(), LoPort: ap, HiPort: bp, Proto: proto, VLAN: vlan}
	if a.Is4() {
		k.v4 |= 1
	}
	if b.Is4() {
		k.v4 |= 2
	}
	return k
}

// The IPv4 fast path builds the key netip's comparison and 16-byte forms
// build: random IPv4 pairs (near and far apart, equal, with equal ports),
// and pairs mixing IPv4, IPv4-mapped IPv6 and IPv6, which take the
// generic path.
func TestMakeKeyIPv4FastPathIsTheGenericKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	v4 := func() netip.Addr {
		var b [4]byte
		if rng.IntN(3) == 0 {
			b = [4]byte{10, 0, 0, byte(rng.IntN(3))} // near, often equal
		} else {
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
		}
		return netip.AddrFrom4(b)
	}
	other := []netip.Addr{netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::")}
	for i := range 100000 {
		a, b := v4(), v4()
		if i%10 == 0 {
			b = other[rng.IntN(len(other))]
		}
		ap, bp := uint16(rng.IntN(4)), uint16(rng.IntN(4))
		vlan := [2]uint16{uint16(rng.IntN(2)), 0}
		if got, want := makeKey(a, b, ap, bp, 6, vlan), makeKeyGeneric(a, b, ap, bp, 6, vlan); got != want {
			t.Fatalf("makeKey(%v:%d, %v:%d) = %+v, want %+v", a, ap, b, bp, got, want)
		}
	}
}

// TestFlushKeepsNoRecordsAndTheTableStaysUsable: Flush ends every flow
// without growing the free list (a million references at the moment the
// heap is largest) and drops the slabs; flows added afterwards start from
// fresh records and are found again.
func TestFlushKeepsNoRecordsAndTheTableStaysUsable(t *testing.T) {
	ended := 0
	tab := NewTable(DefaultConfig(), observerFuncs{ended: func() { ended++ }})
	t0 := time.Unix(1_800_000_000, 0)
	add := func(i int) {
		tab.Add(&packet.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), Proto: packet.ProtoUDP, HasPorts: true,
			SrcIP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), DstIP: netip.AddrFrom4([4]byte{192, 0, 2, 1}),
			SrcPort: 5000, DstPort: 53, IPLen: 60})
	}
	const n = 3 * slabFlows
	for i := range n {
		add(i)
	}
	tab.Flush()
	if ended != n || tab.Len() != 0 || len(tab.free) != 0 || len(tab.slabs) != 0 {
		t.Fatalf("after Flush: %d ended, %d in the table, %d free references, %d slabs; want %d, 0, 0, 0",
			ended, tab.Len(), len(tab.free), len(tab.slabs), n)
	}
	for i := range 2 {
		add(i)
		add(i) // the second packet finds the flow
	}
	if s := tab.Stats(); tab.Len() != 2 || s.FlowsCreated != n+2 {
		t.Errorf("after Flush and two flows of two packets: %d in the table, %d created; want 2, %d", tab.Len(), s.FlowsCreated, n+2)
	}
}

// observerFuncs is an Observer that counts ended flows.
type observerFuncs struct{ ended func() }

func (observerFuncs) FlowStarted(*Flow)                              {}
func (observerFuncs) Packet(*Flow, *packet.Packet, packet.Direction) {}
func (o observerFuncs) FlowEnded(*Flow, EndReason)                   { o.ended() }
func (observerFuncs) ActiveRecord(*Record)                           {}

// TestIndexHashDependsOnEveryKeyField: the index's hash mixes each part
// of a key. Varying one field over 4,096 values (the others fixed) must
// spread the keys over the low 16 bits, which pick the index slot, as a
// random function would: 4,096 × (1 − e^(−4096/65536)) ≈ 3,970 distinct
// values expected; a hash that dropped the field would give 1, one that
// kept only a few of its bits a few dozen.
func TestIndexHashDependsOnEveryKeyField(t *testing.T) {
	ix := newIndex()
	base := makeKey(netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.0.2.1"), 40000, 443, packet.ProtoTCP, [2]uint16{})
	base6 := makeKey(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"), 40000, 443, packet.ProtoTCP, [2]uint16{})
	for _, tc := range []struct {
		name string
		key  func(i int) Key
	}{
		{"low IPv4 address", func(i int) Key { k := base; k.lo[14], k.lo[15] = byte(i>>8), byte(i); return k }},
		{"high IPv4 address", func(i int) Key { k := base; k.hi[12], k.hi[13] = byte(i>>8), byte(i); return k }},
		{"IPv6 address prefix", func(i int) Key { k := base6; k.lo[2], k.lo[3] = byte(i>>8), byte(i); return k }},
		{"IPv6 address suffix", func(i int) Key { k := base6; k.hi[10], k.hi[11] = byte(i>>8), byte(i); return k }},
		{"low port", func(i int) Key { k := base; k.LoPort = uint16(i); return k }},
		{"high port", func(i int) Key { k := base; k.HiPort = uint16(i) << 4; return k }},
		{"protocol and family", func(i int) Key {
			k := base
			k.LoPort, k.Proto, k.v4 = uint16(i>>4), uint8(i&3), uint8(i>>2&3)
			return k
		}},
		{"VLAN tags", func(i int) Key { k := base; k.VLAN = [2]uint16{uint16(i & 63), uint16(i >> 6)}; return k }},
	} {
		seen := map[uint32]bool{}
		for i := range 4096 {
			k := tc.key(i)
			seen[ix.hash(&k)&0xffff] = true
		}
		if len(seen) < 3800 {
			t.Errorf("%s: 4,096 keys fall on %d of 65,536 slots, want about 3,970", tc.name, len(seen))
		}
	}
}

// endLog records the order and reasons of ended flows.
type endLog struct{ ends []string }

func (l *endLog) FlowStarted(*Flow)                              {}
func (l *endLog) Packet(*Flow, *packet.Packet, packet.Direction) {}
func (l *endLog) ActiveRecord(*Record)                           {}
func (l *endLog) FlowEnded(f *Flow, why EndReason) {
	l.ends = append(l.ends, f.Client.String()+" "+f.Server.String()+" "+why.String()+" "+f.Last().String())
}

// TestExpiryBoundEndsWhatAPassPerPacketEnds: skipping expire until the
// clock passes expireAt (or a list head moved) ends the same flows, at the
// same packets, as a pass over the heads at every packet that moves the
// clock (what the table did before the skip). Random TCP and UDP flows
// over short timeouts and a small cap, clocks that jump ahead and go back
// (a merged capture's out-of-order packets), so heads move by closing,
// evicting, expiring and reclassifying.
func TestExpiryBoundEndsWhatAPassPerPacketEnds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdleUDP, cfg.IdleTCP, cfg.IdleHalfOpen, cfg.CloseLinger = 5*time.Second, 20*time.Second, 3*time.Second, time.Second
	cfg.MaxFlows = 150
	var got, want endLog
	tb, ref := NewTable(cfg, &got), NewTable(cfg, &want)
	rng := rand.New(rand.NewPCG(7, 21))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var now time.Duration
	flags := []uint8{packet.FlagSYN, packet.FlagSYN | packet.FlagACK, packet.FlagACK, packet.FlagACK, packet.FlagFIN | packet.FlagACK, packet.FlagRST, 0}
	for step := range 40000 {
		switch r := rng.IntN(1000); {
		case r < 3:
			now += time.Duration(rng.IntN(60)) * time.Second
		case r < 40:
			now -= time.Duration(rng.IntN(2000)) * time.Millisecond
		default:
			now += time.Duration(rng.IntN(40)) * time.Millisecond
		}
		i := rng.IntN(200)
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(40000+i%7))
		dst := netip.MustParseAddrPort("192.0.2.1:3333")
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
		// The reference passes over the heads at every packet that moves
		// its clock: a deadline long past makes it.
		ref.expireAt, ref.hasExpiry = math.MinInt64/2, true
		ref.Add(&q)
		tb.Add(p)
		if len(got.ends) != len(want.ends) {
			t.Fatalf("step %d: %d flows ended, want %d", step, len(got.ends), len(want.ends))
		}
	}
	for i := range want.ends {
		if got.ends[i] != want.ends[i] {
			t.Fatalf("end %d: %s, want %s", i, got.ends[i], want.ends[i])
		}
	}
	if len(want.ends) < 1000 {
		t.Errorf("only %d flows ended: the test exercises too little", len(want.ends))
	}
}
