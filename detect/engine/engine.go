package engine

import (
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"time"
	"unsafe"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/communityid"
	"github.com/minerwatch/minerwatch/detect/dnsmsg"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/signature"
	"github.com/minerwatch/minerwatch/detect/stratum"
	"github.com/minerwatch/minerwatch/detect/tlshello"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/freelist"
	"github.com/minerwatch/minerwatch/internal/lru"
)

// Scorer is stage 2: a flow classifier over one feature set.
type Scorer interface {
	// FeatureSet is the flowfeat set the model reads.
	FeatureSet() string
	// Score returns the mining probability of a feature vector of that set
	// and the features that pushed it most. Below Threshold the score may
	// be an upper bound (still below Threshold) rather than exact.
	Score(x []float64) (score float64, top []alert.FeatureValue)
	// Threshold is the decision threshold.
	Threshold() float64
	// ID names the model in alerts.
	ID() string
}

// Prober is a Scorer that can also give a feature vector's exact
// probability. Score may return a bound below the threshold; feature
// rows (OnRow) carry the exact value when the model is a Prober.
type Prober interface {
	Probability(x []float64) float64
}

// PartialScorer is a Scorer that can often tell a row is below its
// threshold without some of its features (forest.Bounder): rows that only
// feed the model then leave their periodicity features, the costly part of
// a row, uncomputed unless the model needs them (see belowWithout).
type PartialScorer interface {
	// BelowWithout reports whether the score of x is below the threshold
	// whatever the features marked in missing are; if not, need is a
	// missing feature the model asks for (-1: none).
	BelowWithout(x []float64, missing []bool) (below bool, need int)
}

// Config configures an Engine.
type Config struct {
	Flows     flows.Config
	Signature signature.Config
	// ReassemblyBudget caps the bytes all flows may hold for reassembly.
	ReassemblyBudget int64
	// Intel is stage 0; nil disables it.
	Intel *intel.Intel
	// Model is stage 2; nil disables it.
	Model Scorer
	// Checkpoints is when stage 2 scores a flow.
	Checkpoints flowfeat.Checkpoints
	// MinScorePackets: flows with fewer data packets at a checkpoint are
	// not scored (nothing to judge).
	MinScorePackets int
	// ScoreAtEnd also scores a flow at its end when it ended (or went
	// quiet until the flow table expired it) between checkpoints, after
	// the first: a miner that reconnects every few minutes then cannot
	// slip between them. Off by default: with today's feature set and
	// checkpoints it found 3 more of 44 mining flows and raised 4 more
	// false alarms in 562 benign flows (grouped CV, README "Early
	// verdicts").
	ScoreAtEnd bool
	// Capture names the input for the events' pcap_filename (or in_iface,
	// with Sensor.Live).
	Capture func() string
	// Sensor is the events' host name, capture kind and Community ID seed.
	Sensor alert.Sensor
	// OnRow, if set, receives every feature row (stage 2 must be on, or
	// Features set, for rows to be computed).
	OnRow func(r *flowfeat.Row, fl *FlowInfo)
	// Features forces feature computation even without a model.
	Features bool
	// Window adds a row per fixed window of this length (0 = none), and
	// NoEndRow drops the whole-flow row at each flow's end: the features
	// command's row choices.
	Window   time.Duration
	NoEndRow bool
	// SizeOverhead augments feature rows (training only): every data
	// packet counts this many bytes larger. The other stages see the
	// packets as they are.
	SizeOverhead int
	// OnFlowEnd, if set, is called with every ending flow and why, before
	// the alerts of its end (the parallel offline path orders the flows
	// several workers end at one capture position as one table would).
	OnFlowEnd func(f *flows.Flow, why flows.EndReason)
	// Caps bounds the engine's tables keyed by traffic and the intel
	// alert rate (see Caps).
	Caps Caps
	// Defer, if set, makes the engine one of several working on parts of
	// one capture (detect/parallel): it then makes no decision that reads
	// or changes state across flows — the learned store, the dns-query
	// de-duplication, the intel rate limits, the host summaries — but
	// hands each to Defer as a Request, for one Decider to make in
	// capture order (see Request). The request is the engine's: copy it.
	Defer func(r *Request)
	// eager allocates every flow's stage state at its first packet (the
	// pre-lazy behaviour), for the tests that prove the lazy path gives
	// the same alerts and rows.
	eager bool
}

// DefaultConfig returns defaults for offline and online detection.
func DefaultConfig() Config {
	return Config{
		Flows:            flows.DefaultConfig(),
		Signature:        signature.DefaultConfig(),
		ReassemblyBudget: 512 << 20,
		Checkpoints:      flowfeat.ModelCheckpoints(),
		MinScorePackets:  flowfeat.MinScoreDataPkts,
		Caps:             DefaultCaps(),
	}
}

// Stats counts the engine's work.
type Stats struct {
	Flows      flows.Stats
	Signature  signature.Stats
	Budget     reassembly.BudgetStats
	Alerts     map[string]int64 // by detector
	DNSParsed  int64
	DNSErrors  int64
	TLSHellos  int64
	Scored     int64
	ScoreNanos int64 // the model's wall time on the Scored rows, PeriodNanos not included
	// PeriodsSkipped counts the directions' periodicity features that
	// were never computed: the model decided their rows without them.
	PeriodsSkipped int64
	// PeriodsComputed counts the deferred periodicity features computed
	// because the model needed them, and PeriodNanos their wall time (an
	// FFT autocorrelation each: feature extraction, not scoring).
	PeriodsComputed int64
	PeriodNanos     int64
	// Capped counts what the engine's bounded tables evicted or folded.
	Capped Capped
	// Earned counts the flows that were given stage state (signature
	// and feature state): the others cost only their small record.
	Earned int64
}

// FlowInfo is the engine's per-flow state; OnRow callers may read it
// during the call. The engine reuses it for a later flow once its flow
// has ended: do not keep it.
type FlowInfo struct {
	flow *flows.Flow
	// capture is the engine's copy of the input's name when the flow
	// began (one pointer, not a 16-byte string header: see Capture).
	capture *string
	sig     *signature.Flow
	feat    *flowfeat.State
	// par holds the flow's prelude until it earns its state, and its
	// ClientHello, QUIC or DNS-over-TCP parser while one is in use (nil
	// for most established flows: the search for a hello needs no more
	// than hs).
	par     *parsers
	tlsMeta *alert.TLS
	hs      helloState
	// alerted holds a bit per detector that has alerted on this flow
	// (see AlertedBy): one byte where a map took a pointer and a map.
	alerted uint8
	// bits holds bitEarned and bitSigFired.
	bits uint8
	// intelMatch is the kind of the first intel match on the flow (an
	// index into intelKinds, 0 = none); see IntelMatch.
	intelMatch uint8
	// dialect is the signature stage's dialect once it confirmed mining
	// (an index into dialectNames, 0 = none); see Dialect.
	dialect uint8
	// ModelScore is stage 2's score of the row being handed to OnRow: the
	// exact probability when the model is a Prober, NaN when the row was
	// not scored (not a TCP checkpoint row, too few data packets, no
	// model). float32, and next to the flags, so it fills their padding:
	// the row columns cost no flow any memory.
	ModelScore float32
}

