package flowfeat

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/features/seqfeat"
)

// Row kinds.
const (
	KindCheckpoint = "checkpoint" // whole flow so far, at a checkpoint
	KindWindow     = "window"     // one fixed-length window
	KindEnd        = "end"        // whole flow, at its end
)

// Checkpoints is the schedule of cumulative snapshots: the listed offsets
// from a flow's first packet, then every Every after the last one (0 = no
// repetition).
type Checkpoints struct {
	At    []time.Duration
	Every time.Duration
}

// DefaultCheckpoints is 30 s, 60 s, 120 s, 300 s, then every 300 s.
func DefaultCheckpoints() Checkpoints {
	return Checkpoints{At: []time.Duration{30 * time.Second, 60 * time.Second, 120 * time.Second, 300 * time.Second}, Every: 300 * time.Second}
}

// ModelCheckpoints is when the flow classifier trains and scores: 60 s,
// 120 s, 300 s, then every 300 s. The 30 s rows stay in feature exports
// for research, but the model does not use them: half a minute holds a
// handful of packets, and with them in training the forest did worse on
// every measure (grouped CV on the shared datasets, mw51x: ROC AUC 0.92 →
// 0.98 without them, TLS flows found 10/15 → 14/15, false benign flows
// 3 → 1); a mining connection lives for hours, so 30 s of delay is cheap.
func ModelCheckpoints() Checkpoints {
	return Checkpoints{At: []time.Duration{60 * time.Second, 120 * time.Second, 300 * time.Second}, Every: 300 * time.Second}
}

// MinScoreDataPkts is how many data packets a flow needs at a row for
// the classifier to score it (detect) and to train and be evaluated on it
// (train, eval): a request and its answer. A shadowsocks mining session
// shows just that, login and first job, until its first share a minute
// later; a TLS 1.3 one five (ClientHello, ServerHello…, Finished, login,
// tickets and job). The engine used 6 while it scored from 60 s.
const MinScoreDataPkts = 2

// Next returns the first checkpoint strictly after prev (0 = none).
func (c Checkpoints) Next(prev time.Duration) time.Duration { return c.next(prev) }

// ParseCheckpoints parses "30,60,120,300,+300": offsets in seconds (or Go
// durations like 90s, 2m), an optional "+N" last item meaning "then every
// N", or "none".
func ParseCheckpoints(s string) (Checkpoints, error) {
	var c Checkpoints
	if s == "none" || s == "" {
		return c, nil
	}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		repeat := strings.HasPrefix(item, "+")
		d, err := parseSeconds(strings.TrimPrefix(item, "+"))
		if err != nil || d <= 0 {
			return c, fmt.Errorf("checkpoint %q: want a positive number of seconds or a duration like 90s", item)
		}
		if repeat {
			if i != len(strings.Split(s, ","))-1 {
				return c, fmt.Errorf("checkpoint %q: the +N repetition must come last", item)
			}
			c.Every = d
			continue
		}
		c.At = append(c.At, d)
	}
	sort.Slice(c.At, func(i, j int) bool { return c.At[i] < c.At[j] })
	return c, nil
}

