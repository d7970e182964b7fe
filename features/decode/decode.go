package decode

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/packet"
)

// Result says what Decode made of a frame.
type Result uint8

const (
	// OK: an IP packet was decoded (possibly with a truncated transport header).
	OK Result = iota
	// NotIP: the frame carries something other than IPv4/IPv6 (ARP, LLDP…).
	NotIP
	// UnknownLink: the capture's link type is not supported.
	UnknownLink
	// Malformed: the headers are inconsistent or cut before the IP addresses.
	Malformed
)

func (r Result) String() string {
	switch r {
	case OK:
		return "ok"
	case NotIP:
		return "not-ip"
	case UnknownLink:
		return "unknown-link"
	default:
		return "malformed"
	}
}

// Stats counts decoded frames by outcome.
type Stats struct {
	Frames        int64
	IPv4, IPv6    int64
	TCP, UDP      int64
	OtherProto    int64
	Fragments     int64
	NotIP         int64
	UnknownLink   int64
	Malformed     int64
	TruncatedL4   int64 // transport header cut by the snaplen
	TruncatedData int64 // payload cut by the snaplen
}

// Decoder decodes frames into packets. The zero value is ready to use; a
// Decoder is not safe for concurrent use (use one per goroutine).
type Decoder struct {
	Stats Stats

	// ip is the IP packet of the last decoded frame (a view of the frame),
	// kept so fragment reassembly can read the IP header fields a Packet
	// does not carry (identification, offset) without a second link walk.
	ip []byte
}

// IPPacket returns the IP packet (header included) of the frame last given
// to Decode, as a view of that frame; nil when Decode found no IP header.
// It is valid as long as the frame is.
func (d *Decoder) IPPacket() []byte { return d.ip }

const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100
)

// Decode decodes one frame of the given link type into p, overwriting every
// field. p.Payload aliases data.
func (d *Decoder) Decode(link layers.LinkType, data []byte, ts time.Time, p *packet.Packet) Result {
	d.Stats.Frames++
	d.ip = nil
	*p = packet.Packet{Time: ts}
	r := d.decodeLink(link, data, p)
	switch r {
	case NotIP:
		d.Stats.NotIP++
	case UnknownLink:
		d.Stats.UnknownLink++
	case Malformed:
		d.Stats.Malformed++
	}
	return r
}

func (d *Decoder) decodeLink(link layers.LinkType, data []byte, p *packet.Packet) Result {
	switch link {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return Malformed
		}
		return d.decodeEther(binary.BigEndian.Uint16(data[12:14]), data[14:], p)
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return Malformed
		}
		return d.decodeEther(binary.BigEndian.Uint16(data[14:16]), data[16:], p)
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return Malformed
		}
		return d.decodeEther(binary.BigEndian.Uint16(data[0:2]), data[20:], p)
	case layers.LinkTypeRaw, layers.LinkType(12), layers.LinkType(14), layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return d.decodeIP(data, p)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return Malformed
		}
		var family uint32
		if link == layers.LinkTypeLoop {
			family = binary.BigEndian.Uint32(data[:4])
		} else {
			// NULL writes the family in the capturing host's byte order;
			// families are small numbers, so whichever order gives one wins.
			family = binary.LittleEndian.Uint32(data[:4])
			if family > 0xffff {
				family = binary.BigEndian.Uint32(data[:4])
			}
		}
		switch family {
		case 2, 24, 28, 30:
			return d.decodeIP(data[4:], p)
		}
		return NotIP
	}
	return UnknownLink
}

func (d *Decoder) decodeEther(etherType uint16, data []byte, p *packet.Packet) Result {
	tags := 0
	for etherType == etherVLAN || etherType == etherQinQ || etherType == etherQinQ2 {
		if len(data) < 4 {
			return Malformed
		}
		if tags < len(p.VLAN) {
			p.VLAN[tags] = binary.BigEndian.Uint16(data[0:2]) & 0x0fff
		}
		tags++
		etherType = binary.BigEndian.Uint16(data[2:4])
		data = data[4:]
	}
	switch etherType {
	case etherIPv4, etherIPv6:
		return d.decodeIP(data, p)
	}
	return NotIP
}

func (d *Decoder) decodeIP(data []byte, p *packet.Packet) Result {
	if len(data) < 1 {
		return Malformed
	}
	d.ip = data
	switch data[0] >> 4 {
	case 4:
		return d.decodeIPv4(data, p)
	case 6:
		return d.decodeIPv6(data, p)
	}
	return NotIP
}