// FlowInfo stays within the 64-byte size class: a million flows pay
// 16 MB more at the next one (80 B).
var _ [64 - unsafe.Sizeof(FlowInfo{})]struct{}

// The flags in FlowInfo.bits.
const (
	// bitEarned is set once the flow has its stage state (sig, feat): at
	// the end of its handshake, its first payload, a full prelude or a
	// due feature row. Until then its header-only packets wait in the
	// prelude (in par), and a SYN-flood flow costs no more than that;
	// the parsers go back to the engine's free list when the flow earns
	// its state, unless a parser is in use.
	bitEarned uint8 = 1 << iota
	// bitSigFired: the signature stage's verdict has been reported.
	bitSigFired
)

func (fi *FlowInfo) earned() bool   { return fi.bits&bitEarned != 0 }
func (fi *FlowInfo) sigFired() bool { return fi.bits&bitSigFired != 0 }

// detectorBits are the detectors FlowInfo.alerted has a bit for, in bit
// order; any other detector name shares the last bit.
var detectorBits = [...]string{alert.DetectorIntel, alert.DetectorSignature, alert.DetectorModel, alert.DetectorProbe}

func detectorBit(detector string) uint8 {
	for i, d := range detectorBits {
		if d == detector {
			return 1 << i
		}
	}
	return 1 << len(detectorBits)
}

// AlertedBy reports whether the detector named detector (alert.Detector*)
// has alerted on this flow.
func (fi *FlowInfo) AlertedBy(detector string) bool { return fi.alerted&detectorBit(detector) != 0 }

// intelKinds are the intel match kinds intelMatch indexes (0 = none).
var intelKinds = [...]intel.MatchKind{"", intel.MatchIP, intel.MatchDNSQuery, intel.MatchDNSAnswer, intel.MatchSNI, intel.MatchLearned}

// Capture names the input the flow was read from (the events'
// pcap_filename or in_iface), "" if the engine was given none.
func (fi *FlowInfo) Capture() string {
	if fi.capture == nil {
		return ""
	}
	return *fi.capture
}

// dialectNames are the dialects FlowInfo.dialect indexes (0 = none).
var dialectNames = append([]string{""}, stratum.Dialects()...)

// Dialect returns the signature stage's dialect once it confirmed mining
// on the flow, "" until then.
func (fi *FlowInfo) Dialect() string { return dialectNames[fi.dialect] }

// dialectIndex returns name's index in dialectNames; a name stratum does
// not list (its test keeps the list whole) is stored as none.
func dialectIndex(name string) uint8 {
	for i, d := range dialectNames {
		if d == name {
			return uint8(i)
		}
	}
	return 0
}

// IntelMatch returns the kind of the first intel match on the flow (ip,
// dns-query, dns-answer, sni, learned), "" if none.
func (fi *FlowInfo) IntelMatch() string { return string(intelKinds[fi.intelMatch]) }

// TLS returns the flow's ClientHello metadata (SNI, JA3, JA4), nil when
// no ClientHello was seen (yet).
func (fi *FlowInfo) TLS() *alert.TLS { return fi.tlsMeta }

// SignatureState returns the last state of the conversation the signature
// stage has read so far (hello, authorized, job, submit, accepted,
// keepalive), "" when it read no mining message or does not read the flow.
func (fi *FlowInfo) SignatureState() string {
	if fi.sig == nil {
		return ""
	}
	return fi.sig.Verdict().State
}

// helloState is the search for a ClientHello in a client stream, 8 bytes
// in the FlowInfo: the bytes seen by the TLS tap (saturating at
// tlshello.MaxStream, which means "done"; until a parser runs, also the
// bytes searched) and the last bytes searched, in case a record header
// straddles chunks. A UDP flow has no stream to search: for it, upBytes
// at MaxStream marks its QUIC Initial as done.
type helloState struct {
	upBytes uint16
	carry   [helloCarry]byte
	ncarry  uint8
}

// helloState.upBytes holds up to tlshello.MaxStream, and the search ends
// well below it.
var _ [math.MaxUint16 - tlshello.MaxStream]struct{}
var _ [tlshello.MaxStream - helloSearch]struct{}

// parsers is a flow's ClientHello / QUIC / DNS-over-TCP parsing state,
// allocated when a parser is needed and recycled when none is left.
type parsers struct {
	tls  *tlshello.Parser
	quic *tlshello.QUICParser
	dns  [2]*dnsmsg.Stream
	// pre holds the flow's header-only packets until it earns its state
	// (empty afterwards): the prelude and the parsers are never both in
	// use for long, so one pointer in FlowInfo serves both.
	pre flowfeat.Prelude
}

// Engine runs the detection pipeline over packets. It is not safe for
// concurrent use: run one per worker.
type Engine struct {
	cfg     Config
	table   *flows.Table
	tracker *flowfeat.Tracker
	budget  *reassembly.Budget
	// sigShared: the signature stage's config, budget and parse scratch,
	// shared by every flow.
	sigShared *signature.Shared
	// capName is the name flows began under lately (see capture).
	capName *string
	out     func(*alert.Alert)
	hosts   *lru.Map[netip.Addr, *HostSummary]
	dnsMsg  dnsmsg.Message
	dnsRes  intel.DNSResult
	req     Request // Config.Defer's argument, reused
	// Hello parsers live from a flow's first payload to its ClientHello
	// (or the end of the search): recycled, not re-allocated per flow.
	tlsFree  freelist.List[tlshello.Parser]
	quicFree freelist.List[tlshello.QUICParser]
	sigFree  freelist.List[signature.Flow]
	parFree  freelist.List[parsers]
	infoFree freelist.List[FlowInfo]
	sigDone  signature.Stats
	stats    Stats
	vec      flowfeat.Vector
	// replay is the packet a flow's prelude is replayed into when it
	// earns its state (one per engine, not one allocation per flow).
	replay packet.Packet
	// tapFn is every flow's signature tap (one closure per engine, not
	// one per flow): it hands the stream bytes to tap for tapping, the
	// flow whose signature state is being fed, set before each call that
	// can deliver bytes (Packet, Finish).
	tapFn   func(dir packet.Direction, data []byte)
	tapping *FlowInfo
	// lim holds the intel rate limits and the dns-query de-duplication
	// (unused with Config.Defer: the Decider's decide).
	lim *intelLimits
	// missing marks the model's features a row has not computed yet
	// (belowWithout); all false between rows.
	missing []bool
}

