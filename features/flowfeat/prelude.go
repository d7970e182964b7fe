package flowfeat

import (
	"encoding/binary"
	"math"
	"math/bits"
	"time"

	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
)

// PreludeLen is how many header-only packets a flow may see before it is
// given feature state: a handshake (SYN, SYN/ACK, ACK) and one more. Most
// flows of a flood or a scan never get further, and then never cost an
// accumulator.
const PreludeLen = 4

// Prelude holds a flow's first header-only packets until it earns
// per-flow state (its first payload, a full prelude, or a due feature
// row); Replay then feeds them to that state as if it had existed from
// the first packet, so the features come out identical.
//
// It keeps what the feature and stream consumers read of a packet
// without payload: its time, sequence and acknowledgement numbers (the
// signature stage's handshake evidence checks them), IP length, flags and
// direction, field by field (80 bytes: an array of per-packet structs
// would pad each to 24). The rebuilt packets carry only that and the
// flow's Proto, ports, addresses and VLAN (PayloadLen 0) — not Window,
// TTL or FrameLen.
type Prelude struct {
	t     [PreludeLen]int64
	seq   [PreludeLen]uint32
	ack   [PreludeLen]uint32
	ipLen [PreludeLen]uint16
	flags [PreludeLen]uint8
	// bits: bit 0 the direction (1 = down), bit 1 HasTCP, bit 2 set for a
	// held packet (packets are held from index 0 on, so the count needs
	// no field of its own).
	bits [PreludeLen]uint8
}

const (
	preDown = 1 << iota
	preTCP
	preHeld
)

// Add keeps p if it carries no payload and there is room, and reports
// whether it did; a packet it refuses must be handled by the flow's real
// state (allocated now, after replaying the prelude).
func (pr *Prelude) Add(p *packet.Packet, dir packet.Direction) bool {
	n := pr.Len()
	if p.PayloadLen != 0 || len(p.Payload) != 0 || n >= PreludeLen || p.IPLen < 0 || p.IPLen > math.MaxUint16 {
		return false
	}
	bits := uint8(preHeld)
	if dir == packet.Down {
		bits |= preDown
	}
	if p.HasTCP {
		bits |= preTCP
	}
	pr.t[n], pr.seq[n], pr.ack[n] = p.Time.UnixNano(), p.Seq, p.Ack
	pr.ipLen[n], pr.flags[n], pr.bits[n] = uint16(p.IPLen), p.TCPFlags, bits
	return true
}

// Completes reports whether p, in direction dir, is the client's ACK that
// completes the TCP handshake of the packets held: an up packet with ACK
// and none of SYN, FIN or RST, after a down SYN/ACK. A flow that got this
// far is established and will carry data, so a caller may give it its
// state now, p included, instead of holding its handshake until the first
// payload (see engine.packet: a million flows opened at once otherwise
// each leave an 80-byte prelude behind at their first payload, garbage a
// growing heap does not collect before it has doubled). Asked before
// Add, it spares p the prelude: a replayed packet costs more than p itself.
func (pr *Prelude) Completes(p *packet.Packet, dir packet.Direction) bool {
	const mask = packet.FlagSYN | packet.FlagFIN | packet.FlagRST | packet.FlagACK
	if dir != packet.Up || !p.HasTCP || p.TCPFlags&mask != packet.FlagACK {
		return false
	}
	for i := range pr.Len() {
		if pr.bits[i]&(preDown|preTCP) == preDown|preTCP && pr.flags[i]&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN|packet.FlagACK {
			return true
		}
	}
	return false
}

// Len returns the number of packets held.
func (pr *Prelude) Len() int {
	// The held packets are the first slots with preHeld: the index of the
	// first byte without it, read as one word (a flow asks several times).
	const held = preHeld * 0x01010101
	free := ^binary.LittleEndian.Uint32(pr.bits[:]) & held
	return bits.TrailingZeros32(free) / 8 // no free slot: 32/8 = PreludeLen
}

// The word read of Len holds the four slots exactly.
var _ [0]struct{} = [PreludeLen - 4]struct{}{}

// Replay calls fn with each held packet of flow f, oldest first, rebuilt
// into scratch (the caller's, reused: a Packet of its own would escape to
// the heap through fn, one allocation per flow that earns its state; fn
// must not change it). It does not empty the prelude (several consumers
// may replay it): call Reset after the last.
func (pr *Prelude) Replay(f *flows.Flow, scratch *packet.Packet, fn func(p *packet.Packet, dir packet.Direction)) {
	// What every held packet shares is written once, the rest per packet
	// (fn must not change p): a whole Packet literal per packet zeroed
	// and wrote its 160 bytes each time.
	*scratch = packet.Packet{VLAN: f.VLAN, Proto: f.Proto, HasPorts: true}
	for i := range pr.Len() {
		dir := packet.Up
		if pr.bits[i]&preDown != 0 {
			dir = packet.Down
		}
		src, dst := f.Client, f.Server
		if dir == packet.Down {
			src, dst = dst, src
		}
		p := scratch
		p.Time = time.Unix(0, pr.t[i]).UTC()
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = src.Addr(), dst.Addr(), src.Port(), dst.Port()
		p.IPLen, p.HasTCP, p.TCPFlags, p.Seq, p.Ack = int(pr.ipLen[i]), pr.bits[i]&preTCP != 0, pr.flags[i], pr.seq[i], pr.ack[i]
		fn(p, dir)
	}
}

// Reset empties the prelude.
func (pr *Prelude) Reset() { pr.bits = [PreludeLen]uint8{} }

// Lazy is a flow's feature state for callers that keep nothing else per
// flow: a Prelude until the flow earns an accumulator, then the State.
// Feed, AdvanceLazy and Finish give the rows Start/Packet/Advance/End
// would have given.
type Lazy struct {
	s   *State
	pre Prelude
}

// Feed accounts p like Packet, holding it in the prelude while the flow
// has not earned an accumulator.
func (t *Tracker) Feed(l *Lazy, f *flows.Flow, p *packet.Packet, dir packet.Direction) {
	if l.s == nil {
		if !t.Due(f, p.Time) && l.pre.Add(p, dir) {
			return
		}
		t.earn(l, f)
	}
	t.Packet(l.s, f, p, dir)
}

// AdvanceLazy is Advance for a Lazy state.
func (t *Tracker) AdvanceLazy(l *Lazy, f *flows.Flow, now time.Time) {
	if l.s == nil {
		if !t.Due(f, now) {
			return
		}
		t.earn(l, f)
	}
	t.Advance(l.s, f, now)
}

// Finish is End for a Lazy state; the state is recycled afterwards.
func (t *Tracker) Finish(l *Lazy, f *flows.Flow) {
	if l.s == nil {
		if !t.EndEmits() {
			l.pre.Reset()
			return
		}
		t.earn(l, f)
	}
	t.End(l.s, f)
	t.Release(l.s)
	l.s = nil
}

// Allocated reports whether the flow has earned its accumulator.
func (l *Lazy) Allocated() bool { return l.s != nil }

func (t *Tracker) earn(l *Lazy, f *flows.Flow) {
	l.s = t.Start(f)
	l.pre.Replay(f, &t.replay, func(p *packet.Packet, dir packet.Direction) { t.Packet(l.s, f, p, dir) })
	l.pre.Reset()
}
