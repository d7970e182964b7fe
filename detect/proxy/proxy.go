package proxy

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"
)

// MaxPreamble is how many bytes per direction a caller should buffer
// before giving up (a SOCKS5 domain request is at most 262 bytes; HTTP
// CONNECT headers are small).
const MaxPreamble = 2048

// Status says what Parse concluded.
type Status uint8

const (
	// NeedMore: could be a preamble, not complete yet.
	NeedMore Status = iota
	// NotProxy: the stream does not start with a known preamble.
	NotProxy
	// Found: a complete preamble; the tunnel starts at UpStart/DownStart.
	Found
	// Refused: a complete request the proxy refused.
	Refused
)

// Kinds, as written in alert.Proxy.Kind.
const (
	KindSOCKS5      = "socks5"
	KindSOCKS4      = "socks4"
	KindSOCKS4a     = "socks4a"
	KindHTTPConnect = "http-connect"
)

// Result is a parsed preamble.
type Result struct {
	Status     Status
	Kind       string
	TargetHost string
	TargetPort uint16
	// UpStart and DownStart are the offsets, in each direction's stream,
	// where the tunnelled bytes begin.
	UpStart, DownStart int
}

// Parse examines the first bytes of the client→server (up) and
// server→client (down) streams.
func Parse(up, down []byte) Result {
	if len(up) == 0 {
		return Result{Status: NeedMore}
	}
	switch up[0] {
	case 5:
		return socks5(up, down)
	case 4:
		return socks4(up, down)
	case 'C':
		return httpConnect(up, down)
	}
	return Result{Status: NotProxy}
}

func socks5(up, down []byte) Result {
	r := Result{Kind: KindSOCKS5}
	if len(up) < 2 {
		return r
	}
	n := int(up[1])
	if n == 0 || n > 16 {
		return Result{Status: NotProxy}
	}
	u := 2 + n
	if len(up) < u {
		return r
	}
	if len(down) < 2 {
		return r
	}
	if down[0] != 5 {
		return Result{Status: NotProxy}
	}
	d := 2
	switch down[1] {
	case 0: // no authentication
	case 2: // username/password (RFC 1929)
		if len(up) < u+2 || up[u] != 1 {
			return needOr(len(up) < u+2, r)
		}
		ul := int(up[u+1])
		if len(up) < u+2+ul+1 {
			return r
		}
		pl := int(up[u+2+ul])
		u += 3 + ul + pl
		if len(down) < d+2 {
			return r
		}
		if down[d+1] != 0 {
			r.Status = Refused
			return r
		}
		d += 2
	case 0xff:
		r.Status = Refused
		return r
	default:
		return Result{Status: NotProxy}
	}
	// Request: 05 cmd 00 atyp addr port.
	if len(up) < u+4 {
		return r
	}
	if up[u] != 5 || up[u+1] != 1 || up[u+2] != 0 {
		return Result{Status: NotProxy}
	}
	host, end, ok := socksAddr(up, u+3)
	if !ok {
		if end < 0 {
			return Result{Status: NotProxy}
		}
		return r
	}
	r.TargetHost = host
	r.TargetPort = binary.BigEndian.Uint16(up[end:])
	u = end + 2
	// Reply: 05 rep 00 atyp addr port.
	if len(down) < d+4 {
		return r
	}
	if down[d] != 5 {
		return Result{Status: NotProxy}
	}
	if down[d+1] != 0 {
		r.Status = Refused
		return r
	}
	_, end, ok = socksAddr(down, d+3)
	if !ok {
		if end < 0 {
			return Result{Status: NotProxy}
		}
		return r
	}
	r.UpStart, r.DownStart, r.Status = u, end+2, Found
	return r
}

func needOr(need bool, r Result) Result {
	if need {
		return r
	}
	return Result{Status: NotProxy}
}

