// Package defrag reassembles IPv4 and IPv6 fragments into whole datagrams
// before the flow table sees them, so a Stratum session carried in
// fragments has ports, a TCP header and a payload like any other.
//
// It follows Suricata's defrag engine: datagrams are keyed by source,
// destination, protocol (IPv4 only; IPv6 keys on addresses and the 32-bit
// identification, as RFC 8200 says) and IP identification, plus the VLAN
// tags; every byte held is counted against a memory cap, the number of
// datagrams in progress and the fragments per datagram are capped, and an
// incomplete datagram is dropped Timeout after its first fragment (packet
// time). When a cap is hit the oldest datagram goes first. Everything
// dropped or odd is counted in Stats, never silently lost.
//
// Overlaps are resolved with the "first" policy (Suricata's `first`): bytes
// already received win, a later copy of the same range is ignored; an
// exact duplicate costs nothing. Ptacek & Newsham's insertion/evasion
// attacks play on hosts that resolve overlaps differently — Linux since
// 4.19 and RFC 5722 IPv6 stacks discard a datagram whose fragments overlap,
// Windows keeps the first copy, older BSDs prefer a later one — so no single
// policy matches every victim. Every overlap is therefore counted, and one
// whose bytes differ from those held is counted again as a conflict: an
// operator sees the anomaly even when this policy and the victim's
// disagree. Likewise the first fragment to say where the datagram ends
// wins; a later one that disagrees is a conflict.
//
// Limits: a reassembled IPv4 datagram is at most 65535 bytes and an IPv6
// payload at most 65535 bytes (no jumbograms); a fragment that would reach
// beyond is refused with its datagram (the "ping of death" shape). A
// fragment the capture's snaplen cut is passed through as decoded (it
// cannot be reassembled), so headers-only captures behave as before.
//
// Packets that are not fragments pass through untouched and cost one
// branch; nothing is allocated for them.
//
//	t := defrag.New(defrag.Config{})
//	for each frame {
//		if dec.Decode(link, data, ts, &p) != decode.OK { continue }
//		q := t.Add(&p, dec.IPPacket())
//		if q == nil { continue } // a fragment was held (or dropped)
//		table.Add(q)             // p itself, or the reassembled datagram
//	}
//
// The reassembled packet is re-decoded from a rebuilt IP header (IPv4
// without options; IPv6 without the extension headers that preceded the
// fragment header) followed by the reassembled payload, stamped with the
// time and VLAN tags of the fragment that completed it. Its FrameLen is the
// frame length of the first fragment (the frame that carries the transport
// header, which is what tshark counts in a conversation when it does not
// reassemble), its IPLen the whole datagram's. It and its Payload are valid
// until the next Add.
package defrag
