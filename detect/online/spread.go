package online

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/defrag"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/wyfold"
)

// Spreader picks a worker for each captured frame by a symmetric hash of
// its flow key, as the kernel's fanout does, after reassembling IP
// fragments: a later fragment has no ports and would otherwise hash to
// another worker than its first. Both the --realtime replay and the
// parallel offline path (detect/parallel) spread frames with it, so a
// flow lands on one worker whichever path reads the capture. Not safe for
// concurrent use.
type Spreader struct {
	workers int
	// seed is random: an adversary cannot aim flows at one worker (or
	// at one slot of a worker's flow table).
	seed [4]uint64
	dec  decode.Decoder
	p    packet.Packet
	frg  *defrag.Table
	buf  []byte
}

// NewSpreader returns a spreader over workers (at least 1) workers.
func NewSpreader(workers int) *Spreader {
	s := &Spreader{workers: max(workers, 1), frg: defrag.New(defrag.Config{})}
	for i := range s.seed {
		s.seed[i] = maphash.Bytes(maphash.MakeSeed(), nil) | 1 // odd: seed[3], the last multiplier, is never zero
	}
	return s
}

// Spread decodes one frame and returns the IP packet (or whole datagram)
// to hand on, nil with ok for a fragment held for reassembly, and ok false
// for a frame that does not decode. worker is in [0, workers). When q is a
// reassembled datagram, frame is a new frame to hand on instead of data:
// the last fragment's link header followed by the datagram (no link type
// here carries a length); it is valid until the next call. q is valid
// until the next call.
func (s *Spreader) Spread(link layers.LinkType, data []byte, ts time.Time, origLen int) (q *packet.Packet, worker int, frame []byte, ok bool) {
	q, worker, _, frame, ok = s.SpreadHash(link, data, ts, origLen)
	return q, worker, frame, ok
}

// SpreadHash is Spread that also returns q's flow hash, the one the
// worker was picked by (see hash): a function of q's flow key alone, the
// same for both directions, well mixed in every bit. detect/parallel's
// workers hand it to their flow tables (flows.Table.AddHashed), which
// then do not hash the key again.
func (s *Spreader) SpreadHash(link layers.LinkType, data []byte, ts time.Time, origLen int) (q *packet.Packet, worker int, hash uint64, frame []byte, ok bool) {
	if s.dec.Decode(link, data, ts, &s.p) != decode.OK {
		return nil, 0, 0, nil, false
	}
	s.p.FrameLen = origLen
	q = s.frg.Add(&s.p, s.dec.IPPacket())
	if q == nil {
		return nil, 0, 0, nil, true
	}
	if q != &s.p {
		ip := s.dec.IPPacket()
		hdr := data[:len(data)-len(ip)]
		s.buf = append(append(s.buf[:0], hdr...), s.frg.Datagram()...)
		frame = s.buf
	}
	hash = s.hash(q)
	return q, int(hash % uint64(s.workers)), hash, frame, true
}

// hash is symmetric in the packet's two endpoints, and a function of its
// flow key (flows.KeyOf) alone, so both directions of a flow meet in one
// worker: wyhash's multiply-fold (as flows.Table's index hashes keys) of
// the two endpoints in order, each mixed with a secret, then of the
// protocol and VLAN tags. About 45 instructions a packet for IPv4, where
// mixing each endpoint with splitmix and adding them took 110 (the
// reader of detect/parallel hashes every packet; its workers' flow
// tables index by the same hash).
func (s *Spreader) hash(q *packet.Packet) uint64 {
	a, b := s.endpoint(q.SrcIP, q.SrcPort), s.endpoint(q.DstIP, q.DstPort)
	if a > b {
		a, b = b, a
	}
	h := wyfold.Fold(a^s.seed[0], b^s.seed[1])
	return wyfold.Fold(h^uint64(q.Proto)<<32^uint64(q.VLAN[0])<<40^uint64(q.VLAN[1])<<52^s.seed[2], s.seed[3])
}

// endpoint is an address and port in 64 bits: exactly for IPv4 (48 bits),
// through a seeded fold for IPv6.
func (s *Spreader) endpoint(a netip.Addr, port uint16) uint64 {
	if a.Is4() {
		b := a.As4()
		return uint64(binary.BigEndian.Uint32(b[:]))<<16 | uint64(port)
	}
	b := a.As16()
	return wyfold.Fold(binary.BigEndian.Uint64(b[:8])^s.seed[2], binary.BigEndian.Uint64(b[8:])^s.seed[3]) ^ uint64(port)<<48
}

// Flush ends the reassembly (datagrams still missing fragments are
// counted as incomplete).
func (s *Spreader) Flush() { s.frg.Flush() }

// DefragStats returns the reassembly counters.
func (s *Spreader) DefragStats() defrag.Stats { return s.frg.Stats() }

// DecodeStats returns the decoder's counters.
func (s *Spreader) DecodeStats() decode.Stats { return s.dec.Stats }
