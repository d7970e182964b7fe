// Package defragtest splits IP packets into fragments the way a sending
// host (or an attacker) does, for tests that need fragmented traffic
// without committing captures of it.
package defragtest

import (
	"encoding/binary"
	"fmt"
)

// Split cuts a whole raw IPv4 or IPv6 packet into fragments carrying at
// most size bytes of payload each (rounded down to a multiple of 8, at
// least 8). IPv4 fragments copy the header (options included) and keep its
// identification; IPv6 fragments get a fragment header with identification
// id6 right after the base header (extension headers of ip, if any, travel
// in the fragmentable part). A packet that fits is still returned as one
// fragment (offset 0, no more-fragments flag) so tests exercise the path.
func Split(ip []byte, size int, id6 uint32) ([][]byte, error) {
	size &^= 7
	if size < 8 {
		size = 8
	}
	if len(ip) < 1 {
		return nil, fmt.Errorf("empty packet")
	}
	switch ip[0] >> 4 {
	case 4:
		if len(ip) < 20 {
			return nil, fmt.Errorf("IPv4 packet of %d bytes", len(ip))
		}
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		if ihl < 20 || total < ihl || total > len(ip) {
			return nil, fmt.Errorf("bad IPv4 header (ihl %d, total %d, have %d)", ihl, total, len(ip))
		}
		body := ip[ihl:total]
		var out [][]byte
		for off := 0; ; off += size {
			end := min(off+size, len(body))
			f := make([]byte, ihl+end-off)
			copy(f, ip[:ihl])
			copy(f[ihl:], body[off:end])
			binary.BigEndian.PutUint16(f[2:4], uint16(len(f)))
			ff := uint16(off / 8)
			if end < len(body) {
				ff |= 0x2000
			}
			binary.BigEndian.PutUint16(f[6:8], ff)
			f[10], f[11] = 0, 0
			binary.BigEndian.PutUint16(f[10:12], checksum(f[:ihl]))
			out = append(out, f)
			if end == len(body) {
				break
			}
		}
		return out, nil
	case 6:
		if len(ip) < 40 {
			return nil, fmt.Errorf("IPv6 packet of %d bytes", len(ip))
		}
		plen := int(binary.BigEndian.Uint16(ip[4:6]))
		if 40+plen > len(ip) {
			return nil, fmt.Errorf("IPv6 payload length %d, have %d", plen, len(ip)-40)
		}
		body := ip[40 : 40+plen]
		var out [][]byte
		for off := 0; ; off += size {
			end := min(off+size, len(body))
			f := make([]byte, 48+end-off)
			copy(f, ip[:40])
			f[6] = 44
			binary.BigEndian.PutUint16(f[4:6], uint16(8+end-off))
			fh := f[40:48]
			fh[0] = ip[6]
			fo := uint16(off/8) << 3
			if end < len(body) {
				fo |= 1
			}
			binary.BigEndian.PutUint16(fh[2:4], fo)
			binary.BigEndian.PutUint32(fh[4:8], id6)
			copy(f[48:], body[off:end])
			out = append(out, f)
			if end >= len(body) {
				break
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("not an IP packet (version %d)", ip[0]>>4)
}

// Ether wraps a raw IP packet in an Ethernet II header.
func Ether(ip []byte) []byte {
	f := make([]byte, 14+len(ip))
	copy(f, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1})
	if len(ip) > 0 && ip[0]>>4 == 6 {
		binary.BigEndian.PutUint16(f[12:14], 0x86dd)
	} else {
		binary.BigEndian.PutUint16(f[12:14], 0x0800)
	}
	copy(f[14:], ip)
	return f
}

// checksum is the IPv4 header checksum (RFC 1071).
func checksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