// dnsKey is one (host, name) pair of the dns-query de-duplication.
type dnsKey struct {
	host netip.Addr
	name string
}

// dnsRepeat is how long a (host, name) dns-query alert is not repeated.
const dnsRepeat = time.Hour

// New returns an engine that reports alerts to out.
func New(cfg Config, out func(*alert.Alert)) *Engine {
	cfg.Caps = cfg.Caps.withDefaults()
	e := &Engine{cfg: cfg, out: out}
	e.hosts = lru.New[netip.Addr, *HostSummary](cfg.Caps.Hosts)
	e.lim = newIntelLimits(cfg.Caps, &e.cfg.Sensor, out, e.capture)
	e.stats.Alerts = map[string]int64{}
	e.tapFn = func(dir packet.Direction, data []byte) { e.tap(e.tapping, dir, data) }
	e.budget = reassembly.NewBudget(cfg.ReassemblyBudget)
	e.sigShared = signature.NewShared(cfg.Signature, e.budget)
	e.sigShared.SetTap(e.tapFn)
	if cfg.Model != nil || cfg.Features || cfg.OnRow != nil {
		tc := flowfeat.TrackerConfig{Checkpoints: cfg.Checkpoints, SizeOverhead: cfg.SizeOverhead, Window: cfg.Window, NoEndRow: cfg.NoEndRow,
			LateEndRow: cfg.OnRow != nil || cfg.Features || cfg.ScoreAtEnd}
		if cfg.OnRow == nil && !cfg.Features {
			// Rows only feed the model: skip those it would not score,
			// and the sequence state when the model does not read it.
			tc.NoSeq = flowfeat.SeqFree(cfg.Model.FeatureSet())
			tc.NoEndRow = true
			// row scores no flow with fewer data packets than
			// MinScorePackets, nor a window row: those are dropped
			// before their features are computed.
			if cfg.MinScorePackets > 0 {
				tc.MinDataPkts = uint32(cfg.MinScorePackets)
			}
			tc.Skip = func(f *flows.Flow, kind string) bool {
				fi, _ := f.Data.(*FlowInfo)
				return fi == nil || fi.alerted != 0 || kind == flowfeat.KindWindow
			}
			// Nothing else reads the rows: a model that can decide
			// without the periodicity features asks for them only when
			// it needs them (see belowWithout).
			if _, ok := cfg.Model.(PartialScorer); ok {
				tc.DeferPeriod = true
			}
		}
		e.tracker = flowfeat.NewTracker(tc, e.row)
	}
	e.table = flows.NewTable(cfg.Flows, observer{e})
	return e
}

// Packet runs one decoded packet through the pipeline.
func (e *Engine) Packet(p *packet.Packet) { e.table.Add(p) }

// Advance expires idle flows as of now (for a quiet live interface), and
// emits the intel_summary events of rate-limit intervals that ended.
//
// It also scores the flows whose checkpoint has passed without a packet
// since: on a live link the model alert comes at its checkpoint, not at
// the flow's next packet (a miner may be quiet for a minute). That visits
// every flow with feature state, so call it about once a second, not per
// packet.
func (e *Engine) Advance(now time.Time) {
	e.table.Advance(now)
	e.lim.sweep(now)
	if e.tracker == nil {
		return
	}
	// A second of grace: packets stamped just before the checkpoint may
	// still be in the capture ring when the clock passes it.
	due := now.Add(-advanceGrace)
	e.table.Each(func(f *flows.Flow) {
		fi, ok := f.Data.(*FlowInfo)
		if !ok {
			return
		}
		if !fi.earned() && e.wantsFeatures(f) && e.tracker.Due(f, due) {
			e.earn(fi, true)
		}
		if fi.feat != nil {
			e.tracker.Advance(fi.feat, f, due)
		}
	})
}

// advanceGrace is how long after a checkpoint Advance scores a quiet flow.
const advanceGrace = time.Second

// Flush ends every flow (end of input or shutdown), emitting final events
// (and the intel summaries of intervals still open).
func (e *Engine) Flush() {
	e.table.Flush()
	if e.cfg.Defer == nil { // else the Decider sweeps, once every engine has flushed
		e.lim.sweep(time.Time{})
	}
}

// Stats returns the counters so far.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Flows = e.table.Stats()
	s.Budget = e.budget.Stats()
	s.Signature = e.sigDone
	e.table.Each(func(f *flows.Flow) {
		if fi, ok := f.Data.(*FlowInfo); ok && fi.sig != nil {
			fi.sig.AddStats(&s.Signature)
		}
	})
	s.Alerts = map[string]int64{}
	for k, v := range e.stats.Alerts {
		s.Alerts[k] = v
	}
	s.Capped.HostsEvicted = e.hosts.Evicted()
	e.lim.capped(&s.Capped)
	if e.cfg.Intel != nil {
		s.Capped.LearnedRefused = int64(e.cfg.Intel.Learned().Refused())
		_, s.Capped.LearnedPendingEvicted = e.cfg.Intel.Learned().Pending()
	}
	return s
}

func (e *Engine) capture() string {
	if e.cfg.Capture == nil {
		return ""
	}
	return e.cfg.Capture()
}

// captureRef returns the input's current name as the pointer flows keep:
// one allocation each time the name changes (a new file), shared by every
// flow that began under it.
func (e *Engine) captureRef() *string {
	if e.cfg.Capture == nil {
		return nil
	}
	// Only a changed name is copied to the heap: taking the address of
	// the returned string itself would move it there at every call, 16 B
	// of garbage per flow (a million flows left 16 MB of it for a
	// collection a growing heap does not reach).
	if name := e.cfg.Capture(); e.capName == nil || *e.capName != name {
		p := new(string)
		*p = name
		e.capName = p
	}
	return e.capName
}

