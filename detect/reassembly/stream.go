package reassembly

import "math"

// Sink receives one direction's bytes in order.
type Sink interface {
	// Data is called with the next in-order bytes. b may alias the
	// caller's packet buffer: copy what you keep.
	Data(b []byte)
	// Gap says that n bytes (0 = unknown) are missing before the next Data.
	Gap(n uint32)
}

// Config bounds one Stream.
type Config struct {
	// MaxBytes caps the bytes delivered per stream; 0 = no cap.
	MaxBytes int64
	// MaxPadding, if > 0, lets up to this many bytes of JSON whitespace
	// (space, tab, CR, LF) through without counting them toward MaxBytes,
	// so padding cannot push the first real message past the cap. Beyond
	// it, whitespace counts like any byte (an endless stream of spaces
	// still ends).
	MaxPadding int64
	// Conflicts turns on the detection of conflicting overlaps: a
	// retransmission whose bytes differ from those already delivered is
	// counted (Stats().Conflicts) and, if the Sink is an AltSink, a second
	// "last copy wins" reading is delivered to it (see AltSink).
	Conflicts bool
	// MaxBuffered caps the out-of-order bytes held per stream; 0 = none
	// are held (in-order only: any hole is skipped at once).
	MaxBuffered int
	// MaxSegments caps the out-of-order segments held per stream.
	MaxSegments int
}

// DefaultConfig delivers the first 64 KiB of each direction — an XMRig
// login is ~600 B, a job ~400 B, a submit ~240 B, a cgminer/Equihash
// submit ~2.8 KB — and holds up to 16 KiB / 32 segments out of order.
//
// Up to 16 MiB of whitespace padding does not count toward the 64 KiB
// (the same budget a confirmed flow gets for following), and conflicting
// overlaps are detected.
func DefaultConfig() Config {
	return Config{MaxBytes: 64 << 10, MaxPadding: 16 << 20, MaxBuffered: 16 << 10, MaxSegments: 32, Conflicts: true}
}

// Stats counts what a Stream did.
type Stats struct {
	Delivered     int64 // bytes handed to the Sink
	Retransmitted int64 // bytes trimmed because already delivered
	OutOfOrder    int64 // segments held because a hole preceded them
	Gaps          int64 // holes skipped
	GapBytes      int64 // bytes never seen because of skipped holes
	CapDropped    int64 // bytes ignored after MaxBytes
	BudgetDropped int64 // bytes dropped because the Budget refused them
	Padding       int64 // whitespace bytes delivered without counting toward MaxBytes
	Conflicts     int64 // retransmitted segments whose bytes differed from the delivered ones
}

type segment struct {
	seq  uint32
	data []byte
}

// Limits is a Config and the Budget its streams charge, shared by every
// stream that uses them: a million streams hold one pointer each instead
// of a copy of the Config. Do not change a Limits in use.
type Limits struct {
	Config
	budget *Budget
	rec    *Recycler
}

// NewLimits returns the limits cfg with the shared budget (nil = no
// global cap). MaxBytes and MaxPadding are clamped to 2 GiB each: a
// Stream counts in 32 bits (without a cap, Stats().Delivered stops at
// 4 GiB).
func NewLimits(cfg Config, budget *Budget) *Limits {
	cfg.MaxPadding = min(cfg.MaxPadding, maxCount)
	cfg.MaxBytes = min(cfg.MaxBytes, maxCount)
	return &Limits{Config: cfg, budget: budget}
}

// maxCount bounds MaxBytes and MaxPadding so that their sum, the most a
// capped stream delivers, fits the 32-bit counter.
const maxCount = math.MaxUint32 / 2

// Budget returns the budget the limits charge.
func (l *Limits) Budget() *Budget { return l.budget }

// Stream reassembles one TCP direction. The zero value is unusable: call Init.
//
// A million streams are held at once, so a Stream keeps inline only what
// an in-order stream needs (its position, its counters, the hashes of its
// last two runs) and allocates the rest — held segments, the second
// reading, more run hashes, the rare counters — when it needs them.
type Stream struct {
	lim     *Limits
	next    uint32
	first   uint32            // sequence number of the first data byte
	resumed uint32            // where delivery resumed after the last skipped hole
	runs    [inlineRuns]chunk // the hashes of the last delivered runs (see addRecent)
	runNext uint8             // the next run's slot, mod recentRuns
	started bool
	done    bool // MaxBytes reached: ignore everything
	x       *streamExt
	st      hotStats
}

// counted returns the bytes counted toward MaxBytes: those delivered,
// less the free padding (the padding counter is what Forgive and the
// second reading move out of the count).
func (s *Stream) counted() int64 { return int64(s.st.delivered) - int64(s.st.padding) }

