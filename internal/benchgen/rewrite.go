package main

import "encoding/binary"

// shiftAddresses moves the private addresses of an Ethernet frame by k
// (see the package doc) in place and adjusts the IPv4 header checksum and
// the TCP or UDP checksum, whose pseudo-header covers the addresses
// (RFC 1624 incremental update, so the rest of the frame need not be
// read). Frames it cannot parse are left alone; k = 0 changes nothing.
func shiftAddresses(b []byte, k int) {
	if k == 0 || len(b) < 14 {
		return
	}
	off := 12
	etype := binary.BigEndian.Uint16(b[off:])
	for (etype == 0x8100 || etype == 0x88a8 || etype == 0x9100) && len(b) >= off+6 {
		off += 4
		etype = binary.BigEndian.Uint16(b[off:])
	}
	ip := b[off+2:]
	switch etype {
	case 0x0800:
		shiftIPv4(ip, k)
	case 0x86dd:
		shiftIPv6(ip, k)
	}
}

func shiftIPv4(ip []byte, k int) {
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return
	}
	ihl := int(ip[0]&0x0f) * 4
	if ihl < 20 || len(ip) < ihl {
		return
	}
	var sum uint32 // one's-complement sum of (new − old) over changed words
	for _, a := range [2]int{12, 16} {
		old := [4]byte(ip[a : a+4])
		shiftPrivate4(ip[a:a+4], k)
		for w := 0; w < 4; w += 2 {
			sum += uint32(^binary.BigEndian.Uint16(old[w:])) + uint32(binary.BigEndian.Uint16(ip[a+w:]))
		}
	}
	adjust(ip[10:12], sum)
	// Only a packet's first fragment carries the TCP/UDP header.
	if binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 {
		return
	}
	adjustL4(ip[9], ip[ihl:], sum)
}

func shiftIPv6(ip []byte, k int) {
	if len(ip) < 40 || ip[0]>>4 != 6 {
		return
	}
	var sum uint32
	for _, a := range [2]int{8, 24} {
		if ip[a]&0xfe != 0xfc { // fc00::/7, unique local
			continue
		}
		old := binary.BigEndian.Uint16(ip[a+2:])
		ip[a+2] += byte(k)
		sum += uint32(^old) + uint32(binary.BigEndian.Uint16(ip[a+2:]))
	}
	// Extension headers are not followed: their packets keep a stale
	// L4 checksum, which nothing on the measured path verifies.
	adjustL4(ip[6], ip[40:], sum)
}

// shiftPrivate4 shifts an RFC 1918 address by k; others are unchanged.
func shiftPrivate4(a []byte, k int) {
	switch {
	case a[0] == 10:
		a[1] += byte(k)
	case a[0] == 172 && a[1]&0xf0 == 16:
		a[1] = 16 + (a[1]-16+byte(k))%16
	case a[0] == 192 && a[1] == 168:
		a[2] += byte(k)
	}
}

// adjustL4 applies the address change to a TCP or UDP checksum.
func adjustL4(proto byte, l4 []byte, sum uint32) {
	switch {
	case proto == 6 && len(l4) >= 18:
		adjust(l4[16:18], sum)
	case proto == 17 && len(l4) >= 8:
		if binary.BigEndian.Uint16(l4[6:]) == 0 {
			return // no checksum (IPv4 UDP)
		}
		adjust(l4[6:8], sum)
		if binary.BigEndian.Uint16(l4[6:]) == 0 {
			binary.BigEndian.PutUint16(l4[6:], 0xffff) // 0 means "none" in UDP
		}
	}
}

// adjust updates the checksum field c for data whose one's-complement
// sum changed by delta: HC' = ~(~HC + delta) (RFC 1624, eqn. 3).
func adjust(c []byte, delta uint32) {
	s := uint32(^binary.BigEndian.Uint16(c)) + delta
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	binary.BigEndian.PutUint16(c, ^uint16(s))
}