func (e *Engine) flowStarted(f *flows.Flow) {
	fi := e.infoFree.Get()
	*fi = FlowInfo{flow: f, capture: e.captureRef()}
	f.Data = fi
	// Stage state comes when the flow earns it (see packet); a flow that
	// would get none is born earned.
	if f.Proto != packet.ProtoTCP && !e.wantsFeatures(f) {
		fi.bits |= bitEarned
	}
	if e.cfg.eager {
		e.earn(fi, true)
	}
	if e.cfg.Intel != nil && e.cfg.Defer != nil {
		e.deferFlow(fi)
	} else if e.cfg.Intel != nil {
		h, ok := e.cfg.Intel.CheckFlow(f.Client, f.Server, f.First)
		if ok && e.lim.allowed(intelKey{addr: f.Server}, f.Client.Addr(), &h, f.First) {
			e.emit(fi, serverAlert(&e.cfg.Sensor, fi, &h))
		}
	}
}

// serverAlert is the intel alert of a new flow to a listed (or learned)
// server.
func serverAlert(sensor *alert.Sensor, fi *FlowInfo, h *intel.Hit) *alert.Alert {
	f := fi.flow
	a := newAlert(sensor, fi, alert.DetectorIntel, f.First, false)
	a.Confidence = intelConfidence(h.Kind)
	a.Reason = "server " + f.Server.String() + " is listed (" + string(h.Kind) + ": " + h.Entry + ")"
	a.Intel = h.Alert()
	return a
}

func intelConfidence(k intel.MatchKind) float64 {
	switch k {
	case intel.MatchLearned:
		return 0.95 // confirmed mining on this endpoint earlier
	case intel.MatchDNSQuery, intel.MatchDNSAnswer, intel.MatchSNI:
		return 0.9
	}
	return 0.85 // pool IPs are sometimes shared hosting
}

// wantsFeatures reports whether flow f gets feature state: stage 2 scores
// TCP flows only; other flows get it when someone wants their rows.
func (e *Engine) wantsFeatures(f *flows.Flow) bool {
	return e.tracker != nil && (f.Proto == packet.ProtoTCP || e.cfg.OnRow != nil || e.cfg.Features)
}

// earn gives fi its stage state — the signature machine (TCP, when
// withSig) and the feature accumulator — and replays the header-only
// packets held so far into it, so both end up as if they had existed
// from the flow's first packet.
func (e *Engine) earn(fi *FlowInfo, withSig bool) {
	fi.bits |= bitEarned
	e.stats.Earned++
	f := fi.flow
	if withSig && f.Proto == packet.ProtoTCP {
		fi.sig = e.sigFree.Get()
		fi.sig.Init(e.sigShared)
	}
	if e.wantsFeatures(f) {
		fi.feat = e.tracker.Start(f)
	}
	if fi.par == nil {
		return
	}
	e.tapping = fi
	fi.par.pre.Replay(f, &e.replay, func(p *packet.Packet, dir packet.Direction) {
		if fi.feat != nil {
			e.tracker.Packet(fi.feat, f, p, dir)
		}
		if fi.sig != nil {
			fi.sig.Packet(p, dir)
		}
	})
	fi.par.pre.Reset()
	e.dropParsers(fi)
}

func (e *Engine) packet(f *flows.Flow, p *packet.Packet, dir packet.Direction) {
	fi := f.Data.(*FlowInfo)
	if !fi.earned() {
		// A header-only packet before any row is due waits in the
		// prelude; anything else earns the flow its state first.
		//
		// The ACK that completes a handshake earns it too: the flow will
		// carry data and earn its state at the first payload anyway.
		// Earned now, its prelude goes straight back to the free list for
		// the next handshake instead of becoming garbage at that payload
		// (a million flows opened before any of them sends data otherwise
		// leave 80 MB behind that the growing heap never collects), and
		// the ACK is read below as itself, not held and replayed. A
		// packet with payload earns it whatever Due says (the prelude
		// holds none): asked first, it spares the rest.
		if p.PayloadLen == 0 && len(p.Payload) == 0 && (e.tracker == nil || !e.tracker.Due(f, p.Time)) {
			if pre := &e.parsers(fi).pre; !pre.Completes(p, dir) && pre.Add(p, dir) {
				return
			}
		}
		e.earn(fi, true)
	}
	if fi.feat != nil {
		e.tracker.Packet(fi.feat, f, p, dir)
	}
	if fi.sig != nil {
		e.tapping = fi
		fi.sig.Packet(p, dir)
		e.sigDecision(fi, p.Time)
	}
	if f.Proto == packet.ProtoUDP && len(p.Payload) > 0 && e.parseHellos() {
		switch {
		case (p.SrcPort == 53 || p.DstPort == 53) && e.cfg.Intel != nil:
			e.dnsMessage(fi, p.Payload, p.Time)
		case dir == packet.Up && f.Server.Port() == 443 && fi.tlsMeta == nil && f.Up.Pkts <= maxQUICPackets:
			e.quicInitial(fi, p.Payload, p.Time)
		}
	}
}

// sigDecision reports the signature stage's verdict once it has decided.
func (e *Engine) sigDecision(fi *FlowInfo, at time.Time) {
	if fi.sig != nil && !fi.sigFired() && fi.sig.Decided() {
		fi.bits |= bitSigFired
		e.signatureVerdict(fi, at)
	}
}

// parseHellos reports whether ClientHellos are parsed: for intel (SNI
// matching), and for feature rows, which carry the SNI, JA3 and JA4.
func (e *Engine) parseHellos() bool { return e.cfg.Intel != nil || e.cfg.OnRow != nil }

