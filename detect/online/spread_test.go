package online

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/packet"
)

// TestSpreaderSendsBothDirectionsToOneWorker: the spread hash depends on
// the flow key only (IPv4, IPv6, VLAN-tagged, portless protocols), so a
// flow's two directions meet in one worker, whatever the seed; and it
// spreads many flows over every worker about evenly.
func TestSpreaderSendsBothDirectionsToOneWorker(t *testing.T) {
	cases := []struct {
		name     string
		src, dst string
		sp, dp   uint16
		proto    uint8
		vlan     [2]uint16
	}{
		{"ipv4 tcp", "10.0.0.1", "192.0.2.7", 40000, 3333, packet.ProtoTCP, [2]uint16{}},
		{"ipv4 same address, two ports", "10.0.0.1", "10.0.0.1", 40000, 53, packet.ProtoUDP, [2]uint16{}},
		{"ipv6 udp", "2001:db8::1", "2001:db8:ffff::35", 5353, 53, packet.ProtoUDP, [2]uint16{}},
		{"4in6", "::ffff:10.0.0.1", "2001:db8::2", 1, 2, packet.ProtoTCP, [2]uint16{}},
		{"vlan-tagged", "10.0.0.1", "10.0.0.2", 1234, 443, packet.ProtoTCP, [2]uint16{100, 7}},
		{"icmp, no ports", "10.0.0.1", "10.0.0.2", 0, 0, 1, [2]uint16{}},
	}
	for _, c := range cases {
		for _, workers := range []int{2, 3, 7} {
			for range 4 { // seeds
				s := NewSpreader(workers)
				up := packet.Packet{SrcIP: netip.MustParseAddr(c.src), DstIP: netip.MustParseAddr(c.dst), SrcPort: c.sp, DstPort: c.dp, Proto: c.proto, VLAN: c.vlan}
				down := up
				down.SrcIP, down.DstIP, down.SrcPort, down.DstPort = up.DstIP, up.SrcIP, up.DstPort, up.SrcPort
				if a, b := s.hash(&up)%uint64(workers), s.hash(&down)%uint64(workers); a != b {
					t.Errorf("%s, %d workers: directions on workers %d and %d", c.name, workers, a, b)
				}
			}
		}
	}
	s := NewSpreader(3)
	var n [3]int
	p := packet.Packet{DstIP: netip.MustParseAddr("192.0.2.7"), DstPort: 3333, Proto: packet.ProtoTCP, Time: time.Unix(0, 0)}
	for i := range 30000 {
		p.SrcIP, p.SrcPort = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(40000+i%7)
		n[s.hash(&p)%3]++
	}
	for w, k := range n {
		if k < 9000 || k > 11000 {
			t.Errorf("worker %d got %d of 30000 flows: %v", w, k, n)
		}
	}
	// The flow tables of detect/parallel's workers index by the upper 32
	// bits of the hash (flows.Table.AddHashed): within one worker's flows
	// they must still spread over a table's slots (its low bits).
	var slots [256]int
	for i := range 30000 {
		p.SrcIP, p.SrcPort = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(40000+i%7)
		if h := s.hash(&p); h%3 == 0 {
			slots[h>>32&255]++
		}
	}
	if lo, hi := slices.Min(slots[:]), slices.Max(slots[:]); lo < 10 || hi > 80 { // about 39 each
		t.Errorf("one worker's flows fill 256 table slots unevenly: %d to %d flows a slot", lo, hi)
	}
}
