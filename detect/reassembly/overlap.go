package reassembly

import "hash/maphash"

// AltSink is a Sink that also wants the second reading of a stream with
// conflicting overlaps. The Stream delivers first copies to Data (as
// always); from the first conflicting retransmission on, it keeps the
// last AltWindow bytes as "last copy wins" and hands them to AltData once
// they can no longer be overwritten (they age out of the window, or at
// Flush/FlushAlt). An attacker who sends a decoy copy of each segment
// first (Ptacek & Newsham's insertion) then hides nothing: the real bytes
// reach AltData.
type AltSink interface {
	Sink
	// AltData is the next in-order bytes of the "last copy wins" reading.
	AltData(b []byte)
	// AltGap says bytes are missing from the alternative reading before
	// the next AltData (0 = unknown how many).
	AltGap(n uint32)
}

// AltWindow is how many bytes of the alternative reading are held open to
// later copies. A power of two; charged to the Budget while held.
const AltWindow = 4 << 10

// hashSeed keys the chunk hashes with a per-process random seed, so an
// attacker cannot craft a decoy that hashes like the real bytes. It is
// set once at start and never written again.
var hashSeed = maphash.MakeSeed()

// chunk remembers one delivered run of bytes (at most chunkBlock long)
// by a 16-bit keyed hash: a decoy that happens to hash like the real
// bytes goes unnoticed in that run only (1 in 65536), and an attacker
// cannot aim for it without the per-process key.
type chunk struct {
	seq uint32
	n   uint16
	h   uint16
}

// The run hashes are the last few delivered runs: enough to compare a
// retransmission of any of them with what was delivered, without keeping
// the bytes (8 bytes per run instead of a copy of the stream). A run
// longer than chunkBlock is remembered as its chunkBlock-aligned blocks,
// so a retransmission cut differently (one big decoy, then the real bytes
// in smaller segments) still covers whole remembered blocks.
//
// The first inlineRuns of the recentRuns slots live in the Stream, the
// others in its extension, allocated at the first run that needs them: a
// stream of one or two segments (a TLS record each way, a login and its
// answer) costs 16 bytes of hashes, not 64. (The fields, runs and
// runNext, sit in the Stream itself, where the flags fill the padding a
// struct of their own would have.)

const (
	recentRuns = 8 // runs remembered per stream
	inlineRuns = 2 // of them, held in the Stream itself
)

// chunkBlock is the block size remembered for long runs; a power of two.
const chunkBlock = 512

func hash16(b []byte) uint16 { return uint16(maphash.Bytes(hashSeed, b)) }

func (s *Stream) addRecent(seq uint32, b []byte) {
	if len(b) <= chunkBlock {
		s.putRecent(seq, b)
		return
	}
	// The aligned blocks inside b; only the last recentRuns are kept.
	first := (seq + chunkBlock - 1) &^ (chunkBlock - 1)
	end := seq + uint32(len(b))
	last := end &^ (chunkBlock - 1)          // end of the last whole block
	n := int(diff(last, first)) / chunkBlock // ≥ 0: b is longer than a block
	if head := diff(first, seq); head > 0 {
		s.putRecent(seq, b[:head])
	}
	for i := max(0, n-recentRuns+2); i < n; i++ {
		bs := first + uint32(i*chunkBlock)
		off := diff(bs, seq)
		s.putRecent(bs, b[off:off+chunkBlock])
	}
	if tail := diff(end, last); tail > 0 {
		s.putRecent(last, b[len(b)-int(tail):])
	}
}

func (s *Stream) putRecent(seq uint32, b []byte) {
	c := chunk{seq: seq, n: uint16(len(b)), h: hash16(b)}
	if i := s.runNext % recentRuns; i < inlineRuns {
		s.runs[i] = c
	} else {
		s.ext().more[i-inlineRuns] = c
	}
	s.runNext++
}

// compareRecent reports whether b, a new copy of the bytes at seq,
// differs from a remembered run it covers entirely (the run then
// remembers the new copy: last copy wins, so a third identical copy is no
// new conflict), and whether it overlaps a remembered run only in part,
// so that it cannot be checked against it.
func (s *Stream) compareRecent(seq uint32, b []byte) (conflict, partial bool) {
	cs := s.runs[:]
	for k := 0; k < 2; k++ {
		if k == 1 {
			if s.x == nil {
				break
			}
			cs = s.x.more[:]
		}
		for i := range cs {
			c := &cs[i]
			if c.n == 0 {
				continue
			}
			off := int64(diff(c.seq, seq))
			switch {
			case off >= 0 && off+int64(c.n) <= int64(len(b)):
				if h := hash16(b[off : off+int64(c.n)]); h != c.h {
					c.h = h
					conflict = true
				}
			case off < int64(len(b)) && off+int64(c.n) > 0:
				partial = true
			}
		}
	}
	return conflict, partial
}

// altView holds the "last copy wins" bytes [lo, hi) in a ring.
type altView struct {
	ring   []byte
	lo, hi uint32
}

func (a *altView) held() int { return int(a.hi - a.lo) }

// emit hands the oldest n held bytes to as.
func (a *altView) emit(n int, as AltSink) {
	mask := len(a.ring) - 1
	for n > 0 {
		i := int(a.lo) & mask
		k := min(n, len(a.ring)-i)
		as.AltData(a.ring[i : i+k])
		a.lo += uint32(k)
		n -= k
	}
}

// append adds in-order bytes at hi, emitting what ages out of the window.
func (a *altView) append(b []byte, as AltSink) {
	if over := a.held() + len(b) - len(a.ring); over > 0 {
		e := min(over, a.held())
		a.emit(e, as)
		if over -= e; over > 0 { // b alone is longer than the window
			as.AltData(b[:over])
			b = b[over:]
			a.lo += uint32(over)
			a.hi += uint32(over)
		}
	}
	mask := len(a.ring) - 1
	for len(b) > 0 {
		k := copy(a.ring[int(a.hi)&mask:], b)
		b = b[k:]
		a.hi += uint32(k)
	}
}