// tap receives every in-order chunk of a TCP flow's reassembled streams.
func (e *Engine) tap(fi *FlowInfo, dir packet.Direction, data []byte) {
	if !e.parseHellos() {
		return
	}
	f := fi.flow
	if f.Server.Port() == 53 || f.Client.Port() == 53 {
		if e.cfg.Intel == nil {
			return // DNS is read for intel only
		}
		ps := e.parsers(fi)
		s := ps.dns[dir]
		if s == nil {
			s = &dnsmsg.Stream{}
			ps.dns[dir] = s
		}
		s.Write(data)
		for {
			msg, ok := s.Next()
			if !ok {
				break
			}
			e.dnsMessage(fi, msg, f.Last())
		}
		return
	}
	hs := &fi.hs
	seen := int(hs.upBytes)
	if dir != packet.Up || seen >= tlshello.MaxStream {
		return
	}
	hs.upBytes = uint16(min(seen+len(data), tlshello.MaxStream))
	if fi.par == nil || fi.par.tls == nil {
		// The hello may follow a plaintext preamble (SOCKS, HTTP CONNECT,
		// STARTTLS): look for it in the first helloSearch bytes. Until a
		// parser runs, every byte seen was searched (a chunk that would
		// take the search past helloSearch ends it), so seen is also the
		// search's position.
		n := min(len(data), helloSearch-seen)
		head, start := hs.findHello(data[:n])
		if start < 0 {
			if seen+n >= helloSearch {
				hs.upBytes = tlshello.MaxStream // not TLS: stop looking
			}
			return
		}
		tls := e.tlsFree.Get()
		e.parsers(fi).tls = tls
		// Feed from the hello's start: the bytes of earlier chunks it
		// starts with (a record header cut by a chunk boundary), the
		// searched part of this chunk, then the rest of it.
		if len(head) > 0 {
			if err := tls.Feed(head); err != tlshello.ErrNeedMore {
				e.helloDone(fi, err)
				return
			}
		}
		if err := tls.Feed(data[start:n]); err != tlshello.ErrNeedMore || n == len(data) {
			e.helloDone(fi, err)
			return
		}
		data = data[n:]
	}
	e.helloDone(fi, fi.par.tls.Feed(data))
}

// parsers returns fi's parsers, taking a recycled set if it has none.
func (e *Engine) parsers(fi *FlowInfo) *parsers {
	if fi.par == nil {
		fi.par = e.parFree.Get()
	}
	return fi.par
}

// dropParsers recycles fi's parsers once none is in use.
func (e *Engine) dropParsers(fi *FlowInfo) {
	if ps := fi.par; ps != nil && ps.tls == nil && ps.quic == nil && ps.dns == [2]*dnsmsg.Stream{} && ps.pre.Len() == 0 {
		e.parFree.Put(ps)
		fi.par = nil
	}
}

// helloDone acts on the ClientHello parser's answer: nothing until the
// hello is complete; then check it, and stop parsing either way.
func (e *Engine) helloDone(fi *FlowInfo, err error) {
	if err == tlshello.ErrNeedMore {
		return
	}
	if err == nil {
		e.hello(fi, &fi.par.tls.Hello, fi.flow.Last())
	}
	e.putTLS(fi) // final either way: drop the buffered bytes
	e.dropParsers(fi)
	fi.hs.upBytes = tlshello.MaxStream
}

// helloSearch is how far into a client stream a ClientHello is looked for.
const helloSearch = 1024

// helloCarry is how many searched bytes are kept between chunks: a
// record header that tlshello.Find recognises is 6 bytes long, so one
// starting in the last 5 bytes of a chunk is only seen with the next.
const helloCarry = 5

// findHello searches chunk, the next searched bytes of the client stream,
// for the first plausible ClientHello record, also across the previous
// chunk boundary, as tlshello.Find over the whole searched prefix would.
// head is the record's start in earlier chunks (a copy, at most
// helloCarry bytes; empty when it starts in chunk), start its offset in
// chunk (0 after a head), -1 if none. Without the 1 KiB prefix buffer a
// flow would hold until its end.
func (ps *helloState) findHello(chunk []byte) (head []byte, start int) {
	var w [2 * helloCarry]byte
	k := copy(w[:], ps.carry[:ps.ncarry])
	m := k
	if k > 0 { // else no record can start before chunk (a flow's first chunk)
		m += copy(w[k:], chunk[:min(helloCarry, len(chunk))])
		if i := tlshello.Find(w[:m]); i >= 0 && i < k {
			ps.ncarry = 0
			return append([]byte(nil), w[i:k]...), 0
		}
	}
	if i := tlshello.Find(chunk); i >= 0 {
		ps.ncarry = 0
		return nil, i
	}
	// Keep the last helloCarry bytes searched.
	switch {
	case len(chunk) >= helloCarry:
		copy(ps.carry[:], chunk[len(chunk)-helloCarry:])
		ps.ncarry = helloCarry
	case k == 0: // w holds nothing: the short chunk is all there was
		ps.ncarry = uint8(copy(ps.carry[:], chunk))
	default:
		keep := min(m, helloCarry)
		copy(ps.carry[:], w[m-keep:m])
		ps.ncarry = uint8(keep)
	}
	return nil, -1
}

// hello checks a complete ClientHello (TLS or QUIC) and keeps its
// metadata for the flow's later alerts.
func (e *Engine) hello(fi *FlowInfo, h *tlshello.ClientHello, now time.Time) {
	e.stats.TLSHellos++
	if e.cfg.Intel == nil { // parsed for the rows' TLS columns only
		fi.tlsMeta = intel.TLSMeta(h, fi.flow.Server.Port())
		return
	}
	meta, hit, ok := e.cfg.Intel.CheckHello(h, fi.flow.Server, now)
	fi.tlsMeta = meta
	if !ok {
		return
	}
	a := func() *alert.Alert {
		a := e.newAlert(fi, alert.DetectorIntel, now, false)
		a.Confidence = intelConfidence(hit.Kind)
		a.Reason = "TLS server name " + hit.Query + " is listed (" + hit.Entry + ")"
		a.Intel = hit.Alert()
		return a
	}
	if e.cfg.Defer != nil {
		// Whether the flow has an intel alert already, and the rate, are
		// the Decider's to know.
		r := e.request(RequestHello, fi.flow, now)
		r.Hit, r.Alert = &hit, a()
		finishEVE(r.Alert)
		e.cfg.Defer(r)
		return
	}
	// A ClientHello needs no handshake before it (a spoofer can send one
	// per source), so its alerts are rate-limited per listed name too.
	if !fi.AlertedBy(alert.DetectorIntel) && e.lim.allowed(intelKey{name: hit.Query}, fi.flow.Client.Addr(), &hit, now) {
		e.emit(fi, a())
	}
}

// maxQUICPackets bounds how many client datagrams of a UDP/443 flow are
// tried as QUIC Initials: the ClientHello comes first or not at all.
const maxQUICPackets = 4

// quicInitial feeds a client datagram of a UDP/443 flow to the QUIC
// Initial decryptor; a complete ClientHello is checked like a TLS one.
func (e *Engine) quicInitial(fi *FlowInfo, b []byte, now time.Time) {
	if fi.hs.upBytes >= tlshello.MaxStream {
		return
	}
	ps := e.parsers(fi)
	if ps.quic == nil {
		ps.quic = e.quicFree.Get()
	}
	err := ps.quic.Feed(b)
	if err == tlshello.ErrNeedMore {
		return
	}
	if err == nil {
		e.hello(fi, &ps.quic.Hello, now)
	}
	// Final either way (a hello, or not QUIC): the parser goes back.
	e.putQUIC(fi)
	fi.hs.upBytes = tlshello.MaxStream // done, as a TCP flow's search
	e.dropParsers(fi)
}