func parseSeconds(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// String renders the schedule in ParseCheckpoints' syntax.
func (c Checkpoints) String() string {
	var parts []string
	for _, d := range c.At {
		parts = append(parts, strconv.FormatFloat(d.Seconds(), 'g', -1, 64))
	}
	if c.Every > 0 {
		parts = append(parts, "+"+strconv.FormatFloat(c.Every.Seconds(), 'g', -1, 64))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// last returns the last listed checkpoint (0 when none).
func (c Checkpoints) last() time.Duration {
	if len(c.At) == 0 {
		return 0
	}
	return c.At[len(c.At)-1]
}

// next returns the first checkpoint strictly after prev (0 = none yet).
func (c Checkpoints) next(prev time.Duration) time.Duration {
	for _, d := range c.At {
		if d > prev {
			return d
		}
	}
	if c.Every <= 0 {
		return 0
	}
	base := time.Duration(0)
	if n := len(c.At); n > 0 {
		base = c.At[n-1]
	}
	if prev < base {
		return base + c.Every
	}
	return prev + c.Every - (prev-base)%c.Every
}

// Row is one feature row: a flow at a checkpoint, in a window, or at end.
// Values is reused between rows; copy it to keep it.
type Row struct {
	Flow *flows.Flow
	Kind string
	// Checkpoint is the checkpoint's offset (KindCheckpoint) or the
	// window's index (KindWindow); 0 for KindEnd.
	Checkpoint time.Duration
	Window     int
	// Start and End bound the window: flow start and checkpoint time for a
	// checkpoint, the window bounds for a window, flow start and last
	// packet for an end row.
	Start, End         time.Time
	First, Last        time.Time // first and last packet inside the window
	UpPkts, DownPkts   uint32
	UpBytes, DownBytes uint64 // IP bytes
	Values             *Vector
	// Late marks an end row that comes after the flow's first checkpoint
	// with packets its last checkpoint row did not see: the model scores
	// it (see TrackerConfig.LateEndRow).
	Late bool

	// The deferred periodicity features (TrackerConfig.DeferPeriod): what
	// CompletePeriod needs to compute them during the emit call.
	acc     *Accumulator
	scratch *periodScratch
	endNs   int64
	pending uint8
}

// PeriodPending reports which directions' periodicity features the row
// was emitted without (TrackerConfig.DeferPeriod): their columns hold NaN
// until CompletePeriod computes them. A direction with too few data
// packets for a period is never pending: its NaN is its value.
func (r *Row) PeriodPending() (down, up bool) {
	return r.pending&pendingDown != 0, r.pending&pendingUp != 0
}

// CompletePeriod computes direction dir's deferred period and strength
// into Values, as an eager row would have them (bit for bit); nothing if
// they are not pending. Only during the emit call: the row's flow state
// is not kept past it.
func (r *Row) CompletePeriod(dir packet.Direction) {
	bit := pendingDown
	if dir == packet.Up {
		bit = pendingUp
	}
	if r.pending&bit == 0 {
		return
	}
	r.acc.periodFor(r.Values, dir, r.endNs, r.scratch)
	r.pending &^= bit
}

// PeriodColumns returns the columns of the periodicity features in the
// named feature set's slice of a Vector: down_period and its strength,
// up_period and its strength; ok is false for a set without them.
func PeriodColumns(set string) (down, up [2]int, ok bool) {
	switch set {
	case SetMW51, SetMW51X, SetMW51XSeq:
		c := periodCol
		return [2]int{c, c + 1}, [2]int{c + 2, c + 3}, true
	}
	return down, up, false
}

// TrackerConfig selects what rows a Tracker emits.
type TrackerConfig struct {
	Checkpoints Checkpoints
	// Window > 0 also emits a row per fixed window of this length.
	Window time.Duration
	// NoEndRow suppresses the final whole-flow row.
	NoEndRow bool
	// Skip, if set, is asked before each row is computed; true skips the
	// row (a detector that already decided a flow needs no more of them,
	// and a snapshot is the expensive part).
	Skip func(f *flows.Flow, kind string) bool
	// MinDataPkts > 0 skips, like Skip, every row whose flow (or window)
	// holds fewer data packets, both directions together: a consumer that
	// ignores such rows (the model's MinScorePackets) then pays for no
	// snapshot of them, and most flows on a busy link never reach it.
	MinDataPkts uint32
	// LateEndRow marks (Row.Late) and, even with NoEndRow, emits the end
	// row of a flow that reached its first checkpoint and saw packets
	// after its last checkpoint row: a flow that ends (or goes quiet
	// until the flow table expires it) between checkpoints is scored at
	// its end, so a miner that reconnects every few minutes does not slip
	// between them.
	LateEndRow bool
	// NoSeq skips the packet-sequence set's per-flow state (120 bytes from
	// a flow's first data packet on) when nothing reads it: its columns
	// are then those of a flow without data.
	NoSeq bool
	// DeferPeriod emits rows without the periodicity features, the costly
	// part of a snapshot (an FFT autocorrelation per direction): the emit
	// callback computes those it needs with Row.CompletePeriod. For a
	// consumer that can often decide without them (the model: see
	// forest.BelowWithout), and only when nothing else reads the rows.
	DeferPeriod bool
	// SizeOverhead grows every data packet by this many bytes in the
	// features (see Accumulator.SetOverhead); 0 for real use.
	SizeOverhead int
}

// State is a flow's feature state, created by Tracker.Start (which
// clears a recycled one field by field: a new field needs its line there).
type State struct {
	cum    Accumulator
	nextCP time.Duration
	win    *window // only with fixed windows: most users never pay for it
	// seq is the packet-sequence state, from the first data packet on
	// (kept across recycling, like win).
	seq *seqfeat.Seq
	// cpPkts is how many packets the last checkpoint row saw (LateEndRow).
	cpPkts uint32
}

// A State stays within the 416-byte size class (its Accumulator is 384
// bytes): a million flows pay 32 MB more at the next one, 448.
var _ [416 - unsafe.Sizeof(State{})]struct{}

// window is the fixed-window accumulator of a flow.
type window struct {
	acc   Accumulator
	index int
	start time.Time
}

// Tracker keeps one Accumulator per flow and emits rows through Emit.
// Per-flow state hangs off flows.Flow.Data (via State/SetState helpers the
// caller provides), so the tracker itself holds no per-flow map.
type Tracker struct {
	cfg     TrackerConfig
	emit    func(*Row)
	vec     Vector
	row     Row
	scratch periodScratch
	firstCP time.Duration
	// free holds released states for reuse: a busy link ends as many
	// flows as it starts, so most new states need no allocation.
	free []*State
	// replay is the packet a Lazy state's prelude is replayed into.
	replay packet.Packet
}

// maxFree bounds the recycled states kept (up to 2 MiB of them with their
// second-data-packet blocks): enough to absorb churn, not so many that a
// past flood stays resident.
const maxFree = 1024

// NewTracker returns a tracker that calls emit for every row.
func NewTracker(cfg TrackerConfig, emit func(*Row)) *Tracker {
	t := &Tracker{cfg: cfg, emit: emit, firstCP: cfg.Checkpoints.next(0)}
	t.scratch.memo = newPeriodMemo()
	return t
}

// Start creates the feature state of a new flow (recycling a released one
// when it can).
func (t *Tracker) Start(f *flows.Flow) *State {
	var s *State
	if n := len(t.free); n > 0 {
		s, t.free = t.free[n-1], t.free[:n-1]
		// Keep what a released state had allocated (its window, the
		// second-data-packet blocks, which Reset keeps too, and the
		// sequence record): a new flow reuses them instead of allocating.
		// The fields besides cum one by one: cum.Reset below clears
		// the accumulator (keeping its blocks), and zeroing the whole
		// 416-byte State first as well cost every new flow a second
		// pass over it.
		s.cpPkts = 0
		if s.seq != nil {
			*s.seq = seqfeat.Seq{}
		}
	} else {
		s = &State{}
	}
	s.cum.SetOverhead(t.cfg.SizeOverhead)
	s.cum.Reset(f.First)
	s.nextCP = t.firstCP
	if t.cfg.Window > 0 {
		if s.win == nil {
			s.win = &window{}
		}
		*s.win = window{start: f.First}
		s.win.acc.SetOverhead(t.cfg.SizeOverhead)
		s.win.acc.Reset(f.First)
	} else {
		s.win = nil
	}
	return s
}

// Release hands a state back after End for reuse by a later Start; s
// must not be used afterwards.
func (t *Tracker) Release(s *State) {
	if s != nil && len(t.free) < maxFree {
		t.free = append(t.free, s)
	}
}

// Due reports whether a state started for f would emit a row at now (its
// first checkpoint or first window has ended): a lazily kept flow must
// get its state before then, so the row comes when it would have.
func (t *Tracker) Due(f *flows.Flow, now time.Time) bool {
	// !now.Before(f.First.Add(t.firstCP)) in nanoseconds (exact for any
	// flow shorter than 292 years): time.Time's Add and Before cost each
	// header-only packet of a handshake four times as much.
	if t.firstCP > 0 && now.UnixNano()-f.First.UnixNano() >= int64(t.firstCP) {
		return true
	}
	return t.cfg.Window > 0 && !now.Before(f.First.Add(t.cfg.Window))
}

// EndEmits reports whether End emits any row (else a flow that never
// earned a state needs none at its end either).
func (t *Tracker) EndEmits() bool { return !t.cfg.NoEndRow || t.cfg.Window > 0 }

// Packet accounts p, first emitting the checkpoints and windows that p's
// time has passed.
func (t *Tracker) Packet(s *State, f *flows.Flow, p *packet.Packet, dir packet.Direction) {
	// advance's own tests first: most packets pass no checkpoint, and the
	// call cost them more than the tests.
	if s.win != nil || s.nextCP > 0 && time.Duration(p.Time.UnixNano()-s.cum.start) >= s.nextCP {
		t.advance(s, f, p.Time)
	}
	s.cum.Add(p, dir)
	if p.PayloadLen > 0 && !t.cfg.NoSeq {
		if s.seq == nil {
			s.seq = new(seqfeat.Seq)
		}
		s.seq.Add(p.Time.UnixNano(), dir == packet.Down, p.Payload, p.PayloadLen, p.Seq, p.HasTCP, t.cfg.SizeOverhead)
	}
	if s.win != nil {
		s.win.acc.Add(p, dir)
	}
}

// Advance emits the rows of checkpoints and windows that ended at or
// before now, with no packet since (a quiet flow on a live link).
func (t *Tracker) Advance(s *State, f *flows.Flow, now time.Time) { t.advance(s, f, now) }

// advance emits the checkpoints and windows that end at or before now.
// When a packet passes several checkpoints at once (the flow was idle
// across them, or a capture's clock jumped), each listed checkpoint is
// emitted, as Advance on a live link emits each when it comes due: a
// session quiet after its login is scored at 10, 20 and 30 s online, and
// must be offline too (and train on those rows). Of the repetitions
// after the last listed one only the last is emitted: they would repeat
// it (no packet came in between), and a packet stamped a year ahead must
// not cost a hundred thousand snapshots.
func (t *Tracker) advance(s *State, f *flows.Flow, now time.Time) {
	// The flow's age at now, from its first packet (s.cum.start, which
	// Start set to f.First): !now.Before(f.First.Add(cp)) is age >= cp
	// for any flow shorter than 292 years, without time.Time's Add and
	// Before at every packet.
	age := time.Duration(now.UnixNano() - s.cum.start)
	for s.nextCP > 0 && age >= s.nextCP {
		cp := s.nextCP
		if cp > t.cfg.Checkpoints.last() {
			for next := t.cfg.Checkpoints.next(cp); next > 0 && age >= next; next = t.cfg.Checkpoints.next(cp) {
				// Jump straight to the last repetition before now.
				k := (now.Sub(f.First) - next) / t.cfg.Checkpoints.Every
				cp = next + k*t.cfg.Checkpoints.Every
			}
		}
		t.emitRow(&s.cum, s.seq, f, KindCheckpoint, cp, 0, f.First, f.First.Add(cp), false)
		up, down := s.cum.Packets()
		s.cpPkts = up + down
		s.nextCP = t.cfg.Checkpoints.next(cp)
	}
	if w := s.win; w != nil && !now.Before(w.start.Add(t.cfg.Window)) {
		end := w.start.Add(t.cfg.Window)
		if w.acc.first != 0 {
			t.emitRow(&w.acc, nil, f, KindWindow, 0, w.index, w.start, end, false)
		}
		// Empty windows in between are skipped in one step.
		k := int(now.Sub(w.start) / t.cfg.Window)
		w.index += k
		w.start = w.start.Add(time.Duration(k) * t.cfg.Window)
		w.acc.Reset(w.start)
	}
}

// End emits the final rows of a flow: its last partial window and the
// whole-flow row.
func (t *Tracker) End(s *State, f *flows.Flow) {
	if w := s.win; w != nil && w.acc.first != 0 {
		t.emitRow(&w.acc, nil, f, KindWindow, 0, w.index, w.start, w.acc.Last(), false)
	}
	if late := t.lateEnd(s, f); !t.cfg.NoEndRow || late {
		t.emitRow(&s.cum, s.seq, f, KindEnd, 0, 0, f.First, s.cum.Last(), late)
	}
}

// lateEnd reports whether a LateEndRow tracker owes flow f an end row.
func (t *Tracker) lateEnd(s *State, f *flows.Flow) bool {
	if !t.cfg.LateEndRow || t.firstCP <= 0 || s.cum.Last().Sub(f.First) < t.firstCP {
		return false
	}
	up, down := s.cum.Packets()
	return up+down != s.cpPkts
}

// Snapshot computes the flow's features so far (for scoring outside the
// checkpoint schedule) into v.
func (t *Tracker) Snapshot(s *State, end time.Time, v *Vector) {
	s.cum.snapshot(end.UnixNano(), v, &t.scratch, false)
	seqfeat.Fill(v.Set(SetSeq), s.seq, float64(end.UnixNano()-s.cum.first)/1e9, end.UnixNano())
}

func (t *Tracker) emitRow(a *Accumulator, seq *seqfeat.Seq, f *flows.Flow, kind string, cp time.Duration, win int, start, end time.Time, late bool) {
	if t.cfg.MinDataPkts > 0 && a.up.dataPkts+a.down.dataPkts < t.cfg.MinDataPkts {
		return
	}
	if t.cfg.Skip != nil && t.cfg.Skip(f, kind) {
		return
	}
	endNs := end.UnixNano()
	pending := a.snapshot(endNs, &t.vec, &t.scratch, t.cfg.DeferPeriod)
	// The sequence is the flow's first messages: a window row has none.
	seqfeat.Fill(t.vec.Set(SetSeq), seq, end.Sub(f.First).Seconds(), end.UnixNano())
	r := &t.row
	*r = Row{Flow: f, Kind: kind, Late: late, Checkpoint: cp, Window: win, Start: start, End: end,
		First: a.First(), Last: a.Last(), Values: &t.vec,
		acc: a, scratch: &t.scratch, endNs: endNs, pending: pending}
	r.UpPkts, r.DownPkts = a.Packets()
	r.UpBytes, r.DownBytes = a.IPBytes()
	t.emit(r)
	r.acc, r.scratch, r.pending = nil, nil, 0
}
