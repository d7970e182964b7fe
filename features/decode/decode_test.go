package decode_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
)

// summary is the part of a decoded packet the tests compare.
type summary struct {
	Res              decode.Result
	Src, Dst         netip.Addr
	Proto            uint8
	TTL              uint8
	VLAN             [2]uint16
	IPLen            int
	Fragment         bool
	HasPorts         bool
	SrcPort, DstPort uint16
	HasTCP           bool
	Flags            uint8
	Seq, Ack         uint32
	Window           uint16
	PayloadLen       int
	Captured         int // len(Payload)
}

func summarize(r decode.Result, p *packet.Packet) summary {
	return summary{Res: r, Src: p.SrcIP, Dst: p.DstIP, Proto: p.Proto, TTL: p.TTL, VLAN: p.VLAN,
		IPLen: p.IPLen, Fragment: p.Fragment, HasPorts: p.HasPorts, SrcPort: p.SrcPort, DstPort: p.DstPort,
		HasTCP: p.HasTCP, Flags: p.TCPFlags, Seq: p.Seq, Ack: p.Ack, Window: p.Window,
		PayloadLen: p.PayloadLen, Captured: len(p.Payload)}
}

var (
	a4Client = netip.MustParseAddr("192.0.2.10")
	a4Pool   = netip.MustParseAddr("198.51.100.7")
	a6Client = netip.MustParseAddr("2001:db8::10")
	a6Pool   = netip.MustParseAddr("2001:db8:1::7")
)

// Expected values are hand calculations from the builders in frames_test.go:
// IPv4 header 20 bytes, IPv6 header 40, TCP header 20, UDP header 8.
func wantTCP4(payload int) summary {
	return summary{Res: decode.OK, Src: a4Client, Dst: a4Pool, Proto: packet.ProtoTCP, TTL: 64,
		IPLen: 20 + 20 + payload, HasPorts: true, SrcPort: clientPort, DstPort: poolPort,
		HasTCP: true, Flags: packet.FlagPSH | packet.FlagACK, Seq: seqClient, Ack: ackClient, Window: winClient,
		PayloadLen: payload, Captured: payload}
}

func wantUDP4(payload int) summary {
	return summary{Res: decode.OK, Src: a4Client, Dst: a4Pool, Proto: packet.ProtoUDP, TTL: 64,
		IPLen: 20 + 8 + payload, HasPorts: true, SrcPort: 53000, DstPort: 53,
		PayloadLen: payload, Captured: payload}
}

func wantTCP6(payload int) summary {
	return summary{Res: decode.OK, Src: a6Client, Dst: a6Pool, Proto: packet.ProtoTCP, TTL: 63,
		IPLen: 40 + 20 + payload, HasPorts: true, SrcPort: clientPort, DstPort: poolPort,
		HasTCP: true, Flags: packet.FlagPSH | packet.FlagACK, Seq: seqClient, Ack: ackClient, Window: winClient,
		PayloadLen: payload, Captured: payload}
}

func wantUDP6(payload int) summary {
	return summary{Res: decode.OK, Src: a6Client, Dst: a6Pool, Proto: packet.ProtoUDP, TTL: 63,
		IPLen: 40 + 8 + payload, HasPorts: true, SrcPort: 53000, DstPort: 53,
		PayloadLen: payload, Captured: payload}
}

func with(s summary, edit func(*summary)) summary { edit(&s); return s }

type decodeCase struct {
	name  string
	link  layers.LinkType
	frame []byte
	want  summary
}

func runCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	ts := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d decode.Decoder
			// Start from a dirty packet: Decode must overwrite every field.
			p := packet.Packet{SrcPort: 9, HasTCP: true, PayloadLen: 77, VLAN: [2]uint16{5, 6}, Payload: []byte("stale")}
			r := d.Decode(c.link, c.frame, ts, &p)
			if got := summarize(r, &p); got != c.want {
				t.Errorf("decode %s frame (%d bytes):\n got %+v\nwant %+v", c.link, len(c.frame), got, c.want)
			}
			if r == decode.OK && !p.Time.Equal(ts) {
				t.Errorf("time %v, want %v", p.Time, ts)
			}
			if len(p.Payload) > p.PayloadLen {
				t.Errorf("len(Payload) %d > PayloadLen %d", len(p.Payload), p.PayloadLen)
			}
		})
	}
}