func (e *Engine) dnsMessage(fi *FlowInfo, b []byte, now time.Time) {
	if err := dnsmsg.Parse(b, &e.dnsMsg); err != nil {
		e.stats.DNSErrors++
		// A response cut by the snaplen or by IP fragmentation still
		// holds its question: match it, as a query.
		if len(e.dnsMsg.Questions) == 0 {
			return
		}
	} else {
		e.stats.DNSParsed++
	}
	host := fi.flow.Client.Addr()
	dnsAlert := func(h *intel.Hit) *alert.Alert {
		a := e.newAlert(fi, alert.DetectorIntel, now, false)
		a.Confidence = intelConfidence(h.Kind)
		a.Reason = "host " + host.String() + " resolved listed name " + h.Query + " (" + h.Entry + ")"
		a.Intel = h.Alert()
		return a
	}
	if e.cfg.Defer != nil {
		// Answers join the learned store, and repeats and rates are
		// counted across flows: the Decider's, in capture order.
		e.cfg.Intel.CheckDNSLists(&e.dnsMsg, now, &e.dnsRes)
		if len(e.dnsRes.Hits) == 0 && len(e.dnsRes.Learned) == 0 {
			return
		}
		d := &DNSRequest{Learned: slices.Clone(e.dnsRes.Learned), Hits: slices.Clone(e.dnsRes.Hits)}
		for i := range d.Hits {
			a := dnsAlert(&d.Hits[i])
			finishEVE(a)
			d.Alerts = append(d.Alerts, a)
		}
		r := e.request(RequestDNS, fi.flow, now)
		r.DNS = d
		e.cfg.Defer(r)
		return
	}
	e.cfg.Intel.CheckDNS(&e.dnsMsg, now, &e.dnsRes)
	for i := range e.dnsRes.Hits {
		h := &e.dnsRes.Hits[i]
		if e.lim.dnsFirst(host, h.Query, now) && e.lim.allowed(intelKey{name: h.Query}, host, h, now) {
			e.emit(fi, dnsAlert(h))
		}
	}
}

func (e *Engine) signatureVerdict(fi *FlowInfo, at time.Time) {
	v := fi.sig.Verdict()
	if !v.Mining {
		return
	}
	if !v.At.IsZero() {
		at = v.At
	}
	fi.dialect = dialectIndex(v.Dialect)
	a := e.signatureAlert(fi, &v, at)
	e.emit(fi, a)
	if e.cfg.Intel != nil {
		server, client := fi.flow.Server, fi.flow.Client
		if v.Swapped {
			server, client = client, server
		}
		if a.Proxy == nil { // behind a proxy the server is the proxy, not the pool
			// Trusted at once only with v.Evidence, else pending until a
			// second client confirms the endpoint (one forged exchange
			// must not flag every host using it).
			pool, src, ev := v.Meta.PoolHost, "signature:"+v.Dialect, v.Evidence
			if e.cfg.Defer == nil {
				e.cfg.Intel.Confirm(server, client.Addr(), pool, src, ev, at)
			} else {
				r := e.request(RequestConfirm, fi.flow, at)
				r.Server, r.Client = server, client
				r.Confirm = &ConfirmRequest{Pool: pool, Source: src, Evidence: ev}
				e.cfg.Defer(r)
			}
		}
	}
}

// signatureAttempt reports, at flow end, a flow whose client sent
// structurally valid mining requests that no server answered in mining
// vocabulary (a miner trying a dead, refusing or blocking pool). The host
// is trying to mine; the exchange is unconfirmed, so the confidence is
// lower and the endpoint does not join the learned intel.
func (e *Engine) signatureAttempt(fi *FlowInfo) {
	if !fi.sig.Attempted() { // most flows: no verdict to build
		return
	}
	v := fi.sig.Verdict()
	a := e.signatureAlert(fi, &v, fi.flow.Last())
	a.Confidence = attemptConfidence
	a.Reason = "attempt: the client sent mining requests the server did not answer as a pool (" + v.Reason + ")"
	a.Mining.State = alert.StateAttempt
	e.emit(fi, a)
}

// signatureAlert builds the signature stage's alert (or update) of a flow
// from its verdict: metadata, and the proxy preamble if there was one.
func (e *Engine) signatureAlert(fi *FlowInfo, v *signature.Verdict, at time.Time) *alert.Alert {
	a := e.newAlert(fi, alert.DetectorSignature, at, v.Swapped)
	a.Confidence = v.Confidence
	a.Reason = v.Reason
	a.Mining = &alert.Mining{}
	v.FillMining(a.Mining)
	var px alert.Proxy
	if v.FillProxy(&px) {
		a.Proxy = &px
	}
	return a
}

// attemptConfidence is the confidence of an unanswered mining attempt.
const attemptConfidence = 0.7

