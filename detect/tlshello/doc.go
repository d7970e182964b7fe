// Package tlshello parses a TLS ClientHello from the first bytes of a
// client's TCP stream and derives the metadata that identifies the client:
// SNI, ALPN, versions, cipher suites, extensions, groups, point formats,
// signature algorithms, and the JA3 and JA4 fingerprints.
//
// The hello may span several TLS records and arrive in several TCP chunks:
// a Parser takes the in-order stream bytes chunk by chunk and reports
// ErrNeedMore until the whole hello is there. It gives up after MaxStream
// bytes (a real ClientHello, even with post-quantum key shares, is a few
// KiB), so a hostile stream costs bounded memory and work.
//
// Example:
//
//	var p tlshello.Parser
//	for chunk := range upstreamChunks {
//		err := p.Feed(chunk)
//		if err == tlshello.ErrNeedMore {
//			continue
//		}
//		if err == nil {
//			h := &p.Hello
//			fmt.Println(string(h.SNI), h.JA3Hash(), h.JA4())
//		}
//		break // not TLS, malformed, or done
//	}
//
// GREASE values (RFC 8701) are kept in the parsed lists but left out of
// both fingerprints, as the JA3 and JA4 specifications say.
package tlshello