func TestEveryLinkTypeYieldsTheSameTCPPacket(t *testing.T) {
	pl := stratumLogin
	ip4, ip6 := ipv4TCP(t, pl), ipv6TCP(t, pl)
	w4, w6 := wantTCP4(len(pl)), wantTCP6(len(pl))
	runCases(t, []decodeCase{
		{"ethernet/ipv4", layers.LinkTypeEthernet, ether(t, ip4), w4},
		{"ethernet/ipv6", layers.LinkTypeEthernet, ether(t, ip6), w6},
		{"linux-sll/ipv4", layers.LinkTypeLinuxSLL, sll(ip4), w4},
		{"linux-sll/ipv6", layers.LinkTypeLinuxSLL, sll(ip6), w6},
		{"linux-sll2/ipv4", layers.LinkTypeLinuxSLL2, sll2(ip4), w4},
		{"linux-sll2/ipv6", layers.LinkTypeLinuxSLL2, sll2(ip6), w6},
		{"raw-101/ipv4", layers.LinkTypeRaw, ip4, w4},
		{"raw-101/ipv6", layers.LinkTypeRaw, ip6, w6},
		{"raw-12/ipv4", layers.LinkType(12), ip4, w4},
		{"raw-14/ipv6", layers.LinkType(14), ip6, w6},
		{"ipv4-228", layers.LinkTypeIPv4, ip4, w4},
		{"ipv6-229", layers.LinkTypeIPv6, ip6, w6},
		{"bsd-null-little-endian/ipv4", layers.LinkTypeNull, null(ip4, binary.LittleEndian), w4},
		{"bsd-null-big-endian/ipv4", layers.LinkTypeNull, null(ip4, binary.BigEndian), w4},
		{"bsd-null-darwin-family-30/ipv6", layers.LinkTypeNull, null(ip6, binary.LittleEndian), w6},
		{"bsd-loop/ipv4", layers.LinkTypeLoop, null(ip4, binary.BigEndian), w4},
		{"bsd-loop/ipv6", layers.LinkTypeLoop, null(ip6, binary.BigEndian), w6},
	})
}

func TestTCPAndUDPOverIPv4AndIPv6(t *testing.T) {
	dnsQuery := make([]byte, 33) // a typical A query for a pool name
	runCases(t, []decodeCase{
		{"ipv4-tcp", layers.LinkTypeEthernet, ether(t, ipv4TCP(t, stratumLogin)), wantTCP4(len(stratumLogin))},
		{"ipv4-udp", layers.LinkTypeEthernet, ether(t, ipv4UDP(t, dnsQuery)), wantUDP4(len(dnsQuery))},
		{"ipv6-tcp", layers.LinkTypeEthernet, ether(t, ipv6TCP(t, stratumLogin)), wantTCP6(len(stratumLogin))},
		{"ipv6-udp", layers.LinkTypeEthernet, ether(t, ipv6UDP(t, dnsQuery)), wantUDP6(len(dnsQuery))},
		{"ipv4-tcp-no-payload", layers.LinkTypeRaw, ipv4TCP(t, nil), wantTCP4(0)},
		{"ipv6-udp-no-payload", layers.LinkTypeRaw, ipv6UDP(t, nil), wantUDP6(0)},
	})
}

func TestVLANTagsAreRecordedOuterFirst(t *testing.T) {
	ip := ipv4TCP(t, stratumLogin)
	w := wantTCP4(len(stratumLogin))
	runCases(t, []decodeCase{
		{"untagged", layers.LinkTypeEthernet, ether(t, ip), w},
		{"802.1Q", layers.LinkTypeEthernet, ether(t, ip, 100), with(w, func(s *summary) { s.VLAN = [2]uint16{100, 0} })},
		{"QinQ-802.1ad-outer", layers.LinkTypeEthernet, ether(t, ip, 200, 4094), with(w, func(s *summary) { s.VLAN = [2]uint16{200, 4094} })},
		{"QinQ-ipv6", layers.LinkTypeEthernet, ether(t, ipv6UDP(t, nil), 7, 8), with(wantUDP6(0), func(s *summary) { s.VLAN = [2]uint16{7, 8} })},
		// A third tag is walked over; only the outer two are kept.
		{"three-tags", layers.LinkTypeEthernet, ether(t, ip, 1, 2, 3), with(w, func(s *summary) { s.VLAN = [2]uint16{1, 2} })},
	})
}