// hotStats are the counters most streams move.
type hotStats struct {
	delivered uint32 // saturates (only a stream without a cap can reach it)
	padding   uint32 // ≤ MaxPadding, which NewLimits clamps to fit
}

// streamExt is what a stream allocates only when it needs it.
type streamExt struct {
	pending []segment // sorted by seq, copies charged to budget
	held    int       // bytes in pending
	alt     *altView  // the "last copy wins" reading, from the first conflict on
	more    [recentRuns - inlineRuns]chunk
	// The counters of what an in-order stream under its cap never does
	// (Stats).
	outOfOrder, gaps, gapBytes, budgetDropped, conflicts, retransmitted, capDropped int64
}

// ext returns the stream's extension, allocating it at its first use.
func (s *Stream) ext() *streamExt {
	if s.x == nil {
		s.x = s.lim.rec.get()
	}
	return s.x
}

// Recycler keeps the extensions that streams gave back, for other streams
// to reuse instead of allocating (a link that has run for a while then
// allocates none). It is not safe for concurrent use: give it only to
// Limits whose streams are fed from one goroutine.
type Recycler struct{ free []*streamExt }

// maxRecycled bounds a Recycler: a past burst of out-of-order traffic
// does not stay resident.
const maxRecycled = 256

// NewRecycler returns an empty Recycler.
func NewRecycler() *Recycler { return &Recycler{} }

func (r *Recycler) get() *streamExt {
	if r == nil || len(r.free) == 0 {
		return &streamExt{}
	}
	x := r.free[len(r.free)-1]
	r.free[len(r.free)-1] = nil
	r.free = r.free[:len(r.free)-1]
	return x
}

// put takes back an extension that holds nothing (its held bytes and
// second reading released), keeping its segment slice's capacity.
func (r *Recycler) put(x *streamExt) {
	if r == nil || len(r.free) >= maxRecycled {
		return
	}
	*x = streamExt{pending: x.pending[:0]}
	r.free = append(r.free, x)
}

// Recycle makes the streams of l give their extensions back to r and take
// them from it (see Recycler); it returns l.
func (l *Limits) Recycle(r *Recycler) *Limits {
	l.rec = r
	return l
}

// Recycler returns the limits' recycler (nil: none).
func (l *Limits) Recycler() *Recycler { return l.rec }

// Stats returns the stream's counters.
func (s *Stream) Stats() Stats {
	st := Stats{Delivered: int64(s.st.delivered), Padding: int64(s.st.padding)}
	if x := s.x; x != nil {
		st.OutOfOrder, st.Gaps, st.GapBytes, st.BudgetDropped, st.Conflicts = x.outOfOrder, x.gaps, x.gapBytes, x.budgetDropped, x.conflicts
		st.Retransmitted, st.CapDropped = x.retransmitted, x.capDropped
	}
	return st
}

// Plain reports whether the stream has no extension: then every counter
// of Stats but Delivered and Padding is 0 and it has no second reading
// (a caller summing many streams' counters reads Padding alone).
func (s *Stream) Plain() bool { return s.x == nil }

// Padding returns the whitespace bytes delivered without counting toward
// MaxBytes (Stats().Padding).
func (s *Stream) Padding() int64 { return int64(s.st.padding) }

// Delivered returns the bytes handed to the Sink so far.
func (s *Stream) Delivered() int64 { return int64(s.st.delivered) }

// Conflicts returns the retransmitted segments whose bytes differed.
func (s *Stream) Conflicts() int64 {
	if s.x == nil {
		return 0
	}
	return s.x.conflicts
}

// Limits returns the stream's limits.
func (s *Stream) Limits() *Limits { return s.lim }

// Init (re)initialises s with the shared limits l.
func (s *Stream) Init(l *Limits) {
	if s.x != nil {
		s.Reset() // Release and the recycler have work only with an extension
	}
	*s = Stream{lim: l}
}

// Reset releases what the stream holds, gives its extension back to its
// limits' Recycler and clears it (call Init before using it again).
func (s *Stream) Reset() {
	s.Release()
	if s.x != nil {
		s.lim.rec.put(s.x)
	}
	*s = Stream{}
}

// SetLimits changes the stream's bounds to l (same budget). Lowering
// MaxBuffered below what is held skips the holes at the next Add.
//
// Turning Conflicts off drops the alternative reading (call Flush or
// FlushAlt first to read its last bytes) and returns its window to the
// budget, and forgets the hashes of delivered runs.
func (s *Stream) SetLimits(l *Limits) {
	s.lim = l
	if !l.Conflicts {
		s.runs, s.runNext = [inlineRuns]chunk{}, 0
		if x := s.x; x != nil {
			if x.alt != nil {
				s.lim.budget.Release(len(x.alt.ring))
				x.alt = nil
			}
			x.more = [len(x.more)]chunk{}
			s.shrink()
		}
	}
	if l.MaxBytes == 0 || s.counted() < l.MaxBytes {
		s.done = false
	}
}

