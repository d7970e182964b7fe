// Package seqfeat is the packet-sequence feature set "seq": the first
// messages of a flow as a fixed-length sequence — direction, length and
// the gap before each — plus summaries of them that do not depend on
// seeing the connection's start (a capture or a mirror port may join a
// mining session hours in).
//
// A message is a data packet, or, on a TLS flow, an application-data
// record: TLS 1.2 and 1.3 keep the record header (content type, length) in
// the clear, so the length of each record is visible under encryption,
// however records and packets are cut. Under TLS 1.3 (the ServerHello's
// supported_versions says so) the end of the handshake is encrypted into
// application-data records too — the server's before the client's first
// one, and the client's first one (Finished) — and those are skipped, so
// message 1 is the client's first request under every TLS version. A mining session starts with a
// login request, an answer carrying the first job and, seconds later, a
// share submission of a size fixed by the protocol; TLS and AEAD tunnels
// add a constant overhead per record or chunk but keep the order and the
// timing, which is what early detection needs.
//
// A Seq is one flow's state: a fixed-size value of 120 bytes (32 lengths
// as int16, 32 gaps as a log-scaled byte, the last time, per-direction TCP
// sequence high-water marks and TLS record positions), filled once by
// Add from the flow's first data packets and never grown. Fill renders it
// into the set's columns (Defs) at a checkpoint:
//
//	var s seqfeat.Seq
//	for each data packet of the flow {
//		s.Add(p.Time.UnixNano(), dir == packet.Down, p.Payload, p.PayloadLen, p.Seq, p.HasTCP, 0)
//	}
//	seqfeat.Fill(out[:seqfeat.Num], &s, elapsed, now.UnixNano())
package seqfeat