func TestIPv6ExtensionHeadersAreWalkedToTCP(t *testing.T) {
	frame := ether(t, ipv6ExtTCP(t, stratumLogin))
	// hop-by-hop, routing, destination options, fragment: 4 × 8 bytes
	// between the IPv6 header and TCP.
	runCases(t, []decodeCase{
		{"hbh-routing-dstopts-fragment", layers.LinkTypeEthernet, frame, with(wantTCP6(len(stratumLogin)), func(s *summary) {
			s.IPLen += 32
			s.Fragment = true
		})},
	})
}

func TestFragmentsOnlyTheFirstHasPorts(t *testing.T) {
	// First fragment of a 3000-byte UDP datagram: offset 0, MF set; the
	// IP header says 1480 bytes follow it, the UDP header among them.
	first := ipv4Header(layers.IPProtocolUDP)
	first.Flags = layers.IPv4MoreFragments
	udp := udpDNS()
	udp.SetNetworkLayerForChecksum(first)
	firstFrame := serialize(t, first, udp, gopacket.Payload(make([]byte, 1472)))
	// Second fragment: offset 1480/8 = 185, no transport header.
	later := ipv4Header(layers.IPProtocolUDP)
	later.Flags = 0
	later.FragOffset = 185
	laterFrame := serialize(t, later, gopacket.Payload(make([]byte, 1520)))

	// IPv6: the fragment header's offset field is in 8-byte units too.
	ip6 := ipv6Header(layers.IPProtocolIPv6Fragment)
	later6 := serialize(t, ip6, &layers.IPv6Fragment{NextHeader: layers.IPProtocolTCP, FragmentOffset: 185, Identification: 9},
		gopacket.Payload(make([]byte, 100)))

	runCases(t, []decodeCase{
		{"ipv4-first-fragment-has-ports", layers.LinkTypeRaw, firstFrame, with(wantUDP4(1472), func(s *summary) {
			s.Fragment = true
			// The UDP length field covers the fragment's part only here, but
			// the decoder uses the IP length: 1500 - 20 - 8.
		})},
		{"ipv4-later-fragment-no-ports", layers.LinkTypeRaw, laterFrame, summary{Res: decode.OK, Src: a4Client, Dst: a4Pool,
			Proto: packet.ProtoUDP, TTL: 64, IPLen: 20 + 1520, Fragment: true}},
		{"ipv6-first-fragment-has-ports", layers.LinkTypeRaw, ipv6ExtTCP(t, nil), with(wantTCP6(0), func(s *summary) {
			s.IPLen += 32
			s.Fragment = true
		})},
		{"ipv6-later-fragment-no-ports", layers.LinkTypeRaw, later6, summary{Res: decode.OK, Src: a6Client, Dst: a6Pool,
			Proto: packet.ProtoTCP, TTL: 63, IPLen: 40 + 8 + 100, Fragment: true}},
	})
}

func TestEthernetPaddingIsNotPayload(t *testing.T) {
	// gopacket pads these frames to the 60-byte Ethernet minimum, as a NIC
	// does: 14+20+20 = 54 for a bare ACK, 14+20+8+1 = 43 for a 1-byte UDP.
	ack := ether(t, ipv4TCP(t, nil))
	udp1 := ether(t, ipv4UDP(t, []byte{0x2a}))
	tcp6 := ether(t, ipv6TCP(t, []byte("ok")))
	if len(ack) != 60 || len(udp1) != 60 {
		t.Fatalf("frames are %d and %d bytes, want padded to 60", len(ack), len(udp1))
	}
	runCases(t, []decodeCase{
		{"ipv4-bare-ack", layers.LinkTypeEthernet, ack, wantTCP4(0)},
		{"ipv4-udp-1-byte", layers.LinkTypeEthernet, udp1, wantUDP4(1)},
		// 14+40+20+2 = 76: no padding needed, but trailing bytes (an FCS some
		// drivers leave on) must not count either.
		{"ipv6-tcp-with-trailing-fcs", layers.LinkTypeEthernet, append(tcp6, 0xde, 0xad, 0xbe, 0xef), wantTCP6(2)},
	})
}