// shrink drops the extension when it holds nothing but zeros.
func (s *Stream) shrink() {
	x := s.x
	if x != nil && len(x.pending) == 0 && x.held == 0 && x.alt == nil && x.more == [len(x.more)]chunk{} &&
		x.outOfOrder == 0 && x.gaps == 0 && x.gapBytes == 0 && x.budgetDropped == 0 && x.conflicts == 0 &&
		x.retransmitted == 0 && x.capDropped == 0 {
		s.x = nil
		s.lim.rec.put(x)
	}
}

// capDropped counts n bytes ignored after the cap.
func (s *Stream) capDropped(n int) {
	if n > 0 {
		s.ext().capDropped += int64(n)
	}
}

// Done reports whether the stream has reached MaxBytes and ignores input.
func (s *Stream) Done() bool { return s.done }

// Forgive stops counting n bytes already delivered toward MaxBytes, as
// padding (within MaxPadding): the consumer found them to be no message
// at all (e.g. a line too long to be one). A stream already done stays
// done.
func (s *Stream) Forgive(n int64) {
	if s.lim.MaxPadding <= 0 {
		return
	}
	n = min(n, s.counted(), s.lim.MaxPadding-int64(s.st.padding))
	if n > 0 {
		s.st.padding += uint32(n)
	}
}

// Next returns the sequence number of the next byte to deliver.
func (s *Stream) Next() uint32 { return s.next }

// Held returns the bytes currently held out of order.
func (s *Stream) Held() int {
	if s.x == nil {
		return 0
	}
	return s.x.held
}

// diff returns a-b in sequence space (RFC 1982 style).
func diff(a, b uint32) int32 { return int32(a - b) }

// Add feeds one segment: its sequence number, its SYN and FIN flags and
// its payload (which may alias a capture buffer; it is copied only when
// held out of order).
func (s *Stream) Add(seq uint32, syn, fin bool, payload []byte, sink Sink) {
	if syn {
		if !s.started {
			s.started, s.next = true, seq+1
		}
		seq++ // a SYN's payload (TFO) starts after the SYN's own number
	}
	if len(payload) == 0 || s.done {
		if s.done {
			s.capDropped(len(payload))
		}
		if fin {
			s.FlushAlt(sink)
		}
		return
	}
	if !s.started {
		s.started, s.next = true, seq
	}
	if s.st.delivered == 0 && (s.x == nil || s.x.gaps == 0) {
		s.first, s.resumed = s.next, s.next
	}
	off := diff(seq, s.next)
	if off > 0 {
		s.hold(seq, payload, sink)
		return
	}
	s.deliver(seq, payload, sink)
	s.drain(sink)
	if fin {
		s.FlushAlt(sink)
	}
}

// deliver hands the part of payload at or after s.next to the sink.
func (s *Stream) deliver(seq uint32, payload []byte, sink Sink) {
	off := diff(s.next, seq)
	if off > 0 {
		if int64(off) >= int64(len(payload)) {
			s.ext().retransmitted += int64(len(payload))
			s.overlap(seq, payload, sink)
			return
		}
		s.ext().retransmitted += int64(off)
		s.overlap(seq, payload[:off], sink)
		payload = payload[off:]
	}
	if s.lim.MaxBytes > 0 {
		payload = s.capped(payload)
	}
	if len(payload) > 0 && s.lim.Conflicts {
		s.addRecent(s.next, payload)
		// The cheap tests first: the type assertion cost every data
		// packet of a stream without a second reading.
		if s.x != nil && s.x.alt != nil {
			if as, ok := sink.(AltSink); ok {
				s.x.alt.append(payload, as)
			}
		}
	}
	s.next += uint32(len(payload))
	s.st.delivered = uint32(min(uint64(s.st.delivered)+uint64(len(payload)), math.MaxUint32))
	if len(payload) > 0 {
		sink.Data(payload)
	}
	if s.done {
		s.FlushAlt(sink)
		s.Release()
	}
}

