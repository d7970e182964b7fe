// Command hostilegen writes the hostile captures of issue 12 — the inputs
// an attacker or an unlucky operator feeds a sensor — for `make
// bench-hostile` and manual checks. Nothing it writes belongs in the
// repository: generate into a temporary directory.
//
//	go run ./internal/hostilegen -kind synflood -n 3000000 -o /tmp/flood.pcap
//	go run ./internal/hostilegen -kind spoofed -n 1000000 -o /tmp/spoofed.pcap -intel /tmp/pool.txt
//	go run ./internal/hostilegen -kind gzbomb -n 4294967296 -o /tmp/bomb.pcap.gz
//
// Kinds:
//   - synflood: n TCP SYNs, each a distinct 5-tuple (distinct client
//     address and port) to 198.51.100.0/24 port 443, 1 µs apart: n
//     half-open flows, more than the default flow cap when n > 1,048,576.
//   - spoofed: n SYNs from n distinct pseudo-random (spoofed) sources to
//     one address, 203.0.113.7:3333; -intel writes a list naming it, so
//     every SYN is an intel hit.
//   - gzbomb: a gzip-compressed pcap whose file header (snaplen) and one
//     record header (caplen) claim 0xFFFFFFF0 bytes (4 GiB), followed by n
//     zero bytes
//     (default 4 GiB, about 4 MB compressed).
//
// Packets are raw IPv4 (LINKTYPE_RAW) without checksums, which the
// decoder does not verify.
package main
