package signature

import (
	"math"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/jsonrpc"
	"github.com/minerwatch/minerwatch/detect/proxy"
	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/stratum"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Config bounds the work and memory of one flow.
type Config struct {
	// Stream bounds each direction's reassembly until a verdict.
	Stream reassembly.Config
	// Follow bounds each direction after a verdict: in-order only (holes
	// are skipped at once) and at most Follow.MaxBytes more bytes (0 = until
	// flow end), so shares and hashrate keep updating cheaply.
	Follow reassembly.Config
	// MaxLine is the longest JSON-RPC line kept; longer ones are skipped.
	MaxLine int
}

// DefaultConfig: the first 64 KiB per direction, 16 KiB held out of
// order, 16 KiB lines; after a verdict, 16 MiB more per direction.
func DefaultConfig() Config {
	return Config{
		Stream:  reassembly.DefaultConfig(),
		Follow:  reassembly.Config{MaxBytes: 16 << 20},
		MaxLine: jsonrpc.DefaultMaxLine,
	}
}

type mode uint8

const (
	modeStart mode = iota // buffering the first bytes: proxy preamble? HTTP? SV2?
	modeLines             // newline-delimited JSON-RPC
	modeHTTP              // JSON-RPC in HTTP bodies
	modeSV2               // Stratum V2 plaintext frames
	modeOff               // nothing we can read
)

// maxSV2Buffered bounds the bytes kept to frame Stratum V2 setup messages.
const maxSV2Buffered = 4 << 10

// Stats counts one flow's stage-1 work, for metrics.
type Stats struct {
	Lines            int64 // JSON-RPC lines read
	Messages         int64 // lines that were JSON objects
	MiningMessages   int64 // messages recognised as mining vocabulary
	OversizedLines   int64 // lines over MaxLine, skipped
	SkippedBytes     int64 // bytes of oversized lines and non-JSON lines
	Gaps             int64 // reassembly holes skipped
	GapBytes         int64
	CapDropped       int64 // bytes beyond the per-stream caps
	BudgetDropped    int64 // bytes dropped because the global budget was full
	Retransmitted    int64
	TruncatedPackets int64 // packets whose payload was cut by the snaplen (not inspected)
	HTTPMessages     int64
	Padding          int64 // whitespace bytes let through without counting toward the cap
	OverlapConflicts int64 // retransmissions whose bytes differed from the first copy
	AltReadings      int64 // flows read a second time, last copy wins (conflicts or unverifiable overlaps)
}

// Add adds o's counters to s.
func (s *Stats) Add(o Stats) {
	s.Lines += o.Lines
	s.Messages += o.Messages
	s.MiningMessages += o.MiningMessages
	s.OversizedLines += o.OversizedLines
	s.SkippedBytes += o.SkippedBytes
	s.Gaps += o.Gaps
	s.GapBytes += o.GapBytes
	s.CapDropped += o.CapDropped
	s.BudgetDropped += o.BudgetDropped
	s.Retransmitted += o.Retransmitted
	s.TruncatedPackets += o.TruncatedPackets
	s.HTTPMessages += o.HTTPMessages
	s.Padding += o.Padding
	s.OverlapConflicts += o.OverlapConflicts
	s.AltReadings += o.AltReadings
}

// upSink and downSink adapt one direction of a Flow to the reassembly,
// line and HTTP callbacks: converting a *Flow to either and then to an
// interface allocates nothing, and unlike a per-direction adapter value
// they cost the Flow no bytes.
type (
	upSink   Flow
	downSink Flow
)

// flowSink is what both directions' adapters implement.
type flowSink interface {
	reassembly.AltSink
	jsonrpc.Handler
	jsonrpc.HTTPHandler
	jsonrpc.Buffers
}

func (s *upSink) Data(b []byte)                            { (*Flow)(s).data(packet.Up, b) }
func (s *upSink) Gap(n uint32)                             { (*Flow)(s).gap(packet.Up) }
func (s *upSink) Line(line []byte)                         { (*Flow)(s).line(packet.Up, line) }
func (s *upSink) Body(info *jsonrpc.HTTPInfo, body []byte) { (*Flow)(s).body(packet.Up, info, body) }
func (s *upSink) AltData(b []byte)                         { (*Flow)(s).altData(packet.Up, b) }
func (s *upSink) AltGap(n uint32)                          { (*Flow)(s).altGap(packet.Up) }

func (s *downSink) Data(b []byte)    { (*Flow)(s).data(packet.Down, b) }
func (s *downSink) Gap(n uint32)     { (*Flow)(s).gap(packet.Down) }
func (s *downSink) Line(line []byte) { (*Flow)(s).line(packet.Down, line) }
func (s *downSink) Body(info *jsonrpc.HTTPInfo, body []byte) {
	(*Flow)(s).body(packet.Down, info, body)
}
func (s *downSink) AltData(b []byte) { (*Flow)(s).altData(packet.Down, b) }
func (s *downSink) AltGap(n uint32)  { (*Flow)(s).altGap(packet.Down) }

// Both directions' readers borrow their partial-line and partial-message
// buffers from the Shared's pools (jsonrpc.Buffers).
func (s *upSink) GetBuffer(n int) []byte   { return (*Flow)(s).sh.free.getBuffer(n) }
func (s *upSink) PutBuffer(b []byte)       { (*Flow)(s).sh.free.putBuffer(b) }
func (s *downSink) GetBuffer(n int) []byte { return (*Flow)(s).sh.free.getBuffer(n) }
func (s *downSink) PutBuffer(b []byte)     { (*Flow)(s).sh.free.putBuffer(b) }

// sink returns direction dir's adapter.
func (f *Flow) sink(dir packet.Direction) flowSink {
	if dir == packet.Up {
		return (*upSink)(f)
	}
	return (*downSink)(f)
}

// streamSink and lineSink are sink as the reassembly and the line reader
// take it: a pointer made their interface directly has a static method
// table, where converting flowSink to it looks one up at run time (30
// instructions at each of a packet's two stream calls).
func (f *Flow) streamSink(dir packet.Direction) reassembly.Sink {
	if dir == packet.Up {
		return (*upSink)(f)
	}
	return (*downSink)(f)
}

func (f *Flow) lineSink(dir packet.Direction) jsonrpc.Handler {
	if dir == packet.Up {
		return (*upSink)(f)
	}
	return (*downSink)(f)
}

// altReading is the second reading of a flow whose streams had
// conflicting overlaps: the "last copy wins" bytes, read as JSON lines by
// a second machine. Allocated at the first conflict; one per flow.
type altReading struct {
	lines   [2]jsonrpc.Reader
	sinks   [2]altLineSink
	msg     jsonrpc.Message
	machine stratum.Machine
	// mirrored: the direction was fed the first reading's bytes; own: its
	// stream now feeds its own second reading.
	mirrored, own [2]bool
}

// altLineSink hands the alternative reading's lines to its machine.
type altLineSink struct {
	f   *Flow
	dir packet.Direction
}

func (s *altLineSink) Line(line []byte) {
	a := s.f.altRd()
	if a.msg.Parse(line) != nil {
		return
	}
	a.machine.Feed(s.dir, &a.msg, s.f.now())
}

// Flow is stage 1 for one TCP flow: reassembly of both directions, proxy
// preamble, JSON-RPC reading and the Stratum machine.
//
// A million flows are held at once, so a Flow carries only what every
// TCP flow needs (the two streams and the first bytes until the stream's
// kind is known); the JSON-RPC readers, the HTTP readers, the machine and
// the proxy result are allocated when the flow turns out to need them. A
// TLS flow never gets them.
type Flow struct {
	sh      *Shared
	streams [2]reassembly.Stream
	mode    mode  // how both directions are read (modeStart until decided)
	evState uint8 // the handshake evidence's progress (see evidence)
	// bits holds the flow's flags and the Noise check's state (flag*,
	// noise*): 2 bytes instead of 8 bools and counters.
	bits      uint16
	truncated uint32    // Stats.TruncatedPackets (saturates); fills the flags' word
	x         *flowMore // nil until the flow needs any of it (a TLS flow never does)
	ev        evidence
}

// The flags in Flow.bits.
const (
	// flagDownLines: the client speaks HTTP but the server answered with
	// bare JSON lines (a Stratum server hit with a getwork/GBT POST).
	flagDownLines uint16 = 1 << iota
	flagSawFirst
	flagMaybeSwapped // no SYN at the start: the roles are a guess (Machine.MayBeSwapped)
	flagProxyDone
	flagFollowing
	flagUpNoise // the client's first payload had the size of a Noise handshake's first message
	// noiseShift: from this bit, 2 bits per direction count its payload
	// packets up to 2 (the Noise check: only "first" and "not first" matter).
	noiseShift = iota
)

func (f *Flow) is(flag uint16) bool { return f.bits&flag != 0 }

func (f *Flow) set(flag uint16, on bool) {
	if on {
		f.bits |= flag
	} else {
		f.bits &^= flag
	}
}

// payloads returns direction dir's payload packets so far, up to 2.
func (f *Flow) payloads(dir packet.Direction) uint16 { return f.bits >> (noiseShift + 2*uint(dir)) & 3 }

// flowMore is what only some flows need, behind one pointer (one word in
// every Flow instead of six).
type flowMore struct {
	pre     *[2][]byte             // first bytes while mode == modeStart, SV2 frames in modeSV2 (nil: none)
	rd      *lineReading           // nil until the flow is read as JSON lines or HTTP
	http    *[2]jsonrpc.HTTPReader // nil unless the flow is read as HTTP
	machine *stratum.Machine       // nil until the first message, frame or Noise handshake
	proxy   *proxy.Result          // nil unless a proxy preamble was found or refused
	alt     *altReading            // nil unless a stream had conflicting overlaps
}

// more returns the flow's flowMore, allocating it at its first use.
func (f *Flow) more() *flowMore {
	if f.x == nil {
		f.x = f.sh.free.more.Get()
	}
	return f.x
}

// The getters read flowMore's fields without allocating it (nil: none).
func (f *Flow) preBufs() *[2][]byte {
	if f.x == nil {
		return nil
	}
	return f.x.pre
}

func (f *Flow) lineRd() *lineReading {
	if f.x == nil {
		return nil
	}
	return f.x.rd
}

func (f *Flow) httpRd() *[2]jsonrpc.HTTPReader {
	if f.x == nil {
		return nil
	}
	return f.x.http
}

func (f *Flow) mach() *stratum.Machine {
	if f.x == nil {
		return nil
	}
	return f.x.machine
}

func (f *Flow) proxyRes() *proxy.Result {
	if f.x == nil {
		return nil
	}
	return f.x.proxy
}

func (f *Flow) altRd() *altReading {
	if f.x == nil {
		return nil
	}
	return f.x.alt
}

// lineReading is the JSON-RPC reading of both directions and its
// counters, allocated when decide picks JSON lines or HTTP.
type lineReading struct {
	lines        [2]jsonrpc.Reader
	forgiven     [2]int64 // oversized-line bytes handed back to each stream's cap
	lineCount    int64    // Stats.Lines
	messages     int64    // Stats.Messages
	skipped      int64    // Stats.SkippedBytes (non-JSON lines and bodies)
	httpMessages int64    // Stats.HTTPMessages
}

// Shared is what the flows of one engine share: the configuration, the
// reassembly budget and the message a line is parsed into (it lives only
// while the line is read, so one serves every flow). Flows that share
// one must be fed from one goroutine.
type Shared struct {
	cfg    Config
	budget *reassembly.Budget
	msg    jsonrpc.Message
	// stream and lean are the streams' limits before a verdict, watching
	// for conflicts or (lean) not; follow after one when it has no cap.
	stream, lean, follow *reassembly.Limits
	tap                  func(dir packet.Direction, data []byte)
	// now is the time of the packet being read (see Flow.now).
	now time.Time
	// free recycles the flows' optional state (see Flow.Reset).
	free pools
}

// NewShared returns the state shared by flows with cfg and budget (may
// be nil: no global cap).
func NewShared(cfg Config, budget *reassembly.Budget) *Shared {
	sh := &Shared{cfg: cfg, budget: budget, free: newPools()}
	lean := cfg.Stream
	lean.Conflicts, lean.MaxPadding = false, 0
	// The flows of one Shared are fed from one goroutine: their streams
	// can recycle their extensions among themselves.
	rec := reassembly.NewRecycler()
	sh.stream = reassembly.NewLimits(cfg.Stream, budget).Recycle(rec)
	sh.lean = reassembly.NewLimits(lean, budget).Recycle(rec)
	sh.follow = reassembly.NewLimits(cfg.Follow, budget).Recycle(rec)
	return sh
}

// New returns stage-1 state for one flow with its own Shared; budget
// (may be nil) is shared by all flows.
func New(cfg Config, budget *reassembly.Budget) *Flow {
	f := &Flow{}
	f.Init(NewShared(cfg, budget))
	return f
}

// Init readies a new or Reset flow that shares sh with others.
func (f *Flow) Init(sh *Shared) {
	f.sh = sh
	for d := range f.streams {
		f.streams[d].Init(sh.stream)
	}
}

// Reset closes the flow and clears it for reuse by Init (an engine
// recycles Flows through a free list instead of allocating one per flow).
func (f *Flow) Reset() {
	// What Close does and more: a stream's Reset releases its memory
	// too, and the cleared Flow drops its flowMore.
	for d := range f.streams {
		f.streams[d].Reset() // its extension goes back to the Shared's recycler
	}
	if f.x != nil {
		f.sh.free.recycle(f.x) // so does the optional state
	}
	*f = Flow{}
}

// now is the machine's clock: the time of the packet being read, or the
// flow's end at FinishAt. The flows of a Shared are read one packet at a
// time, so it lives there, not in every Flow.
func (f *Flow) now() time.Time { return f.sh.now }

// m returns the flow's machine, allocating it at its first use.
func (f *Flow) m() *stratum.Machine {
	if f.mach() == nil {
		m := f.sh.free.machines.Get() // cleared when put back
		m.MayBeSwapped, m.PairByOrder = f.is(flagMaybeSwapped), f.mode == modeHTTP
		f.more().machine = m
	}
	return f.mach()
}

// attempt and decidedMining read the machine without allocating it.
func (f *Flow) attempt() bool       { return f.mach() != nil && f.mach().Attempt() }
func (f *Flow) decidedMining() bool { return f.mach() != nil && f.mach().Mining() }

// readLines allocates the JSON-RPC reading (decide: lines or HTTP).
func (f *Flow) readLines() {
	if f.lineRd() == nil {
		f.more().rd = f.sh.free.reads.Get() // cleared when put back
		for d := range f.lineRd().lines {
			f.lineRd().lines[d].MaxLine = f.sh.cfg.MaxLine
		}
	}
}

// SetTap installs a hook called with every in-order reassembled chunk of
// each direction of every flow that shares sh (for parsers of other
// stages: TLS ClientHello, DNS over TCP; the engine's one hook knows which
// flow it is feeding). data is valid only during the call.
func (sh *Shared) SetTap(tap func(dir packet.Direction, data []byte)) { sh.tap = tap }

// SetTap gives f a Shared of its own with tap as its hook (a flow made by
// New; flows of an engine share one hook, see Shared.SetTap).
func (f *Flow) SetTap(tap func(dir packet.Direction, data []byte)) {
	sh := *f.sh
	sh.tap = tap
	sh.free = newPools() // the copy's lists must not share the original's arrays
	f.sh = &sh
}

// Packet feeds one packet of the flow; dir is its direction (Up = client → server).
func (f *Flow) Packet(p *packet.Packet, dir packet.Direction) {
	if p.Proto != packet.ProtoTCP || !p.HasTCP || dir > packet.Down {
		return
	}
	f.sh.now = p.Time
	if !f.is(flagSawFirst) {
		f.set(flagSawFirst, true)
		// Without a SYN the caller's client/server guess may be wrong.
		f.set(flagMaybeSwapped, !p.Has(packet.FlagSYN))
	}
	payload := p.Payload
	if p.Truncated() {
		if f.truncated < math.MaxUint32 {
			f.truncated++
		}
		payload = nil
	}
	if len(payload) > 0 {
		f.noiseCheck(dir, len(payload))
	}
	f.ev.packet(p, dir, f)
	if p.Has(packet.FlagACK) {
		// What the other side acknowledged is final for the second reading
		// (and comes before this packet's answer to it).
		f.streams[1-dir].AckAlt(p.Ack, f.streamSink(1-dir))
	}
	f.streams[dir].Add(p.Seq, p.Has(packet.FlagSYN), p.Has(packet.FlagFIN), payload, f.streamSink(dir))
	if !f.is(flagFollowing) && f.mining() {
		f.follow()
	}
	if !f.is(flagFollowing) && f.mode != modeLines && f.mode != modeStart {
		f.lean(dir)
	}
	if !f.is(flagFollowing) && f.streams[dir].Done() && f.streams[1-dir].Done() {
		f.dropPartial()
	}
	f.ev.answered(p, dir, f)
}

// lean stops looking for padding and conflicting overlaps in a direction
// of a flow not read as JSON lines (TLS, HTTP, Stratum V2, unreadable)
// once it has delivered AltWindow bytes without a conflict: its kind was
// decided on its first bytes, and hashing and counting every byte of a
// TLS download up to the cap would cost more than the rest of the stage.
// A decoy would have to run more than AltWindow ahead of its real copy,
// which the second reading's window does not cover anyway.
func (f *Flow) lean(dir packet.Direction) {
	s := &f.streams[dir]
	if !s.Watching() || s.Conflicting() || s.Delivered() <= reassembly.AltWindow {
		return
	}
	s.SetLimits(f.sh.lean)
}

// dropPartial frees the partial lines and frames of a flow without a
// verdict whose both directions reached their caps: no byte will reach
// the readers again (only a verdict lifts the caps, and a verdict needs
// bytes), and a partial line is never read at flow end, so holding up to
// MaxLine per direction for the flow's remaining life buys nothing.
func (f *Flow) dropPartial() {
	for d := range f.streams {
		if f.lineRd() != nil {
			f.lineRd().lines[d].Reset()
		}
		if f.altRd() != nil {
			f.altRd().lines[d].Reset()
		}
		if f.mode == modeSV2 && f.preBufs() != nil {
			f.preBufs()[d] = nil
		}
	}
}

// mining reports whether either reading has reached a verdict.
func (f *Flow) mining() bool {
	return f.decidedMining() || f.altRd() != nil && f.altRd().machine.Mining()
}

// FinishAt ends the flow's readings at time end, the time of its last
// packet (call at flow end, before Decided and Verdict): the alternative
// reading's last bytes are read.
func (f *Flow) FinishAt(end time.Time) {
	f.sh.now = end
	f.Finish()
}

// Finish is FinishAt the time of the last packet fed to a flow of its
// Shared: for a flow that has one of its own (New), its last packet.
func (f *Flow) Finish() {
	if f.is(flagFollowing) {
		return
	}
	for d := range f.streams {
		f.streams[d].FlushAlt(f.streamSink(packet.Direction(d)))
	}
	if f.mining() {
		f.follow()
	}
}

// forgiveOversized hands the bytes of lines too long to be a message back
// to the stream's cap (within its padding allowance): a garbage line of
// any length before the login must not use up the window the login is
// looked for in. Benign binary streams seldom go 16 KiB without a
// newline, so this costs them nothing.
func (f *Flow) forgiveOversized(dir packet.Direction) {
	if n := f.lineRd().lines[dir].Stats.OversizeBytes - f.lineRd().forgiven[dir]; n > 0 {
		f.lineRd().forgiven[dir] += n
		f.streams[dir].Forgive(n)
	}
}

func (f *Flow) altData(dir packet.Direction, b []byte) {
	if f.altRd() == nil {
		f.more().alt = &altReading{}
		f.altRd().machine.MayBeSwapped = f.is(flagMaybeSwapped)
		for d := range f.altRd().lines {
			f.altRd().lines[d].MaxLine = f.sh.cfg.MaxLine
			f.altRd().sinks[d] = altLineSink{f: f, dir: packet.Direction(d)}
		}
	}
	if !f.altRd().own[dir] {
		f.altRd().own[dir] = true
		if f.altRd().mirrored[dir] {
			// The mirrored partial line was the first copy of the bytes
			// that start here.
			f.altRd().lines[dir].Discard()
		}
	}
	f.altRd().lines[dir].Write(b, &f.altRd().sinks[dir])
}

func (f *Flow) altGap(dir packet.Direction) {
	if f.altRd() != nil {
		f.altRd().lines[dir].Gap()
	}
}

// noiseCheck looks for the Stratum V2 Noise handshake: the client's first
// payload is exactly 64 bytes and the server's first payload, arriving
// before any other client payload, exactly 234 bytes.
func (f *Flow) noiseCheck(dir packet.Direction, n int) {
	if f.payloads(dir) < 2 { // only "first" and "not first" matter
		f.bits += 1 << (noiseShift + 2*uint(dir))
	}
	if dir == packet.Up && f.payloads(dir) == 1 {
		f.set(flagUpNoise, n == stratum.SV2NoiseClientHello)
	}
	if dir == packet.Down && f.payloads(packet.Down) == 1 && f.payloads(packet.Up) == 1 &&
		f.is(flagUpNoise) && n == stratum.SV2NoiseServerReply {
		f.m().NoiseHandshake(f.now())
	}
}

// follow switches to cheap in-order following after a verdict.
func (f *Flow) follow() {
	f.set(flagFollowing, true)
	for d := range f.streams {
		s := &f.streams[d]
		lim := f.sh.follow
		if lim.MaxBytes > 0 { // the cap counts from here: limits of its own
			c := lim.Config
			c.MaxBytes += s.Delivered()
			lim = reassembly.NewLimits(c, f.sh.budget).Recycle(lim.Recycler())
		}
		s.Flush(f.streamSink(packet.Direction(d)))
		s.SetLimits(lim)
	}
}

func (f *Flow) data(dir packet.Direction, b []byte) {
	if f.sh.tap != nil {
		f.sh.tap(dir, b)
	}
	if f.altRd() != nil && !f.streams[dir].Conflicting() {
		// A direction without conflicts reads the same both ways: the
		// second reading needs its bytes too (a server's answers to the
		// client's decoyed requests).
		f.altRd().mirrored[dir] = true
		f.altRd().lines[dir].Write(b, &f.altRd().sinks[dir])
	}
	f.read(dir, b)
}

// read reads in-order bytes the current way; decide replays the first
// bytes through it (not through data: the tap and the second reading
// have had them already).
func (f *Flow) read(dir packet.Direction, b []byte) {
	switch f.mode {
	case modeStart:
		f.start(dir, b)
	case modeLines:
		f.lineRd().lines[dir].Write(b, f.lineSink(dir))
		f.forgiveOversized(dir)
	case modeHTTP:
		h := &f.httpRd()[dir]
		if dir == packet.Down && !f.is(flagDownLines) && h.Stats.Messages == 0 && len(b) > 0 &&
			!h.Broken() && h.Pending() == 0 && b[0] != 'H' { // not "HTTP/1.x"
			f.set(flagDownLines, true)
		}
		if dir == packet.Down && f.is(flagDownLines) {
			f.lineRd().lines[dir].Write(b, f.lineSink(dir))
			return
		}
		h.Write(b, f.sink(dir))
	case modeSV2:
		f.sv2(dir, b)
	}
}

// start buffers the first bytes of both directions until it knows what
// the stream is: a proxy preamble, HTTP, Stratum V2, or JSON lines.
func (f *Flow) start(dir packet.Direction, b []byte) {
	if dir == packet.Up && f.preBufs() == nil && !f.is(flagProxyDone) &&
		len(b) <= proxy.MaxPreamble && !tooShortToTell(b) && proxy.Parse(b, nil).Status == proxy.NotProxy {
		// The client's first chunk decides alone (the common case: a
		// ClientHello, a login, a request line): read it where it is
		// instead of copying it into a first-bytes buffer first.
		f.decideOn(b, nil)
		return
	}
	if f.preBufs() == nil {
		f.more().pre = &[2][]byte{}
	}
	room := proxy.MaxPreamble - len(f.preBufs()[dir])
	full := len(b) > room
	if full {
		b = b[:room]
	}
	if f.preBufs()[dir] == nil {
		f.preBufs()[dir] = make([]byte, 0, 256)
	}
	f.preBufs()[dir] = append(f.preBufs()[dir], b...)
	up, down := f.preBufs()[packet.Up], f.preBufs()[packet.Down]
	if len(up) == 0 {
		if full {
			f.decide(nil) // a server that talks first (or a mid-session capture)
		}
		return
	}
	if f.is(flagProxyDone) {
		f.decide(nil)
		return
	}
	r := proxy.Parse(up, down)
	switch {
	case r.Status == proxy.Found:
		f.more().proxy = &r
		f.set(flagProxyDone, true)
		f.preBufs()[packet.Up] = up[r.UpStart:]
		f.preBufs()[packet.Down] = down[r.DownStart:]
		if len(f.preBufs()[packet.Up]) > 0 {
			f.decide(nil)
		}
	case r.Status == proxy.Refused:
		f.more().proxy = &r
		f.set(flagProxyDone, true)
		f.off()
	case full:
		f.decide(nil)
	case r.Status == proxy.NotProxy && !tooShortToTell(up):
		f.decide(nil)
	}
}

// tooShortToTell reports whether the first client bytes could still turn
// out to be an HTTP request or a Stratum V2 frame header.
func tooShortToTell(up []byte) bool {
	if len(up) >= 11 { // "HTTP/1." / "POST " and an SV2 header + 5 setup bytes
		return false
	}
	if up[0] == 0 || len(up) < tlsHeader && up[0] >= 0x14 && up[0] <= 0x17 && up[0] != 0x16 { // SV2, or a TLS record header
		return true
	}
	for _, p := range [...]string{"POST ", "GET ", "PUT ", "HTTP/1."} {
		n := min(len(p), len(up))
		if string(up[:n]) == p[:n] {
			return true
		}
	}
	return false
}

// tlsHeader is the length of a TLS record header: type, version, length.
const tlsHeader = 5

// looksLikeTLSRecord reports whether b starts with a whole TLS record
// header (change_cipher_spec, alert, handshake or application_data;
// version 3.x; a length a record can have): a capture that begins in
// the middle of a TLS session. Its bytes are ciphertext; reading them as
// lines would only keep a line reader and a partial-line buffer per
// direction for nothing — the flow's first byte 0x16 already turns the
// JSON reading off for a session seen from its start.
func looksLikeTLSRecord(b []byte) bool {
	if len(b) < tlsHeader || b[0] < 0x14 || b[0] > 0x17 || b[1] != 3 || b[2] > 4 {
		return false
	}
	n := int(b[3])<<8 | int(b[4])
	return n > 0 && n <= 1<<14+2048 // TLSCiphertext.length bound (RFC 5246 §6.2.3)
}

// decide picks the reading mode from the first client bytes and replays
// what was buffered.
func (f *Flow) decide(_ []byte) {
	if f.preBufs() == nil {
		f.decideOn(nil, nil)
		return
	}
	f.decideOn(f.preBufs()[packet.Up], f.preBufs()[packet.Down])
}

// decideOn decides on the first bytes up and down (the buffered ones, or
// the client's first chunk itself when it alone decides).
func (f *Flow) decideOn(up, down []byte) {
	switch {
	case jsonrpc.LooksLikeHTTP(up):
		f.mode = modeHTTP
		f.more().http = f.sh.free.http.Get() // cleared when put back
		f.readLines()                        // bodies are parsed with its message; a Stratum server may answer in lines
		if f.mach() != nil {
			f.mach().PairByOrder = true
		}
	case stratum.LooksLikeSV2Setup(up):
		f.mode = modeSV2
	case len(up) > 0 && up[0] == 0x16, looksLikeTLSRecord(up): // TLS: nothing to read here
		f.off()
		return
	default:
		f.mode = modeLines
		f.readLines()
	}
	if f.x != nil {
		f.x.pre = nil
	}
	if f.mode == modeSV2 {
		f.sv2(packet.Up, up)
		f.sv2(packet.Down, down)
		return
	}
	f.read(packet.Up, up)
	f.read(packet.Down, down)
}

func (f *Flow) off() {
	f.mode = modeOff
	if f.x != nil {
		f.x.pre = nil
	}
}

func (f *Flow) gap(dir packet.Direction) {
	switch f.mode {
	case modeStart:
		// A hole before the stream's kind is known: read what we have as
		// lines (or whatever decide picks), then resync.
		f.decide(nil)
		f.gap(dir)
	case modeLines:
		f.lineRd().lines[dir].Gap()
	case modeHTTP:
		f.httpRd()[dir].Gap()
		f.lineRd().lines[dir].Gap()
	case modeSV2:
		if f.preBufs() != nil {
			f.preBufs()[dir] = nil
		}
	}
}

func (f *Flow) line(dir packet.Direction, line []byte) {
	rd, msg := f.lineRd(), &f.sh.msg
	rd.lineCount++
	if msg.Parse(line) != nil {
		rd.skipped += int64(len(line))
		return
	}
	rd.messages++
	f.m().Feed(dir, msg, f.now())
}

func (f *Flow) body(dir packet.Direction, info *jsonrpc.HTTPInfo, body []byte) {
	rd, m, msg := f.lineRd(), f.m(), &f.sh.msg
	rd.httpMessages++
	if !info.Request && len(info.XStratum) > 0 {
		m.ServerRedirect(string(info.XStratum), f.now())
	}
	if info.Request && len(info.UserAgent) > 0 && m.Meta.Agent == "" {
		m.Meta.SetAgent(string(info.UserAgent))
	}
	if info.Request && len(info.Host) > 0 && m.Meta.PoolHost == "" {
		m.Meta.PoolHost = string(info.Host)
	}
	if msg.Parse(body) != nil {
		rd.skipped += int64(len(body))
		return
	}
	rd.messages++
	m.Feed(dir, msg, f.now())
}

// sv2 frames Stratum V2 setup messages; only the first few frames matter.
func (f *Flow) sv2(dir packet.Direction, b []byte) {
	if f.preBufs() == nil {
		f.more().pre = &[2][]byte{}
	}
	if len(f.preBufs()[dir])+len(b) > maxSV2Buffered {
		f.preBufs()[dir] = nil
		return
	}
	f.preBufs()[dir] = append(f.preBufs()[dir], b...)
	for {
		t, payload, n, ok := stratum.SV2Frame(f.preBufs()[dir])
		if !ok {
			return
		}
		f.m().FeedSV2(dir, t, payload, f.now())
		f.preBufs()[dir] = f.preBufs()[dir][n:]
	}
}

// Decided reports cheaply whether the flow has a mining verdict.
func (f *Flow) Decided() bool { return f.is(flagFollowing) }

// Machine exposes the state machine (read-only use; it allocates one for
// a flow that has not needed it yet).
func (f *Flow) Machine() *stratum.Machine { return f.m() }

// Stats returns the flow's counters.
func (f *Flow) Stats() Stats {
	var s Stats
	f.AddStats(&s)
	return s
}

// AddStats adds the flow's counters to s, as s.Add(f.Stats()) would
// without building and copying a Stats: the engine sums every ending
// flow's.
func (f *Flow) AddStats(s *Stats) {
	s.TruncatedPackets += int64(f.truncated)
	if f.mach() != nil {
		_, n := f.mach().Messages()
		s.MiningMessages += n
	}
	if rd := f.lineRd(); rd != nil {
		s.Lines += rd.lineCount
		s.Messages += rd.messages
		s.SkippedBytes += rd.skipped
		s.HTTPMessages += rd.httpMessages
	}
	for d := range f.streams {
		if f.streams[d].Plain() {
			// Most streams: building and summing a whole Stats adds zeros.
			s.Padding += f.streams[d].Padding()
		} else {
			f.addStreamStats(s, d)
		}
		if f.lineRd() != nil {
			ls := f.lineRd().lines[d].Stats
			s.OversizedLines += ls.Oversized
			s.SkippedBytes += ls.OversizeBytes
		}
	}
}

// addStreamStats adds one direction's stream counters to s.
func (f *Flow) addStreamStats(s *Stats, d int) {
	st := f.streams[d].Stats()
	s.Gaps += st.Gaps
	s.GapBytes += st.GapBytes
	s.CapDropped += st.CapDropped
	s.BudgetDropped += st.BudgetDropped
	s.Retransmitted += st.Retransmitted
	s.Padding += st.Padding
	s.OverlapConflicts += st.Conflicts
	if f.streams[d].Conflicting() {
		s.AltReadings++
	}
}

// Close returns the flow's memory to the budget. The Flow must not be used after.
func (f *Flow) Close() {
	for d := range f.streams {
		f.streams[d].Release()
	}
	if x := f.x; x != nil {
		x.pre, x.rd, x.http, x.alt = nil, nil, nil, nil
	}
}

// Verdict is stage 1's conclusion for a flow.
type Verdict struct {
	Mining bool
	// Confidence: 0.99 confirmed exchange (a mining request answered by a
	// valid mining reply), 0.95 mining vocabulary from both sides without a
	// matched reply, 0.8 Stratum V2 Noise handshake sizes only; 0 = not mining.
	Confidence float64
	Dialect    string
	Reason     string    // "<dialect>: <state path>"
	At         time.Time // packet time when the verdict was reached
	State      string    // last state reached
	States     []string  // the state path
	Meta       stratum.Meta
	// Proxy is the plaintext proxy preamble in front of the conversation, if any.
	Proxy *proxy.Result
	// Attempt: the client sent a structurally valid mining request
	// (login/subscribe/authorize/submit/getwork/hello), answered or not.
	// Not a verdict (a lone subscribe may be a probe or hit a dead pool);
	// the engine may report it as a weaker, separate event.
	Attempt bool
	// Swapped: the capture began mid-session and the first sender turned
	// out to be the server; client and server are the other way round.
	Swapped bool
	// OverlapConflicts counts retransmissions whose bytes differed from
	// the first copy (an insertion attempt, or a broken path); with
	// AltReading the verdict came from the "last copy wins" reading.
	OverlapConflicts int64
	AltReading       bool
	// Evidence says why a spoofer could not have produced the verdict
	// cheaply: EvidenceHandshake when the flow had a complete TCP
	// handshake in sequence and the server acknowledged the client's
	// mining request before answering it; "" otherwise. Only verdicts
	// with evidence teach the learned list on their own.
	Evidence string
}

// Attempted reports what Verdict's Attempt && !Mining would, without
// building the verdict (its strings and metadata): the engine asks it of
// every TCP flow at its end, and almost none is an attempt.
func (f *Flow) Attempted() bool {
	// The machine Verdict reads: the first reading's, or the second
	// reading's when that one decided more; a flow that read no message
	// has neither, and a machine fed nothing is no attempt.
	var mining, attempt bool
	if m := f.mach(); m != nil {
		mining, attempt = m.Mining(), m.Attempt()
	}
	if alt := f.altRd(); alt != nil && !mining && (alt.machine.Mining() || !attempt && alt.machine.Attempt()) {
		mining, attempt = alt.machine.Mining(), alt.machine.Attempt()
	}
	return attempt && !mining
}

// Verdict returns the flow's verdict with current metadata (it allocates:
// call it when Decided() turns true and at flow end, not per packet).
func (f *Flow) Verdict() Verdict {
	m := f.mach()
	if m == nil { // no message yet: the verdict of a machine fed nothing
		m = &stratum.Machine{MayBeSwapped: f.is(flagMaybeSwapped), PairByOrder: f.mode == modeHTTP}
	}
	alt := !m.Mining() && f.altRd() != nil && (f.altRd().machine.Mining() || !m.Attempt() && f.altRd().machine.Attempt())
	if alt {
		m = &f.altRd().machine
	}
	mv := m.Verdict()
	v := Verdict{
		Mining: mv.Mining, Confidence: mv.Confidence, Dialect: mv.Dialect, Reason: mv.Reason, At: mv.At,
		State: m.State().String(), States: m.States(), Meta: m.Meta,
		Attempt: m.Attempt(), Swapped: m.Swapped(), AltReading: alt,
		OverlapConflicts: f.streams[0].Conflicts() + f.streams[1].Conflicts(),
	}
	if alt && v.Mining {
		v.Reason += " (read from the last copy of conflicting retransmissions)"
	}
	if v.Mining && !alt && v.Confidence >= stratum.ConfidenceConfirmed && f.ev.ok(f) {
		v.Evidence = EvidenceHandshake
	}
	if f.proxyRes() != nil && (f.proxyRes().Status == proxy.Found || f.proxyRes().Status == proxy.Refused) {
		p := *f.proxyRes()
		v.Proxy = &p
	}
	return v
}

// FillMining writes the verdict's metadata into an alert's mining record.
func (v *Verdict) FillMining(a *alert.Mining) {
	md := &v.Meta
	*a = alert.Mining{
		Dialect: v.Dialect, State: v.State, StatePath: v.States,
		Agent: md.Agent, MinerName: md.MinerName, MinerVersion: md.MinerVersion, MinerOS: md.MinerOS,
		Login: md.Login, Coin: md.Coin, Worker: md.Worker, Algorithms: md.Algorithms,
		PoolHost: md.PoolHost, PoolPort: md.PoolPort, Difficulty: md.Difficulty, Target: md.Target,
		Jobs: md.Jobs, SharesSubmitted: md.Submitted, SharesAccepted: md.Accepted, SharesRejected: md.Rejected,
		HashrateHs: md.Hashrate(), ReportedHashrateHs: md.ReportedHashrate,
		OverlapConflicts: v.OverlapConflicts,
	}
}

// FillProxy writes the proxy preamble into an alert's proxy record and
// reports whether there was one.
func (v *Verdict) FillProxy(a *alert.Proxy) bool {
	if v.Proxy == nil {
		return false
	}
	*a = alert.Proxy{Kind: v.Proxy.Kind, TargetHost: v.Proxy.TargetHost, TargetPort: v.Proxy.TargetPort}
	return true
}