func TestIPv4TotalLengthZeroUsesCapturedLength(t *testing.T) {
	// TCP segmentation offload: the capturing host saw the super-segment
	// before the NIC filled in the length.
	ip := ipv4TCP(t, stratumLogin)
	binary.BigEndian.PutUint16(ip[2:4], 0)
	runCases(t, []decodeCase{{"tso-length-0", layers.LinkTypeRaw, ip, wantTCP4(len(stratumLogin))}})
}

func TestSnaplenCutsKeepWhatWasCaptured(t *testing.T) {
	pl := stratumLogin
	tcp4 := ether(t, ipv4TCP(t, pl)) // 14 + 20 + 20 + len(pl)
	udp4 := ether(t, ipv4UDP(t, pl)) // 14 + 20 + 8 + len(pl)
	tcp6 := ether(t, ipv6TCP(t, pl)) // 14 + 40 + 20 + len(pl)
	ipOnly4 := summary{Res: decode.OK, Src: a4Client, Dst: a4Pool, Proto: packet.ProtoTCP, TTL: 64, IPLen: 40 + len(pl)}
	full4 := wantTCP4(len(pl))
	runCases(t, []decodeCase{
		{"mid-ethernet-header", layers.LinkTypeEthernet, cut(tcp4, 10), summary{Res: decode.Malformed}},
		{"mid-ipv4-header", layers.LinkTypeEthernet, cut(tcp4, 14+10), summary{Res: decode.Malformed}},
		{"mid-ipv6-header", layers.LinkTypeEthernet, cut(tcp6, 14+39), summary{Res: decode.Malformed}},
		{"after-ip-header-before-ports", layers.LinkTypeEthernet, cut(tcp4, 14+20), ipOnly4},
		{"mid-source-port", layers.LinkTypeEthernet, cut(tcp4, 14+21), ipOnly4},
		{"ports-only", layers.LinkTypeEthernet, cut(tcp4, 14+20+4), with(ipOnly4, func(s *summary) {
			s.HasPorts, s.SrcPort, s.DstPort = true, clientPort, poolPort
		})},
		// The sequence number is there, the flags are not: HasTCP stays false
		// and PayloadLen is unknown (the data offset was cut), so 0.
		{"ports-and-seq", layers.LinkTypeEthernet, cut(tcp4, 14+20+8), with(ipOnly4, func(s *summary) {
			s.HasPorts, s.SrcPort, s.DstPort, s.Seq = true, clientPort, poolPort, seqClient
		})},
		// 14 bytes of TCP reach the flags but not the window.
		{"tcp-header-through-flags", layers.LinkTypeEthernet, cut(tcp4, 14+20+14), with(full4, func(s *summary) {
			s.Window, s.Captured = 0, 0
		})},
		{"tcp-header-minus-one", layers.LinkTypeEthernet, cut(tcp4, 14+20+19), with(full4, func(s *summary) { s.Captured = 0 })},
		{"tcp-mid-payload", layers.LinkTypeEthernet, cut(tcp4, 14+20+20+17), with(full4, func(s *summary) { s.Captured = 17 })},
		{"ipv6-tcp-mid-payload", layers.LinkTypeEthernet, cut(tcp6, 14+40+20+5), with(wantTCP6(len(pl)), func(s *summary) { s.Captured = 5 })},
		{"udp-ports-only", layers.LinkTypeEthernet, cut(udp4, 14+20+4), with(wantUDP4(len(pl)), func(s *summary) { s.Captured = 0 })},
		{"udp-mid-payload", layers.LinkTypeEthernet, cut(udp4, 14+20+8+9), with(wantUDP4(len(pl)), func(s *summary) { s.Captured = 9 })},
	})
}

func TestNonIPAndUnknownLinksAreClassified(t *testing.T) {
	arp := etherType(t, layers.EthernetTypeARP, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
		SourceHwAddress: macClient, SourceProtAddress: v4Client, DstHwAddress: make([]byte, 6), DstProtAddress: v4Pool})
	ip := ipv4TCP(t, stratumLogin)
	runCases(t, []decodeCase{
		{"arp", layers.LinkTypeEthernet, arp, summary{Res: decode.NotIP}},
		{"arp-in-vlan", layers.LinkTypeEthernet, etherType(t, layers.EthernetTypeARP, gopacket.Payload(arp[14:]), 10),
			summary{Res: decode.NotIP, VLAN: [2]uint16{10, 0}}},
		{"raw-link-version-5", layers.LinkTypeRaw, append([]byte{0x50}, ip[1:]...), summary{Res: decode.NotIP}},
		{"bsd-null-family-7", layers.LinkTypeNull, append([]byte{7, 0, 0, 0}, ip...), summary{Res: decode.NotIP}},
		{"unknown-link-user0-147", layers.LinkType(147), ether(t, ip), summary{Res: decode.UnknownLink}},
		{"unknown-link-ieee802_11", layers.LinkTypeIEEE802_11, ether(t, ip), summary{Res: decode.UnknownLink}},
	})
}