// row receives every feature row from the tracker. Stage 2 scores it
// before OnRow sees it, so the row carries its score; its alert follows.
func (e *Engine) row(r *flowfeat.Row) {
	fi := r.Flow.Data.(*FlowInfo)
	m := e.cfg.Model
	// A late end row (the flow ended between checkpoints) is scored only
	// with ScoreAtEnd.
	scorable := m != nil && (r.Kind == flowfeat.KindCheckpoint || (r.Late && e.cfg.ScoreAtEnd)) && r.Flow.Proto == packet.ProtoTCP
	var x []float64
	if scorable {
		x = r.Values.Set(m.FeatureSet())
		mw := r.Values.Set(flowfeat.SetMW51)
		scorable = int(mw[1]+mw[19]) >= e.cfg.MinScorePackets // up + down data packets
	}
	// A flow another stage (or an earlier checkpoint) alerted on is not
	// scored for alerts; its rows still get their score.
	alerting := scorable && !fi.AlertedBy(alert.DetectorSignature) && !fi.AlertedBy(alert.DetectorIntel) && !fi.AlertedBy(alert.DetectorModel)
	score, top := math.NaN(), []alert.FeatureValue(nil)
	if alerting {
		start := time.Now()
		periods := e.stats.PeriodNanos
		if e.belowWithout(r, x) {
			alerting = false // below the threshold: no alert, as Score would say
		} else {
			score, top = m.Score(x)
		}
		// The periodicity computations belowWithout made are timed apart.
		e.stats.ScoreNanos += time.Since(start).Nanoseconds() - (e.stats.PeriodNanos - periods)
		e.stats.Scored++
		if e.cfg.Defer != nil && e.cfg.Intel != nil {
			// One engine would not have scored a flow with an intel
			// alert, which only the Decider knows of: it corrects
			// the count (and drops a model alert of such a flow).
			e.cfg.Defer(e.request(RequestScored, r.Flow, r.End))
		}
	}
	if e.cfg.OnRow != nil {
		rs := score
		if p, ok := m.(Prober); ok && scorable && !(score >= m.Threshold()) {
			rs = p.Probability(x) // Score gave a bound, or did not run
		}
		fi.ModelScore = float32(rs)
		e.cfg.OnRow(r, fi)
		fi.ModelScore = float32(math.NaN())
	}
	if !alerting || score < m.Threshold() {
		return
	}
	a := e.newAlert(fi, alert.DetectorModel, r.End, false)
	a.Confidence = score
	at, cp := "the "+r.Checkpoint.String()+" checkpoint", r.Checkpoint
	if r.Kind == flowfeat.KindEnd {
		// Scored at its end, between checkpoints: the alert's checkpoint
		// is the flow's age then.
		cp = r.End.Sub(r.Flow.First)
		at = "flow end (" + cp.Round(time.Millisecond).String() + ")"
	}
	a.Reason = "flow statistics score " + ftoa(score) + " ≥ threshold " + ftoa(m.Threshold()) + " at " + at
	a.Model = &alert.Model{Score: score, Threshold: m.Threshold(), Checkpoint: cp.Seconds(),
		FeatureSet: m.FeatureSet(), TopFeatures: top, ModelID: m.ID()}
	e.emit(fi, a)
}

// belowWithout reports whether the model can tell row r is below its
// threshold without the periodicity features the tracker deferred
// (TrackerConfig.DeferPeriod), computing those it asks for on the way;
// when it cannot, every deferred feature of the model's set is computed,
// so x is whole for Score. Bounding what a tree stopped at a missing
// feature can add by the largest leaf under that split, the shipped model
// decides all but about 3 in 1000 of detect's rows on the merged shared
// captures without any periodicity: most are never computed.
func (e *Engine) belowWithout(r *flowfeat.Row, x []float64) bool {
	pd, pu := r.PeriodPending()
	if !pd && !pu {
		return false
	}
	down, up, ok := flowfeat.PeriodColumns(e.cfg.Model.FeatureSet())
	if !ok {
		return false // the model does not read them
	}
	d := e.cfg.Model.(PartialScorer) // DeferPeriod is only set for a PartialScorer
	if len(e.missing) < len(x) {
		e.missing = make([]bool, len(x))
	}
	missing := e.missing[:len(x)]
	mark := func(cols [2]int, v bool) { missing[cols[0]], missing[cols[1]] = v, v }
	mark(down, pd)
	mark(up, pu)
	below := false
	for {
		var need int
		if below, need = d.BelowWithout(x, missing); below || need < 0 {
			break
		}
		if need == down[0] || need == down[1] {
			e.completePeriod(r, packet.Down)
			mark(down, false)
		} else {
			e.completePeriod(r, packet.Up)
			mark(up, false)
		}
	}
	if below {
		pd, pu := r.PeriodPending()
		e.stats.PeriodsSkipped += int64(b2i(pd) + b2i(pu))
	} else {
		e.completePeriod(r, packet.Down)
		e.completePeriod(r, packet.Up)
	}
	mark(down, false)
	mark(up, false)
	return below
}

