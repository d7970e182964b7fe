// Command benchgen builds the captures that `make bench` measures
// (tests/bench/bench.sh) and walks them the way a bare record reader does.
// Its captures are generated into a scratch folder (out/bench by default)
// and never committed.
//
//	go run ./internal/benchgen merged -k 10 -o out/bench/merged.pcap [DATASETS]
//
// merged reads every Ethernet capture of the shared datasets (default
// ../shared/datasets; files that are not captures, not Ethernet, or do
// not read cleanly to the end are skipped and listed), merges them in time
// order like mergecap, shortens every silence longer than an hour to an
// hour (the captures were recorded years apart), starts the result on
// 2026-01-01 and writes it K times one after the other. Copy k is shifted
// in time by k × (span + 1 h), so copies never overlap and every flow of a
// copy has timed out before the next starts, and its
// private addresses (10/8, 172.16/12, 192.168/16, fc00::/7) are shifted
// by k (10.a.b.c → 10.(a+k).b.c, 172.(16+(b−16+k) mod 16).c.d,
// 192.168.(c+k).d, byte 2 of a ULA), with IPv4 header and TCP/UDP
// checksums adjusted, so each copy looks like another site's hosts talking
// to the same public servers (pools stay on the intel lists). This is the
// issue-13 "big.pcap" (10 copies: about 880k packets, 200 MB).
//
//	go run ./internal/benchgen concurrent -n 1000000 -o out/bench/concurrent.pcap
//
// concurrent writes N TCP flows that are all open at once and carry data:
// first every flow's handshake (SYN, SYN-ACK, ACK), then for every flow one
// data packet up (64-byte TLS-looking record) and one down (200 bytes), no
// FIN or RST. Clients are 10.0.0.1 onwards, one address per flow,
// servers 198.19.255.1–250 (RFC 2544's benchmarking range) on port 443;
// packets are
// 1 µs apart, so the capture holds N concurrent established flows and
// opens them at a million per second of capture time.
//
//	go run ./internal/benchgen walk FILE...
//
// walk reads classic pcap files record by record without decoding (the
// bare walk the harness compares with when tcpdump is absent) and prints
// "packets N bytes B wire-bytes W" per file, which bench.sh also uses to
// turn times into packets/s and Gbit/s.
package main
