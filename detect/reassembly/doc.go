// Package reassembly puts the bytes of one TCP direction back in order,
// within fixed memory bounds, for the signature stage.
//
// A Stream receives the segments of one direction in capture order
// (Add) and hands in-order bytes to a Sink. It is built for inspection,
// not for delivery guarantees:
//
//   - Retransmissions and overlaps are trimmed: a byte already delivered is
//     never delivered twice to Data (first copy wins, as in most IDS
//     reassemblers). With Config.Conflicts, a retransmission whose bytes
//     differ from a recently delivered run (remembered by a keyed hash, not
//     a copy) is counted in Stats().Conflicts, and from then on a Sink that
//     is an AltSink also gets a second, "last copy wins" reading of the
//     stream through a 4 KiB window (AltWindow, charged to the Budget): a
//     decoy sent first at the same sequence numbers hides nothing.
//   - With Config.MaxPadding, JSON whitespace does not count toward
//     MaxBytes (up to MaxPadding bytes of it), so padding cannot push the
//     first message past the cap.
//   - Out-of-order segments are copied and held until the hole before them
//     fills. A hole that does not fill before the held bytes reach
//     Config.MaxBuffered, or Config.MaxSegments segments are waiting, is
//     skipped: the Sink gets Gap(n) and delivery resumes at the next held
//     segment, so a line-oriented consumer can resync at the next newline.
//   - Config.MaxBytes caps the bytes delivered per stream (the first N KiB
//     are enough to see a login and several jobs/submits); after it the
//     stream ignores everything and holds no memory. Raise or clear the cap
//     at run time with SetLimits (the signature stage does, in-order only,
//     once a flow is confirmed).
//   - Every byte held out of order is also charged to a Budget shared by
//     all flows; when the budget refuses, the segment is dropped and counted
//     and the stream skips ahead instead of buffering.
//   - Without a SYN the first segment seen fixes the start (captures that
//     begin mid-session).
//
// In-order segments are delivered straight from the caller's buffer:
// zero allocations per segment in the common case. A Stream is 56 bytes:
// its limits are a pointer to a Limits shared by every stream, and what
// only some streams need (held segments, the second reading, the hashes
// of more than two runs, the rare counters) is allocated when needed.
//
// Example:
//
//	budget := reassembly.NewBudget(64 << 20)
//	var s reassembly.Stream
//	lim := reassembly.NewLimits(reassembly.DefaultConfig(), budget) // shared by all streams
//	s.Init(lim)
//	s.Add(p.Seq, p.Has(packet.FlagSYN), p.Has(packet.FlagFIN), p.Payload, sink)
//	...
//	s.Release() // at flow end
package reassembly