// completePeriod computes row r's deferred periodicity features of
// direction dir, if pending, and counts and times it apart from scoring.
func (e *Engine) completePeriod(r *flowfeat.Row, dir packet.Direction) {
	pd, pu := r.PeriodPending()
	if dir == packet.Down && !pd || dir == packet.Up && !pu {
		return
	}
	start := time.Now()
	r.CompletePeriod(dir)
	e.stats.PeriodNanos += time.Since(start).Nanoseconds()
	e.stats.PeriodsComputed++
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (e *Engine) flowEnded(f *flows.Flow, why flows.EndReason) {
	if e.cfg.OnFlowEnd != nil {
		e.cfg.OnFlowEnd(f, why)
	}
	fi := f.Data.(*FlowInfo)
	// A flow that never earned state still owes its end rows; stage 1
	// has nothing to say about header-only packets.
	if !fi.earned() && e.wantsFeatures(f) && e.tracker.EndEmits() {
		e.earn(fi, false)
	}
	last := f.Last() // once: a time.Time Add each
	// Decide first, so the end row's consumers (weak labelling) see the
	// flow's final verdict (Finish reads what the signature stage still
	// holds: the last bytes of a conflicting-overlap reading).
	if fi.sig != nil {
		e.tapping = fi
		fi.sig.FinishAt(last)
	}
	e.sigDecision(fi, last)
	if fi.sig != nil && !fi.sigFired() {
		e.signatureAttempt(fi)
	}
	if e.cfg.Defer == nil {
		e.alertedFlowEnded(fi, f.Client.Addr(), last)
	} else if e.cfg.Intel != nil || fi.AlertedBy(alert.DetectorModel) {
		// The Decider knows whether the flow has an intel alert.
		e.cfg.Defer(e.request(RequestEnd, f, f.Last()))
	}
	if fi.feat != nil {
		e.tracker.End(fi.feat, f)
		e.tracker.Release(fi.feat)
		fi.feat = nil
	}
	if fi.par != nil {
		e.putTLS(fi)
		e.putQUIC(fi)
		fi.par.dns = [2]*dnsmsg.Stream{}
		fi.par.pre.Reset() // a flow that never earned state
		e.dropParsers(fi)
	}
	if fi.sig != nil {
		if fi.alerted != 0 && fi.AlertedBy(alert.DetectorSignature) {
			v := fi.sig.Verdict()
			a := e.signatureAlert(fi, &v, f.Last())
			flowEvent(a, f, why)
			if e.cfg.Defer == nil {
				e.updateHost(a)
			}
			e.out(a)
		}
		fi.sig.AddStats(&e.sigDone)
		fi.sig.Reset()
		e.sigFree.Put(fi.sig)
		fi.sig = nil
	}
	f.Data = nil
	// Nothing keeps fi past its flow's end (OnRow callers read it during
	// the call), so the next flow can have it.
	e.tapping = nil
	e.infoFree.Put(fi)
}

func (e *Engine) newAlert(fi *FlowInfo, detector string, at time.Time, swapped bool) *alert.Alert {
	return newAlert(&e.cfg.Sensor, fi, detector, at, swapped)
}

func newAlert(sensor *alert.Sensor, fi *FlowInfo, detector string, at time.Time, swapped bool) *alert.Alert {
	f := fi.flow
	c, s := f.Client, f.Server
	if swapped {
		c, s = s, c
	}
	a := &alert.Alert{
		Timestamp: at, EventType: alert.EventAlert, FlowID: f.ID,
		SrcIP: c.Addr().String(), SrcPort: c.Port(), DestIP: s.Addr().String(), DestPort: s.Port(),
		Proto: protoName(f.Proto), Detector: detector, Capture: fi.Capture(), TLS: fi.tlsMeta,
		Live: sensor.Live, Host: sensor.Host, AppProto: appProto(fi),
	}
	a.CommunityID, _ = communityid.Hash(sensor.CommunityIDSeed, f.Proto, c, s)
	up, down := f.Up, f.Down
	if swapped {
		up, down = down, up
	}
	a.Flow = &alert.Flow{PktsToServer: up.Pkts, PktsToClient: down.Pkts,
		BytesToServer: wireBytes(up), BytesToClient: wireBytes(down), Start: f.First}
	if f.VLAN[0] != 0 {
		a.VLAN = []uint16{f.VLAN[0]}
		if f.VLAN[1] != 0 {
			a.VLAN = append(a.VLAN, f.VLAN[1])
		}
	}
	return a
}

func (e *Engine) emit(fi *FlowInfo, a *alert.Alert) {
	// DNS-query alerts are per name, not per flow; the others once per flow.
	if a.Intel == nil || a.Intel.Match != string(intel.MatchDNSQuery) {
		fi.alerted |= detectorBit(a.Detector)
	}
	if a.Intel != nil && fi.intelMatch == 0 {
		for i, k := range intelKinds {
			if i > 0 && string(k) == a.Intel.Match {
				fi.intelMatch = uint8(i)
			}
		}
	}
	finishEVE(a)
	if e.cfg.Defer == nil { // else the Decider counts what it keeps
		e.stats.Alerts[a.Detector]++
		e.updateHost(a)
	}
	e.out(a)
}

// finishEVE fills what an alert event knows only once its stage is done:
// the rule that fired, and the application protocol the stage saw.
func finishEVE(a *alert.Alert) {
	a.Rule = alert.RuleOf(a)
	miningAppProto(a)
}

// miningAppProto names the application protocol of a signature event:
// the proxy in front of the conversation, HTTP for getwork, else Stratum.
func miningAppProto(a *alert.Alert) {
	if a.AppProto != "" || a.Mining == nil {
		return
	}
	switch {
	case a.Proxy != nil && a.Proxy.Kind == "http-connect":
		a.AppProto = "http"
	case a.Proxy != nil:
		a.AppProto = a.Proxy.Kind // socks4, socks4a, socks5
	case a.Mining.Dialect == "getwork":
		a.AppProto = "http"
	default:
		a.AppProto = "stratum"
	}
}

// appProto is the application protocol a flow's parsers recognised
// before any verdict: TLS or QUIC by their ClientHello, DNS by its port.
func appProto(fi *FlowInfo) string {
	f := fi.flow
	switch {
	case fi.tlsMeta != nil && f.Proto == packet.ProtoUDP:
		return "quic"
	case fi.tlsMeta != nil:
		return "tls"
	case f.Server.Port() == 53 || f.Client.Port() == 53:
		return "dns"
	}
	return ""
}

// wireBytes counts a direction's bytes as Suricata does: whole frames,
// link layer included (IP bytes when the frames were not recorded).
func wireBytes(c flows.Counters) uint64 {
	if c.Frames > 0 {
		return c.Frames
	}
	return c.Bytes
}

// flowEvent turns a signature event built at flow end into EVE's flow
// record: no rule, the flow's end, state and end reason in EVE's words.
func flowEvent(a *alert.Alert, f *flows.Flow, why flows.EndReason) {
	a.EventType = alert.EventFlow
	fl := a.Flow
	fl.End, fl.Alerted = f.Last(), true
	switch {
	case f.Closed():
		fl.State = "closed"
	case f.Up.Pkts > 0 && f.Down.Pkts > 0:
		fl.State = "established"
	default:
		fl.State = "new"
	}
	switch why {
	case flows.EndIdle, flows.EndClosed:
		fl.Reason = "timeout"
	case flows.EndFlush:
		fl.Reason = "shutdown"
	default: // reused key, evicted at the table's cap
		fl.Reason = "forced"
	}
	miningAppProto(a)
}

// protoName writes the IP protocol as Suricata's EVE does (the IANA
// keyword, else the number), so proto-keyed dashboards match both.
func protoName(p uint8) string {
	switch p {
	case packet.ProtoTCP:
		return "TCP"
	case packet.ProtoUDP:
		return "UDP"
	case 1:
		return "ICMP"
	case 58:
		return "IPv6-ICMP"
	case 47:
		return "GRE"
	case 50:
		return "ESP"
	case 132:
		return "SCTP"
	}
	return strconv.Itoa(int(p))
}

// FlowsCreated counts the flows seen so far; unlike Stats it costs
// nothing, for a progress line.
func (e *Engine) FlowsCreated() int64 { return e.table.Stats().FlowsCreated }

// Hosts returns the per-host summary, most shares first.
func (e *Engine) Hosts() []*HostSummary { return hostList(e.hosts) }

func hostList(hosts *lru.Map[netip.Addr, *HostSummary]) []*HostSummary {
	out := make([]*HostSummary, 0, hosts.Len())
	hosts.Each(func(_ netip.Addr, h *HostSummary) bool {
		out = append(out, h)
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Shares != out[j].Shares {
			return out[i].Shares > out[j].Shares
		}
		return out[i].Host.Less(out[j].Host)
	})
	return out
}

// observer adapts the engine to flows.Observer without exporting the
// callbacks on Engine itself.
type observer struct{ e *Engine }

func (o observer) FlowStarted(f *flows.Flow) { o.e.flowStarted(f) }
func (o observer) Packet(f *flows.Flow, p *packet.Packet, dir packet.Direction) {
	o.e.packet(f, p, dir)
}
func (o observer) ActiveRecord(*flows.Record)                 {}
func (o observer) FlowEnded(f *flows.Flow, r flows.EndReason) { o.e.flowEnded(f, r) }
