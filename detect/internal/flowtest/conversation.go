package flowtest

import (
	"net/netip"
	"time"

	"github.com/minerwatch/minerwatch/detect/signature"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Msg is one message of a scripted conversation.
type Msg struct {
	Dir  packet.Direction
	Data string
}

// Script feeds a conversation to a Flow as TCP packets.
type Script struct {
	// Segment splits each message into segments of at most this many
	// bytes (0 = one segment per message).
	Segment int
	// MidSession omits the handshake: the capture starts with the first
	// message (whose sender the caller treats as the client).
	MidSession bool
	// Start is the time of the first packet; messages are 1 s apart.
	Start time.Time
	// Decoy sends, before each segment, a decoy of the same length at the
	// same sequence numbers (an insertion attack: the receiver keeps the
	// first copy it accepts, a passive reader may keep the other).
	Decoy []byte
	// NoAck leaves every packet's acknowledgement number at 0 (a forged
	// exchange that does not follow the other side's sequence numbers).
	NoAck bool
}

var (
	clientAddr = netip.MustParseAddr("192.0.2.10")
	serverAddr = netip.MustParseAddr("198.51.100.20")
)

// Run feeds msgs to f and returns the time of the last packet.
func (s Script) Run(f *signature.Flow, msgs []Msg) time.Time {
	ts := s.Start
	if ts.IsZero() {
		ts = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	seq := [2]uint32{1000, 500000}
	pkt := func(dir packet.Direction, flags uint8, payload []byte) {
		p := packet.Packet{Time: ts, Proto: packet.ProtoTCP, HasTCP: true, HasPorts: true,
			TCPFlags: flags, Seq: seq[dir], Payload: payload, PayloadLen: len(payload)}
		if flags&packet.FlagACK != 0 && !s.NoAck {
			p.Ack = seq[1-dir] // everything the other side sent so far
		}
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = clientAddr, serverAddr, 40000, 3333
		if dir == packet.Down {
			p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = serverAddr, clientAddr, 3333, 40000
		}
		f.Packet(&p, dir)
		seq[dir] += uint32(len(payload))
		if flags&packet.FlagSYN != 0 {
			seq[dir]++
		}
	}
	if !s.MidSession {
		pkt(packet.Up, packet.FlagSYN, nil)
		pkt(packet.Down, packet.FlagSYN|packet.FlagACK, nil)
	}
	for _, m := range msgs {
		b := []byte(m.Data)
		n := s.Segment
		if n <= 0 {
			n = len(b)
		}
		for len(b) > 0 {
			k := min(n, len(b))
			if len(s.Decoy) > 0 {
				decoy := make([]byte, k)
				for i := range decoy {
					decoy[i] = s.Decoy[i%len(s.Decoy)]
				}
				pkt(m.Dir, packet.FlagACK|packet.FlagPSH, decoy)
				seq[m.Dir] -= uint32(k) // the real copy goes at the same numbers
			}
			pkt(m.Dir, packet.FlagACK|packet.FlagPSH, b[:k])
			b = b[k:]
		}
		ts = ts.Add(time.Second)
	}
	return ts
}
