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
// costs 8 bytes per flow (and the Flow's evState byte) and no allocation:
// the client's initial sequence number is needed only until the SYN/ACK
// acknowledged it, and the end of its request only from the handshake's
// end on, so the two share a word.
type evidence struct {
	upISN   uint32 // the client's ISN until evSYNACK; from evRequest on, reqEnd:
	downISN uint32 // the server's ISN
}

// reqEnd is the client sequence number just past its first mining
// request (valid with evRequest).
func (e *evidence) reqEnd() uint32 { return e.upISN }

const (
	evSYN         uint8 = 1 << iota // the client's SYN
	evSYNACK                        // the server's SYN/ACK acknowledging it
	evEstablished                   // the client's ACK of the SYN/ACK
	evRequest                       // reqEnd is set
	evAnswered                      // a server packet acknowledged reqEnd after the verdict
)

// packet follows the handshake (before the segment is reassembled).
func (e *evidence) packet(p *packet.Packet, dir packet.Direction, f *Flow) {
	if f.evState&evEstablished != 0 {
		return
	}
	syn, ack := p.Has(packet.FlagSYN), p.Has(packet.FlagACK)
	switch {
	case dir == packet.Up && syn && !ack && f.evState&evSYN == 0:
		e.upISN = p.Seq
		f.evState |= evSYN
	case dir == packet.Down && syn && ack && f.evState&evSYN != 0 && p.Ack == e.upISN+1:
		e.downISN = p.Seq
		f.evState |= evSYNACK
	case dir == packet.Up && !syn && ack && f.evState&evSYNACK != 0 && p.Ack == e.downISN+1:
		f.evState |= evEstablished
	}
}

// answered notes the end of the client's first mining request and a
// server acknowledgement of it once the machine has a verdict (after the
// segment is reassembled and read).
func (e *evidence) answered(p *packet.Packet, dir packet.Direction, f *Flow) {
	if f.evState&evEstablished == 0 || f.evState&evAnswered != 0 {
		return
	}
	switch {
	case dir == packet.Up && f.evState&evRequest == 0 && f.attempt():
		e.upISN = f.streams[packet.Up].Next() // reqEnd from now on
		f.evState |= evRequest
	case dir == packet.Down && f.evState&evRequest != 0 && p.Has(packet.FlagACK) &&
		f.decidedMining() && int32(p.Ack-e.reqEnd()) >= 0:
		f.evState |= evAnswered
	}
}

// ok reports whether the flow earned EvidenceHandshake; the caller also
// requires a confirmed verdict (a reply matched to a request by id).
func (e *evidence) ok(f *Flow) bool { return f.evState&evAnswered != 0 }
