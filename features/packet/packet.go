package packet

import (
	"net/netip"
	"time"
)

// Transport protocol numbers (IANA).
const (
	ProtoTCP uint8 = 6
	ProtoUDP uint8 = 17
)

// TCP flag bits as they appear in the TCP header's flags byte.
const (
	FlagFIN uint8 = 0x01
	FlagSYN uint8 = 0x02
	FlagRST uint8 = 0x04
	FlagPSH uint8 = 0x08
	FlagACK uint8 = 0x10
	FlagURG uint8 = 0x20
	FlagECE uint8 = 0x40
	FlagCWR uint8 = 0x80
)

// Direction says which side of a bidirectional flow sent a packet.
type Direction uint8

const (
	// Up is client → server (the SYN sender, or the first sender when no SYN was seen).
	Up Direction = 0
	// Down is server → client.
	Down Direction = 1
)

func (d Direction) String() string {
	if d == Up {
		return "up"
	}
	return "down"
}

// Packet is one decoded IP packet. Fields that the capture did not contain
// (a snaplen-cut header) are zero and the matching Has* flag is false.
type Packet struct {
	Time time.Time

	// VLAN holds up to two 802.1Q tags (outer first); 0 = untagged.
	VLAN [2]uint16

	SrcIP, DstIP netip.Addr
	Proto        uint8 // ProtoTCP, ProtoUDP or another IP protocol number
	TTL          uint8 // IPv4 TTL or IPv6 hop limit

	// FrameLen is the frame's length on the wire, link layer included (what
	// tshark's conversation tables count); set by the capture loop.
	FrameLen int

	// IPLen is the IP packet length from the IP header (what NetFlow counts),
	// even when the capture holds fewer bytes.
	IPLen int
	// Fragment is set for an IPv4/IPv6 fragment; only the first fragment
	// (offset 0) carries ports.
	Fragment bool
	// HasPorts is false when the transport header was cut off or the packet
	// is a non-first fragment.
	HasPorts         bool
	SrcPort, DstPort uint16

	// TCP header fields, valid when Proto == ProtoTCP && HasTCP.
	HasTCP   bool
	TCPFlags uint8
	Seq, Ack uint32
	Window   uint16

	// PayloadLen is the transport payload length computed from the headers
	// (IP length minus headers), independent of truncation.
	PayloadLen int
	// Payload is the part of the transport payload present in the capture;
	// len(Payload) <= PayloadLen. It aliases the capture buffer.
	Payload []byte
}

// Truncated reports whether the capture holds fewer payload bytes than the
// packet carried on the wire.
func (p *Packet) Truncated() bool { return len(p.Payload) < p.PayloadLen }

// Has reports whether all TCP flag bits in mask are set.
func (p *Packet) Has(mask uint8) bool { return p.TCPFlags&mask == mask }
