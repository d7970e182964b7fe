package signature

import (
	"github.com/minerwatch/minerwatch/features/packet"
)

// EvidenceHandshake is Verdict.Evidence for a flow with a complete TCP
// handshake in sequence (SYN, SYN/ACK acknowledging it, ACK acknowledging
// that) whose server acknowledged the client's mining request and
// answered it by id: a conversation, not one spoofed exchange.
const EvidenceHandshake = "handshake+answer"

// evidence follows what a spoofer cannot give cheaply: a handshake whose
// numbers agree, and a server that acknowledged the client's request. It
// costs 12 bytes per flow and no allocation.
type evidence struct {
	isn    [2]uint32
	reqEnd uint32 // client sequence number just past its first mining request
	state  uint8
}

const (
	evSYN         uint8 = 1 << iota // the client's SYN
	evSYNACK                        // the server's SYN/ACK acknowledging it
	evEstablished                   // the client's ACK of the SYN/ACK
	evRequest                       // reqEnd is set
	evAnswered                      // a server packet acknowledged reqEnd after the verdict
)

// packet follows the handshake (before the segment is reassembled).
func (e *evidence) packet(p *packet.Packet, dir packet.Direction, _ *Flow) {
	if e.state&evEstablished != 0 {
		return
	}
	syn, ack := p.Has(packet.FlagSYN), p.Has(packet.FlagACK)
	switch {
	case dir == packet.Up && syn && !ack && e.state&evSYN == 0:
		e.isn[packet.Up] = p.Seq
		e.state |= evSYN
	case dir == packet.Down && syn && ack && e.state&evSYN != 0 && p.Ack == e.isn[packet.Up]+1:
		e.isn[packet.Down] = p.Seq
		e.state |= evSYNACK
	case dir == packet.Up && !syn && ack && e.state&evSYNACK != 0 && p.Ack == e.isn[packet.Down]+1:
		e.state |= evEstablished
	}
}

// answered notes the end of the client's first mining request and a
// server acknowledgement of it once the machine has a verdict (after the
// segment is reassembled and read).
func (e *evidence) answered(p *packet.Packet, dir packet.Direction, f *Flow) {
	if e.state&evEstablished == 0 || e.state&evAnswered != 0 {
		return
	}
	switch {
	case dir == packet.Up && e.state&evRequest == 0 && f.attempt():
		e.reqEnd = f.streams[packet.Up].Next()
		e.state |= evRequest
	case dir == packet.Down && e.state&evRequest != 0 && p.Has(packet.FlagACK) &&
		f.decidedMining() && int32(p.Ack-e.reqEnd) >= 0:
		e.state |= evAnswered
	}
}

// ok reports whether the flow earned EvidenceHandshake; the caller also
// requires a confirmed verdict (a reply matched to a request by id).
func (e *evidence) ok(_ *Flow) bool { return e.state&evAnswered != 0 }
