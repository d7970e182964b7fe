package reassembly

import "bytes"

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
	// counted (Stats.Conflicts) and, if the Sink is an AltSink, a second
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
	Segments      int64 // segments with payload
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

// Stream reassembles one TCP direction. The zero value is unusable: call Init.
type Stream struct {
	cfg     Config
	budget  *Budget
	started bool
	done    bool // MaxBytes reached: ignore everything
	next    uint32
	pending []segment // sorted by seq, copies charged to budget
	held    int       // bytes in pending
	counted int64     // bytes counted toward MaxBytes (Delivered minus free padding)
	first   uint32    // sequence number of the first data byte
	resumed uint32    // where delivery resumed after the last skipped hole
	recent  recentChunks
	alt     *altView // the "last copy wins" reading, from the first conflict on
	Stats   Stats
}

// Init (re)initialises s with cfg and the shared budget (nil = no global cap).
func (s *Stream) Init(cfg Config, budget *Budget) {
	s.Release()
	*s = Stream{cfg: cfg, budget: budget, pending: s.pending[:0]}
}

// SetLimits changes the stream's bounds. Lowering MaxBuffered below what
// is held skips the holes at the next Add.
//
// Turning Conflicts off drops the alternative reading (call Flush or
// FlushAlt first to read its last bytes) and returns its window to the
// budget.
func (s *Stream) SetLimits(cfg Config) {
	s.cfg = cfg
	if !cfg.Conflicts && s.alt != nil {
		s.budget.Release(len(s.alt.ring))
		s.alt = nil
	}
	if cfg.MaxBytes == 0 || s.counted < cfg.MaxBytes {
		s.done = false
	}
}

// Done reports whether the stream has reached MaxBytes and ignores input.
func (s *Stream) Done() bool { return s.done }

// Forgive stops counting n bytes already delivered toward MaxBytes, as
// padding (within MaxPadding): the consumer found them to be no message
// at all (e.g. a line too long to be one). A stream already done stays
// done.
func (s *Stream) Forgive(n int64) {
	if s.cfg.MaxPadding <= 0 {
		return
	}
	n = min(n, s.counted, s.cfg.MaxPadding-s.Stats.Padding)
	if n > 0 {
		s.counted -= n
		s.Stats.Padding += n
	}
}

// Next returns the sequence number of the next byte to deliver.
func (s *Stream) Next() uint32 { return s.next }

// Held returns the bytes currently held out of order.
func (s *Stream) Held() int { return s.held }

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
			s.Stats.CapDropped += int64(len(payload))
		}
		if fin {
			s.FlushAlt(sink)
		}
		return
	}
	s.Stats.Segments++
	if !s.started {
		s.started, s.next = true, seq
	}
	if s.Stats.Delivered == 0 && s.Stats.Gaps == 0 {
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
			s.Stats.Retransmitted += int64(len(payload))
			s.overlap(seq, payload, sink)
			return
		}
		s.Stats.Retransmitted += int64(off)
		s.overlap(seq, payload[:off], sink)
		payload = payload[off:]
	}
	if s.cfg.MaxBytes > 0 {
		payload = s.capped(payload)
	} else {
		s.counted += int64(len(payload))
	}
	if len(payload) > 0 && s.cfg.Conflicts {
		s.recent.add(s.next, payload)
		if as, ok := sink.(AltSink); ok && s.alt != nil {
			s.alt.append(payload, as)
		}
	}
	s.next += uint32(len(payload))
	s.Stats.Delivered += int64(len(payload))
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
	room := s.cfg.MaxBytes - s.counted
	if s.cfg.MaxPadding <= 0 || s.Stats.Padding >= s.cfg.MaxPadding {
		if int64(len(payload)) >= room {
			s.Stats.CapDropped += int64(len(payload)) - room
			payload = payload[:room]
			s.done = true
		}
		s.counted += int64(len(payload))
		return payload
	}
	// Fast path (SIMD counts): the whole payload fits, padding free.
	pads := int64(bytes.Count(payload, []byte{' '}) + bytes.Count(payload, []byte{'\n'}) +
		bytes.Count(payload, []byte{'\r'}) + bytes.Count(payload, []byte{'\t'}))
	if n := int64(len(payload)) - pads; n < room && s.Stats.Padding+pads <= s.cfg.MaxPadding {
		s.Stats.Padding += pads
		s.counted += n
		return payload
	}
	for i, c := range payload {
		if isPadding(c) && s.Stats.Padding < s.cfg.MaxPadding {
			s.Stats.Padding++
			continue
		}
		if room == 0 {
			s.Stats.CapDropped += int64(len(payload) - i)
			s.done = true
			return payload[:i]
		}
		room--
		s.counted++
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
	n := 0
	for n < len(s.pending) && !s.done && diff(s.pending[n].seq, s.next) <= 0 {
		seg := s.pending[n]
		s.deliver(seg.seq, seg.data, sink)
		n++
	}
	if n > 0 && !s.done {
		s.dropFront(n)
	}
}

