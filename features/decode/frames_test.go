package decode_test

// Frame builders shared by the table tests, the cross-check and the fuzz
// seeds. Every frame is made by gopacket's layers and SerializeLayers, with
// lengths and checksums fixed, so the bytes are what a real stack sends.

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	macClient = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	macPool   = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	v4Client  = net.IP{192, 0, 2, 10}
	v4Pool    = net.IP{198, 51, 100, 7}
	v6Client  = net.ParseIP("2001:db8::10")
	v6Pool    = net.ParseIP("2001:db8:1::7")

	// stratumLogin is the first line an XMRig client sends to its pool.
	stratumLogin = []byte(`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"x","pass":"x","agent":"XMRig/6.21.0"}}` + "\n")
)

const (
	clientPort = 49152
	poolPort   = 3333
	seqClient  = 1000
	ackClient  = 2000
	winClient  = 502
)

func serialize(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		tb.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ipv4Header(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0x1234, Flags: layers.IPv4DontFragment,
		Protocol: proto, SrcIP: v4Client, DstIP: v4Pool}
}

func ipv6Header(next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 63, NextHeader: next, SrcIP: v6Client, DstIP: v6Pool}
}

func tcpPSHACK() *layers.TCP {
	return &layers.TCP{SrcPort: clientPort, DstPort: poolPort, Seq: seqClient, Ack: ackClient,
		PSH: true, ACK: true, Window: winClient}
}

func udpDNS() *layers.UDP { return &layers.UDP{SrcPort: 53000, DstPort: 53} }

// ipv4TCP is a raw IPv4 packet: 20-byte IP header, 20-byte TCP header,
// then payload.
func ipv4TCP(tb testing.TB, payload []byte) []byte {
	ip, tcp := ipv4Header(layers.IPProtocolTCP), tcpPSHACK()
	tcp.SetNetworkLayerForChecksum(ip)
	return serialize(tb, ip, tcp, gopacket.Payload(payload))
}

func ipv4UDP(tb testing.TB, payload []byte) []byte {
	ip, udp := ipv4Header(layers.IPProtocolUDP), udpDNS()
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(tb, ip, udp, gopacket.Payload(payload))
}

func ipv6TCP(tb testing.TB, payload []byte) []byte {
	ip, tcp := ipv6Header(layers.IPProtocolTCP), tcpPSHACK()
	tcp.SetNetworkLayerForChecksum(ip)
	return serialize(tb, ip, tcp, gopacket.Payload(payload))
}

func ipv6UDP(tb testing.TB, payload []byte) []byte {
	ip, udp := ipv6Header(layers.IPProtocolUDP), udpDNS()
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(tb, ip, udp, gopacket.Payload(payload))
}

// ipv6ExtTCP is IPv6 → hop-by-hop (8 bytes) → routing (8) → destination
// options (8) → fragment (8, offset 0, more fragments) → TCP.
func ipv6ExtTCP(tb testing.TB, payload []byte) []byte {
	ip := ipv6Header(layers.IPProtocolIPv6HopByHop)
	hbh := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{{OptionType: 1, OptionData: make([]byte, 4)}}}
	hbh.NextHeader = layers.IPProtocolIPv6Routing
	ip.HopByHop = hbh
	rt := &layers.IPv6Routing{RoutingType: 4}
	rt.NextHeader = layers.IPProtocolIPv6Destination
	dst := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: make([]byte, 4)}}}
	dst.NextHeader = layers.IPProtocolIPv6Fragment
	frag := &layers.IPv6Fragment{NextHeader: layers.IPProtocolTCP, MoreFragments: true, Identification: 7}
	tcp := tcpPSHACK()
	tcp.SetNetworkLayerForChecksum(ip)
	return serialize(tb, ip, rt, dst, frag, tcp, gopacket.Payload(payload))
}

// ether wraps an IP packet in Ethernet with the given 802.1Q/802.1ad tags
// (outer first; a two-tag frame uses 0x88a8 for the outer tag, as QinQ
// does). gopacket pads the frame to the 60-byte Ethernet minimum.
func ether(tb testing.TB, ip []byte, vlans ...uint16) []byte {
	ipType := layers.EthernetTypeIPv4
	if ip[0]>>4 == 6 {
		ipType = layers.EthernetTypeIPv6
	}
	return etherType(tb, ipType, gopacket.Payload(ip), vlans...)
}

func etherType(tb testing.TB, inner layers.EthernetType, payload gopacket.SerializableLayer, vlans ...uint16) []byte {
	eth := &layers.Ethernet{SrcMAC: macClient, DstMAC: macPool, EthernetType: inner}
	ls := []gopacket.SerializableLayer{eth}
	for i, id := range vlans {
		next := inner
		if i+1 < len(vlans) {
			next = layers.EthernetTypeDot1Q
		}
		if i == 0 {
			eth.EthernetType = layers.EthernetTypeDot1Q
			if len(vlans) > 1 {
				eth.EthernetType = layers.EthernetTypeQinQ
			}
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: id, Priority: 3, Type: next})
	}
	return serialize(tb, append(ls, payload)...)
}

// sll wraps an IP packet in a Linux "cooked" (DLT 113) header: packet type,
// ARPHRD, address length, 8 address bytes, protocol.
func sll(ip []byte) []byte {
	h := make([]byte, 16, 16+len(ip))
	binary.BigEndian.PutUint16(h[0:2], 4) // sent by us
	binary.BigEndian.PutUint16(h[2:4], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:6], 6)
	copy(h[6:12], macClient)
	binary.BigEndian.PutUint16(h[14:16], etherTypeOf(ip))
	return append(h, ip...)
}

// sll2 wraps an IP packet in a Linux SLL2 (DLT 276) header: protocol,
// reserved, interface index, ARPHRD, packet type, address length, address.
func sll2(ip []byte) []byte {
	h := make([]byte, 20, 20+len(ip))
	binary.BigEndian.PutUint16(h[0:2], etherTypeOf(ip))
	binary.BigEndian.PutUint32(h[4:8], 2) // ifindex
	binary.BigEndian.PutUint16(h[8:10], 1)
	h[10] = 4
	h[11] = 6
	copy(h[12:18], macClient)
	return append(h, ip...)
}

func etherTypeOf(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return uint16(layers.EthernetTypeIPv6)
	}
	return uint16(layers.EthernetTypeIPv4)
}

// null wraps an IP packet in a BSD loopback header, the family in the
// given byte order (DLT_NULL is host order; DLT_LOOP is always big endian).
func null(ip []byte, order binary.ByteOrder) []byte {
	family := uint32(layers.ProtocolFamilyIPv4)
	if ip[0]>>4 == 6 {
		family = uint32(layers.ProtocolFamilyIPv6Darwin) // 30
	}
	h := make([]byte, 4, 4+len(ip))
	order.PutUint32(h, family)
	return append(h, ip...)
}

// cut returns the first n bytes of a copy of frame, as a capture with that
// snaplen would hold.
func cut(frame []byte, n int) []byte { return append([]byte(nil), frame[:n]...) }
