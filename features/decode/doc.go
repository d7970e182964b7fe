// Package decode turns captured frames into packet.Packet values without
// allocating: link layer (Ethernet with 802.1Q/802.1ad/QinQ tags, Linux
// cooked SLL and SLL2, raw IPv4/IPv6, BSD loopback NULL/LOOP), IPv4 (with
// fragments) and IPv6 (with extension headers), then TCP or UDP.
//
// Why not gopacket's DecodingLayerParser: its TCP and IP decoders refuse a
// header that the capture's snaplen cut short, and the headers-only captures
// operators keep (18–58 bytes per packet) would lose their flows. This
// decoder takes whatever the capture holds, takes lengths from the IP header
// (as NetFlow does), and marks what was missing. Tests cross-check it
// against gopacket's layers on full-size captures.
//
//	var d decode.Decoder
//	var p packet.Packet
//	if d.Decode(rec.LinkType, rec.Data, rec.Time, &p) == decode.OK { ... }
package decode