// overwrite replaces the held bytes that b (the bytes at seq) covers. It
// returns how many padding bytes the new copy has where the old had none
// (negative: fewer), and whether it differs from a known held byte (held
// zeros stand for bytes not known, see Stream.overlap).
func (a *altView) overwrite(seq uint32, b []byte) (morePadding int, differs bool) {
	if d := diff(a.lo, seq); d > 0 {
		if int64(d) >= int64(len(b)) {
			return 0, false
		}
		b, seq = b[d:], a.lo
	}
	if end := diff(a.hi, seq); int64(end) < int64(len(b)) {
		if end <= 0 {
			return 0, false
		}
		b = b[:end]
	}
	mask := len(a.ring) - 1
	for _, c := range b {
		i := int(seq) & mask
		if c != a.ring[i] && a.ring[i] != 0 {
			differs = true
		}
		if isPadding(c) != isPadding(a.ring[i]) {
			if isPadding(c) {
				morePadding++
			} else {
				morePadding--
			}
		}
		a.ring[i] = c
		seq++
	}
	return morePadding, differs
}

// overlap looks at old, the part of a segment at seq that covers bytes
// already delivered: a differing copy is a conflict, and every copy
// overwrites the alternative reading once there is one.
func (s *Stream) overlap(seq uint32, old []byte, sink Sink) {
	if !s.lim.Conflicts {
		return
	}
	if d := diff(s.first, seq); d > 0 { // bytes before the stream's start were never delivered
		if int64(d) >= int64(len(old)) {
			return
		}
		old, seq = old[d:], s.first
	}
	if len(old) == 0 {
		return
	}
	conflict, partial := s.compareRecent(seq, old)
	if !conflict && len(old) == 1 && seq == s.next-1 {
		return // a keep-alive probe: one garbage byte before the next
	}
	if s.x != nil && s.x.alt != nil {
		// The cap counts what the later copy holds: a decoy of non-blank
		// bytes over padding must not use up the cap the padding is free of.
		n, differs := s.x.alt.overwrite(seq, old)
		if conflict || differs {
			s.x.conflicts++
		}
		if n := int64(n); n > 0 && s.lim.MaxBytes > 0 && s.lim.MaxPadding > 0 &&
			int64(s.st.padding)+n <= s.lim.MaxPadding && s.counted() >= n {
			s.st.padding += uint32(n)
		}
		return
	}
	if conflict {
		s.ext().conflicts++
	}
	// A copy that covers a delivered run only in part cannot be checked
	// against it: read it the other way too, from here on the window
	// compares byte by byte.
	as, ok := sink.(AltSink)
	if !(conflict || partial) || !ok || !s.lim.budget.Take(AltWindow) {
		return
	}
	// The alternative reading starts with this copy; what was delivered
	// before it is not known in its other version.
	alt := &altView{ring: make([]byte, AltWindow), lo: seq, hi: seq}
	s.ext().alt = alt
	if seq != s.first {
		as.AltGap(0)
	}
	alt.append(old, as)
	end := seq + uint32(len(old))
	switch {
	case end == s.next:
	case diff(s.next, seq) <= AltWindow && diff(end, s.resumed) >= 0:
		// Bytes after this copy were delivered in one run with the ones
		// it replaced: hold their place (zeros, which no JSON line
		// survives) for the later copies that will overwrite them.
		var zeros [256]byte
		for n := int(diff(s.next, end)); n > 0; n -= min(n, len(zeros)) {
			alt.append(zeros[:min(n, len(zeros))], as)
		}
	default:
		alt.emit(alt.held(), as)
		as.AltGap(uint32(diff(s.next, end)))
		alt.lo, alt.hi = s.next, s.next
	}
}

// altJump follows a hole skipped by the first reading.
func (s *Stream) altJump(sink Sink) {
	if s.x == nil || s.x.alt == nil {
		return
	}
	alt := s.x.alt
	if as, ok := sink.(AltSink); ok {
		alt.emit(alt.held(), as)
		as.AltGap(0)
	}
	alt.lo, alt.hi = s.next, s.next
}

// FlushAlt hands every held byte of the alternative reading to sink (an
// AltSink): at FIN, at flow end, and before a stream stops reading. Bytes
// retransmitted after it can no longer change the alternative reading.
func (s *Stream) FlushAlt(sink Sink) {
	if s.x == nil || s.x.alt == nil {
		return
	}
	alt := s.x.alt
	if as, ok := sink.(AltSink); ok {
		alt.emit(alt.held(), as)
	}
	alt.lo = alt.hi
}

// AckAlt hands the alternative reading's bytes before ack (the other
// side's acknowledgement number) to sink: the receiver has taken them, so
// no later copy can change what it read. Without it the second reading
// would lag 4 KiB, or the whole flow, behind the first.
func (s *Stream) AckAlt(ack uint32, sink Sink) {
	if s.x == nil || s.x.alt == nil {
		return
	}
	alt := s.x.alt
	n := int64(diff(ack, alt.lo))
	if n <= 0 {
		return
	}
	if as, ok := sink.(AltSink); ok {
		alt.emit(int(min(n, int64(alt.held()))), as)
	}
}

// Watching reports whether conflicting overlaps are being looked for.
func (s *Stream) Watching() bool { return s.lim.Conflicts }

// Conflicting reports whether the stream has an alternative reading.
func (s *Stream) Conflicting() bool { return s.x != nil && s.x.alt != nil }
