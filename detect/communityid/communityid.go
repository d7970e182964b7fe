package communityid

import (
	"crypto/sha1"
	"encoding/base64"
	"net/netip"
)

// IP protocol numbers whose Community ID includes ports.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// Hash returns the Community ID v1 string of a flow between a and b over
// IP protocol proto, with the given seed (0 unless the deployment agreed on
// another). It reports false when the ID cannot be computed: mixed address
// families, or ICMP/ICMPv6 (their type and code are not in a flow key).
func Hash(seed uint16, proto uint8, a, b netip.AddrPort) (string, bool) {
	if proto == protoICMP || proto == protoICMPv6 {
		return "", false
	}
	aa, ba := a.Addr().Unmap(), b.Addr().Unmap()
	if aa.Is4() != ba.Is4() || !aa.IsValid() || !ba.IsValid() {
		return "", false
	}
	ap, bp := a.Port(), b.Port()
	// The spec orders the endpoints: the smaller address first, and the
	// smaller port first when the addresses are equal.
	if c := aa.Compare(ba); c > 0 || (c == 0 && ap > bp) {
		aa, ba, ap, bp = ba, aa, bp, ap
	}
	// seed(2) addr(4|16) addr(4|16) proto(1) pad(1) port(2) port(2)
	var buf [2 + 16 + 16 + 2 + 4]byte
	in := append(buf[:0], byte(seed>>8), byte(seed))
	in = append(in, aa.AsSlice()...)
	in = append(in, ba.AsSlice()...)
	in = append(in, proto, 0)
	switch proto {
	case protoTCP, protoUDP, protoSCTP:
		in = append(in, byte(ap>>8), byte(ap), byte(bp>>8), byte(bp))
	}
	sum := sha1.Sum(in)
	var out [2 + 28]byte // "1:" and base64 of 20 bytes
	out[0], out[1] = '1', ':'
	base64.StdEncoding.Encode(out[2:], sum[:])
	return string(out[:]), true
}
