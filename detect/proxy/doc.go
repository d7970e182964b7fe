// Package proxy recognises plaintext proxy preambles at the start of a TCP
// connection — SOCKS5 (RFC 1928, with RFC 1929 username/password),
// SOCKS4 and SOCKS4a, and HTTP CONNECT — so the signature stage can read
// the tunnelled conversation behind them and report the real target.
//
// Parse is a pure function of the first bytes of each direction; the
// caller buffers up to MaxPreamble bytes per direction and calls it again
// as bytes arrive until the status is no longer NeedMore.
//
// Rules:
//   - SOCKS5: client greeting 05 n methods…; server 05 method; optional
//     RFC 1929 sub-negotiation 01 ulen user plen pass / 01 status; request
//     05 01 00 atyp addr port (IPv4, domain, IPv6); reply 05 00 00 atyp addr port.
//   - SOCKS4/4a: 04 01 port ip user\0 [domain\0 when ip is 0.0.0.x]; reply 00 5a port ip.
//   - HTTP CONNECT: "CONNECT host:port HTTP/1.x" + headers + blank line;
//     a 2xx response + headers + blank line.
//   - A reply that refuses (SOCKS5 rep != 0, SOCKS4 != 0x5a, HTTP != 2xx) gives Refused.
//
// Example:
//
//	r := proxy.Parse(upFirstBytes, downFirstBytes)
//	if r.Status == proxy.Found { tunnelUp := up[r.UpStart:]; ... r.Target() }
package proxy
