package decode_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
)

// fuzzLinks is every link type the decoder supports, plus one it does not.
var fuzzLinks = []layers.LinkType{
	layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
	layers.LinkTypeRaw, layers.LinkType(12), layers.LinkType(14), layers.LinkTypeIPv4, layers.LinkTypeIPv6,
	layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkType(147),
}

// seedFrames returns real-shaped frames of every supported link type.
func seedFrames(tb testing.TB) [][]byte {
	ip4, ip6 := ipv4TCP(tb, stratumLogin), ipv6TCP(tb, stratumLogin)
	udp4, ext6 := ipv4UDP(tb, []byte("q")), ipv6ExtTCP(tb, []byte("x"))
	frag := ipv4TCP(tb, nil)
	binary.BigEndian.PutUint16(frag[6:8], 0x2000|185)
	return [][]byte{
		ether(tb, ip4), ether(tb, ip6, 100), ether(tb, udp4, 200, 300), ether(tb, ext6),
		sll(ip4), sll(ext6), sll2(ip6), sll2(udp4),
		ip4, ip6, udp4, ext6, frag,
		null(ip4, binary.LittleEndian), null(ip6, binary.BigEndian),
		cut(ether(tb, ip4), 14+20+9), cut(ip6, 40+20+3),
	}
}

// FuzzDecode decodes arbitrary bytes as every link type and checks the
// invariants callers rely on: no panic, 0 <= len(Payload) <= PayloadLen,
// Payload inside the frame, HasTCP only with ports on a TCP packet.
func FuzzDecode(f *testing.F) {
	for _, fr := range seedFrames(f) {
		f.Add(fr)
	}
	ts := time.Unix(1714564800, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		var d decode.Decoder
		var p packet.Packet
		for _, link := range fuzzLinks {
			r := d.Decode(link, data, ts, &p)
			if r > decode.Malformed {
				t.Fatalf("link %d: result %d out of range", link, r)
			}
			if p.PayloadLen < 0 {
				t.Fatalf("link %d: PayloadLen %d < 0", link, p.PayloadLen)
			}
			if len(p.Payload) > p.PayloadLen {
				t.Fatalf("link %d: len(Payload) %d > PayloadLen %d", link, len(p.Payload), p.PayloadLen)
			}
			if len(p.Payload) > len(data) {
				t.Fatalf("link %d: len(Payload) %d > frame %d", link, len(p.Payload), len(data))
			}
			if p.HasTCP && (!p.HasPorts || p.Proto != packet.ProtoTCP) {
				t.Fatalf("link %d: HasTCP with HasPorts=%v Proto=%d", link, p.HasPorts, p.Proto)
			}
			if r != decode.OK && r != decode.Malformed && (p.SrcIP.IsValid() || p.HasPorts) {
				t.Fatalf("link %d: result %v but addresses/ports filled: %+v", link, r, p)
			}
		}
		if d.Stats.Frames != int64(len(fuzzLinks)) {
			t.Fatalf("Frames %d, want %d", d.Stats.Frames, len(fuzzLinks))
		}
	})
}