func (d *Decoder) decodeIPv4(data []byte, p *packet.Packet) Result {
	if len(data) < 20 {
		return Malformed
	}
	ihl := int(data[0]&0x0f) * 4
	if ihl < 20 {
		return Malformed
	}
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if total == 0 {
		// Segmentation offload on the capturing host: the length field is
		// left 0; the captured size is the best we have.
		total = len(data)
	}
	if total < ihl {
		return Malformed
	}
	d.Stats.IPv4++
	p.IPLen = total
	p.TTL = data[8]
	p.Proto = data[9]
	p.SrcIP = netip.AddrFrom4([4]byte(data[12:16]))
	p.DstIP = netip.AddrFrom4([4]byte(data[16:20]))
	fragField := binary.BigEndian.Uint16(data[6:8])
	moreFrags := fragField&0x2000 != 0
	offset := fragField & 0x1fff
	if moreFrags || offset != 0 {
		p.Fragment = true
		d.Stats.Fragments++
	}
	if len(data) > total {
		data = data[:total] // Ethernet padding of short frames is not payload
	}
	if len(data) < ihl {
		return d.transport(nil, total-ihl, offset != 0, p)
	}
	return d.transport(data[ihl:], total-ihl, offset != 0, p)
}

func (d *Decoder) decodeIPv6(data []byte, p *packet.Packet) Result {
	if len(data) < 40 {
		return Malformed
	}
	d.Stats.IPv6++
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	if plen == 0 {
		plen = len(data) - 40 // jumbogram or offload: use what was captured
	}
	p.IPLen = plen + 40
	p.TTL = data[7]
	p.SrcIP = netip.AddrFrom16([16]byte(data[8:24]))
	p.DstIP = netip.AddrFrom16([16]byte(data[24:40]))
	next := data[6]
	rest := data[40:]
	if len(rest) > plen {
		rest = rest[:plen]
	}
	remaining := plen
	laterFragment := false
	// Walk at most a few extension headers; a chain longer than that is
	// not something real traffic sends and is not worth the time.
	for i := 0; i < 8; i++ {
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(rest) < 2 {
				p.Proto = next
				return d.transport(nil, 0, true, p)
			}
			hlen := (int(rest[1]) + 1) * 8
			if hlen > len(rest) || hlen > remaining {
				p.Proto = next
				return d.transport(nil, 0, true, p)
			}
			next = rest[0]
			rest = rest[hlen:]
			remaining -= hlen
		case 44: // fragment
			if len(rest) < 8 {
				p.Proto = next
				return d.transport(nil, 0, true, p)
			}
			p.Fragment = true
			d.Stats.Fragments++
			off := binary.BigEndian.Uint16(rest[2:4]) >> 3
			laterFragment = off != 0
			next = rest[0]
			rest = rest[8:]
			remaining -= 8
		default:
			p.Proto = next
			return d.transport(rest, remaining, laterFragment, p)
		}
	}
	p.Proto = next
	return d.transport(nil, 0, true, p)
}

// transport decodes TCP/UDP from the captured bytes data of an IP payload
// whose on-the-wire length is wireLen. noHeader is set for non-first
// fragments, which carry no transport header.
func (d *Decoder) transport(data []byte, wireLen int, noHeader bool, p *packet.Packet) Result {
	switch p.Proto {
	case packet.ProtoTCP:
		d.Stats.TCP++
	case packet.ProtoUDP:
		d.Stats.UDP++
	default:
		d.Stats.OtherProto++
		return OK
	}
	if noHeader {
		return OK
	}
	if len(data) >= 4 {
		p.SrcPort = binary.BigEndian.Uint16(data[0:2])
		p.DstPort = binary.BigEndian.Uint16(data[2:4])
		p.HasPorts = true
	}
	if p.Proto == packet.ProtoUDP {
		p.PayloadLen = wireLen - 8
		if p.PayloadLen < 0 {
			p.PayloadLen = 0
		}
		if len(data) < 8 {
			d.Stats.TruncatedL4++
			return OK
		}
		p.Payload = data[8:]
	} else {
		if len(data) < 14 {
			// Ports (and maybe the sequence number) but no flags: still a
			// countable packet of a known flow.
			if len(data) >= 8 {
				p.Seq = binary.BigEndian.Uint32(data[4:8])
			}
			d.Stats.TruncatedL4++
			return OK
		}
		hlen := int(data[12]>>4) * 4
		if hlen < 20 {
			return Malformed
		}
		p.HasTCP = true
		p.Seq = binary.BigEndian.Uint32(data[4:8])
		p.Ack = binary.BigEndian.Uint32(data[8:12])
		p.TCPFlags = data[13]
		if len(data) >= 16 {
			p.Window = binary.BigEndian.Uint16(data[14:16])
		}
		p.PayloadLen = wireLen - hlen
		if p.PayloadLen < 0 {
			p.PayloadLen = 0
		}
		if len(data) < hlen {
			if p.PayloadLen > 0 {
				d.Stats.TruncatedData++
			}
			return OK
		}
		p.Payload = data[hlen:]
	}
	if len(p.Payload) > p.PayloadLen {
		p.Payload = p.Payload[:p.PayloadLen]
	}
	if len(p.Payload) < p.PayloadLen {
		d.Stats.TruncatedData++
	}
	return OK
}