// capped cuts payload at MaxBytes, not counting free whitespace padding,
// and marks the stream done when the cap is reached.
func (s *Stream) capped(payload []byte) []byte {
	room := s.lim.MaxBytes - s.counted()
	if s.lim.MaxPadding <= 0 || int64(s.st.padding) >= s.lim.MaxPadding {
		if int64(len(payload)) >= room {
			s.capDropped(len(payload) - int(room))
			payload = payload[:room]
			s.done = true
		}
		return payload
	}
	// Fast path (one SIMD count): the whole payload fits, padding free.
	pads := int64(countPadding(payload))
	if n := int64(len(payload)) - pads; n < room && int64(s.st.padding)+pads <= s.lim.MaxPadding {
		s.st.padding += uint32(pads)
		return payload
	}
	for i, c := range payload {
		if isPadding(c) && int64(s.st.padding) < s.lim.MaxPadding {
			s.st.padding++
			continue
		}
		if room == 0 {
			s.capDropped(len(payload) - i)
			s.done = true
			return payload[:i]
		}
		room--
	}
	if room == 0 {
		s.done = true
	}
	return payload
}

// isPadding reports whether c is JSON whitespace.
func isPadding(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// drain delivers held segments that the stream has caught up with.
func (s *Stream) drain(sink Sink) {
	x := s.x
	if x == nil {
		return
	}
	n := 0
	for n < len(x.pending) && !s.done && diff(x.pending[n].seq, s.next) <= 0 {
		seg := x.pending[n]
		s.deliver(seg.seq, seg.data, sink)
		n++
	}
	if n > 0 && !s.done {
		s.dropFront(n)
	}
}

func (s *Stream) dropFront(n int) {
	x := s.x
	freed := 0
	for i := 0; i < n; i++ {
		freed += len(x.pending[i].data)
		x.pending[i] = segment{}
	}
	m := copy(x.pending, x.pending[n:])
	for i := m; i < len(x.pending); i++ {
		x.pending[i] = segment{}
	}
	x.pending = x.pending[:m]
	x.held -= freed
	s.lim.budget.Release(freed)
}

// skip jumps over the hole before the first held segment.
func (s *Stream) skip(sink Sink) {
	x := s.x
	if x == nil || len(x.pending) == 0 {
		return
	}
	n := uint32(diff(x.pending[0].seq, s.next))
	x.gaps++
	x.gapBytes += int64(n)
	sink.Gap(n)
	s.next = x.pending[0].seq
	s.resumed = s.next
	s.altJump(sink)
	s.drain(sink)
}

// hold keeps an out-of-order segment, skipping holes when bounds are hit.
func (s *Stream) hold(seq uint32, payload []byte, sink Sink) {
	x := s.ext()
	x.outOfOrder++
	if s.lim.MaxBuffered <= 0 {
		// In-order only: skip the hole now.
		n := uint32(diff(seq, s.next))
		x.gaps++
		x.gapBytes += int64(n)
		sink.Gap(n)
		s.next = seq
		s.resumed = s.next
		s.altJump(sink)
		s.deliver(seq, payload, sink)
		return
	}
	if len(payload) > s.lim.MaxBuffered {
		payload = payload[:s.lim.MaxBuffered]
	}
	for s.x != nil && len(s.x.pending) > 0 && !s.done &&
		(s.x.held+len(payload) > s.lim.MaxBuffered || len(s.x.pending) >= s.lim.MaxSegments) {
		s.skip(sink)
	}
	if s.done {
		return
	}
	if diff(seq, s.next) <= 0 { // skipping caught up with this segment
		s.deliver(seq, payload, sink)
		s.drain(sink)
		return
	}
	x = s.ext() // a delivery that reached the cap released the extension's contents
	if !s.lim.budget.Take(len(payload)) {
		x.budgetDropped += int64(len(payload))
		return
	}
	i := len(x.pending)
	for i > 0 && diff(x.pending[i-1].seq, seq) > 0 {
		i--
	}
	data := make([]byte, len(payload))
	copy(data, payload)
	x.pending = append(x.pending, segment{})
	copy(x.pending[i+1:], x.pending[i:])
	x.pending[i] = segment{seq: seq, data: data}
	x.held += len(data)
}

// Flush skips every remaining hole and delivers all held bytes, and the
// alternative reading's held bytes (at flow end).
func (s *Stream) Flush(sink Sink) {
	for s.x != nil && len(s.x.pending) > 0 && !s.done {
		s.skip(sink)
	}
	s.FlushAlt(sink)
}

// Release drops held bytes and the second reading and returns them to the
// budget; the counters stay.
func (s *Stream) Release() {
	x := s.x
	if x == nil {
		return
	}
	if x.held > 0 {
		s.lim.budget.Release(x.held)
	}
	for i := range x.pending {
		x.pending[i] = segment{}
	}
	x.pending, x.held = x.pending[:0], 0
	if x.alt != nil {
		s.lim.budget.Release(len(x.alt.ring))
		x.alt = nil
	}
	s.shrink()
}