func (s *Stream) dropFront(n int) {
	freed := 0
	for i := 0; i < n; i++ {
		freed += len(s.pending[i].data)
		s.pending[i] = segment{}
	}
	m := copy(s.pending, s.pending[n:])
	for i := m; i < len(s.pending); i++ {
		s.pending[i] = segment{}
	}
	s.pending = s.pending[:m]
	s.held -= freed
	s.budget.Release(freed)
}

// skip jumps over the hole before the first held segment.
func (s *Stream) skip(sink Sink) {
	if len(s.pending) == 0 {
		return
	}
	n := uint32(diff(s.pending[0].seq, s.next))
	s.Stats.Gaps++
	s.Stats.GapBytes += int64(n)
	sink.Gap(n)
	s.next = s.pending[0].seq
	s.resumed = s.next
	s.altJump(sink)
	s.drain(sink)
}

// hold keeps an out-of-order segment, skipping holes when bounds are hit.
func (s *Stream) hold(seq uint32, payload []byte, sink Sink) {
	s.Stats.OutOfOrder++
	if s.cfg.MaxBuffered <= 0 {
		// In-order only: skip the hole now.
		n := uint32(diff(seq, s.next))
		s.Stats.Gaps++
		s.Stats.GapBytes += int64(n)
		sink.Gap(n)
		s.next = seq
		s.resumed = s.next
		s.altJump(sink)
		s.deliver(seq, payload, sink)
		return
	}
	if len(payload) > s.cfg.MaxBuffered {
		payload = payload[:s.cfg.MaxBuffered]
	}
	for len(s.pending) > 0 && !s.done &&
		(s.held+len(payload) > s.cfg.MaxBuffered || len(s.pending) >= s.cfg.MaxSegments) {
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
	if !s.budget.Take(len(payload)) {
		s.Stats.BudgetDropped += int64(len(payload))
		return
	}
	i := len(s.pending)
	for i > 0 && diff(s.pending[i-1].seq, seq) > 0 {
		i--
	}
	data := make([]byte, len(payload))
	copy(data, payload)
	s.pending = append(s.pending, segment{})
	copy(s.pending[i+1:], s.pending[i:])
	s.pending[i] = segment{seq: seq, data: data}
	s.held += len(data)
}

// Flush skips every remaining hole and delivers all held bytes, and the
// alternative reading's held bytes (at flow end).
func (s *Stream) Flush(sink Sink) {
	for len(s.pending) > 0 && !s.done {
		s.skip(sink)
	}
	s.FlushAlt(sink)
}

// Release drops held bytes and returns them to the budget.
func (s *Stream) Release() {
	if s.held > 0 {
		s.budget.Release(s.held)
	}
	for i := range s.pending {
		s.pending[i] = segment{}
	}
	s.pending = s.pending[:0]
	s.held = 0
	if s.alt != nil {
		s.budget.Release(len(s.alt.ring))
		s.alt = nil
	}
}