// socksAddr reads atyp+addr at b[i]; it returns the host, the index of the
// port, and ok. end < 0 means malformed, ok=false with end >= 0 means short.
func socksAddr(b []byte, i int) (string, int, bool) {
	if len(b) <= i {
		return "", 0, false
	}
	switch b[i] {
	case 1:
		if len(b) < i+1+4+2 {
			return "", 0, false
		}
		return netip.AddrFrom4([4]byte(b[i+1 : i+5])).String(), i + 5, true
	case 4:
		if len(b) < i+1+16+2 {
			return "", 0, false
		}
		return netip.AddrFrom16([16]byte(b[i+1 : i+17])).String(), i + 17, true
	case 3:
		if len(b) < i+2 {
			return "", 0, false
		}
		n := int(b[i+1])
		if n == 0 {
			return "", -1, false
		}
		if len(b) < i+2+n+2 {
			return "", 0, false
		}
		return string(b[i+2 : i+2+n]), i + 2 + n, true
	}
	return "", -1, false
}

func socks4(up, down []byte) Result {
	r := Result{Kind: KindSOCKS4}
	if len(up) < 9 {
		return r
	}
	if up[1] != 1 {
		return Result{Status: NotProxy}
	}
	port := binary.BigEndian.Uint16(up[2:])
	ip := [4]byte(up[4:8])
	ue := bytes.IndexByte(up[8:], 0)
	if ue < 0 {
		return needOr(len(up) < 8+256, r)
	}
	u := 8 + ue + 1
	r.TargetPort = port
	if ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0 { // SOCKS4a
		r.Kind = KindSOCKS4a
		de := bytes.IndexByte(up[u:], 0)
		if de < 0 {
			return needOr(len(up) < u+256, r)
		}
		r.TargetHost = string(up[u : u+de])
		u += de + 1
	} else {
		r.TargetHost = netip.AddrFrom4(ip).String()
	}
	if len(down) < 8 {
		return r
	}
	if down[0] != 0 {
		return Result{Status: NotProxy}
	}
	if down[1] != 0x5a {
		r.Status = Refused
		return r
	}
	r.UpStart, r.DownStart, r.Status = u, 8, Found
	return r
}

func httpConnect(up, down []byte) Result {
	r := Result{Kind: KindHTTPConnect}
	const verb = "CONNECT "
	if len(up) < len(verb) {
		if string(up) == verb[:len(up)] {
			return r
		}
		return Result{Status: NotProxy}
	}
	if string(up[:len(verb)]) != verb {
		return Result{Status: NotProxy}
	}
	he := bytes.Index(up, []byte("\r\n\r\n"))
	if he < 0 {
		return r
	}
	line, _, _ := bytes.Cut(up, []byte("\r\n"))
	f := bytes.Fields(line)
	if len(f) != 3 || !bytes.HasPrefix(f[2], []byte("HTTP/1.")) {
		return Result{Status: NotProxy}
	}
	hp := f[1]
	c := bytes.LastIndexByte(hp, ':')
	if c <= 0 {
		return Result{Status: NotProxy}
	}
	port, err := strconv.ParseUint(string(hp[c+1:]), 10, 16)
	if err != nil {
		return Result{Status: NotProxy}
	}
	r.TargetHost = string(bytes.Trim(hp[:c], "[]"))
	r.TargetPort = uint16(port)
	de := bytes.Index(down, []byte("\r\n\r\n"))
	if de < 0 {
		return r
	}
	sl, _, _ := bytes.Cut(down, []byte("\r\n"))
	sf := bytes.Fields(sl)
	if len(sf) < 2 || !bytes.HasPrefix(sf[0], []byte("HTTP/1.")) {
		return Result{Status: NotProxy}
	}
	if len(sf[1]) != 3 || sf[1][0] != '2' {
		r.Status = Refused
		return r
	}
	r.UpStart, r.DownStart, r.Status = he+4, de+4, Found
	return r
}