func TestInconsistentHeadersAreMalformed(t *testing.T) {
	tcp := ether(t, ipv4TCP(t, stratumLogin))
	tcp[14+20+12] = 4 << 4 // data offset 4 words = 16 bytes < 20
	ihl := ipv4TCP(t, nil)
	ihl[0] = 0x44 // IHL 4 words = 16 bytes < 20
	short := ipv4TCP(t, nil)
	binary.BigEndian.PutUint16(short[2:4], 12) // total length shorter than the header
	runCases(t, []decodeCase{
		{"tcp-data-offset-below-5", layers.LinkTypeEthernet, tcp, with(wantTCP4(len(stratumLogin)), func(s *summary) {
			s.Res = decode.Malformed
			s.HasTCP, s.Seq, s.Ack, s.Flags, s.Window, s.PayloadLen, s.Captured = false, 0, 0, 0, 0, 0, 0
		})},
		{"ipv4-ihl-below-5", layers.LinkTypeRaw, ihl, summary{Res: decode.Malformed}},
		{"ipv4-total-length-below-ihl", layers.LinkTypeRaw, short, summary{Res: decode.Malformed}},
		{"empty-raw", layers.LinkTypeRaw, nil, summary{Res: decode.Malformed}},
		{"short-sll", layers.LinkTypeLinuxSLL, make([]byte, 15), summary{Res: decode.Malformed}},
		{"short-sll2", layers.LinkTypeLinuxSLL2, make([]byte, 19), summary{Res: decode.Malformed}},
		{"short-null", layers.LinkTypeNull, []byte{2, 0}, summary{Res: decode.Malformed}},
		{"vlan-tag-cut", layers.LinkTypeEthernet, cut(ether(t, ipv4TCP(t, nil), 5), 16), summary{Res: decode.Malformed, VLAN: [2]uint16{}}},
	})
}

func TestStatsCountOutcomes(t *testing.T) {
	var d decode.Decoder
	var p packet.Packet
	tcp := ether(t, ipv4TCP(t, stratumLogin))
	frames := []struct {
		link  layers.LinkType
		frame []byte
	}{
		{layers.LinkTypeEthernet, tcp},
		{layers.LinkTypeEthernet, ether(t, ipv6UDP(t, nil))},
		{layers.LinkTypeEthernet, cut(tcp, 14+20+10)}, // TruncatedL4
		{layers.LinkTypeEthernet, cut(tcp, 14+20+25)}, // TruncatedData
		{layers.LinkTypeEthernet, cut(tcp, 14+5)},     // Malformed
		{layers.LinkType(147), tcp},                   // UnknownLink
		{layers.LinkTypeEthernet, etherType(t, layers.EthernetTypeLLC, gopacket.Payload(make([]byte, 46)))}, // NotIP
	}
	for _, f := range frames {
		d.Decode(f.link, f.frame, time.Time{}, &p)
	}
	want := decode.Stats{Frames: 7, IPv4: 3, IPv6: 1, TCP: 3, UDP: 1, NotIP: 1, UnknownLink: 1, Malformed: 1, TruncatedL4: 1, TruncatedData: 1}
	if d.Stats != want {
		t.Errorf("stats\n got %+v\nwant %+v", d.Stats, want)
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	var d decode.Decoder
	var p packet.Packet
	ts := time.Unix(1714564800, 0)
	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"ipv4-tcp", ether(t, ipv4TCP(t, stratumLogin), 100)},
		{"ipv6-ext-tcp", ether(t, ipv6ExtTCP(t, stratumLogin))},
	} {
		allocs := testing.AllocsPerRun(1000, func() {
			if d.Decode(layers.LinkTypeEthernet, c.frame, ts, &p) != decode.OK {
				t.Fatal("frame did not decode")
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Decode, want 0", c.name, allocs)
		}
	}
}
