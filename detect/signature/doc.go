// Package signature is stage 1 for one TCP flow: it reassembles both
// directions (bounded), recognises a plaintext proxy preamble (SOCKS4/4a,
// SOCKS5, HTTP CONNECT) at the start, reads the conversation as
// newline-delimited JSON-RPC, as JSON-RPC in HTTP bodies (getwork,
// getblocktemplate, eth-proxy over HTTP) or as Stratum V2 setup frames,
// and drives the stratum.Machine, which decides.
//
// The engine holds one *Flow per TCP flow:
//
//	budget := reassembly.NewBudget(256 << 20)          // shared by all flows
//	f := signature.New(signature.DefaultConfig(), budget)
//	f.SetTap(func(dir packet.Direction, b []byte) {…})  // optional: TLS/DNS parsers (an engine: Shared.SetTap)
//	f.Packet(&p, dir)                                  // every packet, Up = client → server
//	if f.Decided() { v := f.Verdict(); v.FillMining(&a.Mining); v.FillProxy(&a.Proxy) }
//	f.FinishAt(last)                                   // at flow end (its last packet time), then Decided/Verdict once more
//	f.Close()
//
// An engine shares one Shared (config, budget, parse scratch) among its
// flows and recycles them: f.Reset() at flow end, f.Init(shared) for the
// next flow. A flow allocates its JSON-RPC and HTTP readers, its machine
// and its proxy result only when its first bytes call for them, and a
// line buffer only for the partial line it holds, so a TLS flow costs its
// two compact reassembly streams (56 B each, see package reassembly) and
// its flags: 144 B in all (was 704; the clock is the Shared's). What only
// some flows need (first bytes, readers, machine, proxy result, second
// reading) hangs off one pointer. A flow without a verdict whose both
// directions reached the scan cap frees its partial lines. The Shared
// lends the line and HTTP readers their partial-line buffers and takes a
// reset flow's machine, readings and readers back into bounded free
// lists (pool.go), so ending and starting flows make little garbage.
//
// # Rules
//
//   - Stream kind is chosen from the client's first bytes: a proxy
//     preamble (then the tunnelled bytes are examined the same way), an
//     HTTP request ("POST ", "GET ", …), a Stratum V2 SetupConnection
//     header, a TLS record (0x16, or a whole record header of any type
//     when the capture begins mid-session: nothing to read), else JSON
//     lines. A
//     server answering an HTTP request with bare JSON lines (a Stratum
//     port hit by a getwork client) is read as lines.
//   - Until a verdict, each direction delivers at most Config.Stream.MaxBytes
//     (64 KiB) and holds at most 16 KiB out of order; after the caps the
//     flow costs nothing more. After a verdict the flow is followed in
//     order only (holes skipped at once, the line reader resyncs at the
//     next newline) for up to Config.Follow.MaxBytes more, so shares and
//     hashrate keep updating.
//   - Whitespace padding does not count toward the 64 KiB (up to
//     Config.Stream.MaxPadding, 16 MiB) and the line reader squeezes it,
//     so spaces or blank lines cannot push the login past the cap.
//   - Conflicting retransmissions (same sequence numbers, other bytes) are
//     counted (Verdict.OverlapConflicts, "overlap_conflicts" in alerts)
//     and the "last copy wins" bytes are read as JSON lines by a second
//     machine; the verdict is the first reading's, else the second's
//     (Verdict.AltReading). The second reading takes bytes as final when
//     the other side acknowledges them; a direction without conflicts
//     feeds it the same bytes as the first. Call Finish at flow end so
//     its last bytes are read. A direction not read as JSON lines (TLS,
//     HTTP, SV2, unreadable) stops watching after 4 KiB without conflict.
//   - Bytes of lines too long to be a message are not counted toward the
//     64 KiB either (Stream.Forgive, same allowance as padding).
//   - Verdict.Evidence is EvidenceHandshake only for a flow with a
//     complete handshake in sequence whose server acknowledged the
//     client's mining request and answered it by id; the engine lets
//     only such verdicts teach the learned list on their own.
//   - Packets whose payload the snaplen cut are not inspected (counted).
//   - Without a SYN the caller's client/server guess may be wrong; the
//     machine swaps roles if the "client" speaks server vocabulary first.
//   - Verdict rules and confidence scale: see package stratum. A Verdict's
//     Attempt flag marks a client that sent valid mining requests nobody
//     answered in mining vocabulary: not a verdict (rule 3).
//
// Stats exposes the flow's counters (lines, oversized lines, skipped
// non-JSON bytes, gaps, bytes dropped by caps and by the budget) for metrics.
package signature
