package parallel

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/online"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/defrag"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Config configures a run.
type Config struct {
	// Engine is every worker's engine configuration. Run sets Capture,
	// OnFlowEnd, and divides Flows.MaxFlows
	// and ReassemblyBudget among the workers.
	Engine engine.Config
	// Workers is the number of engines (at least 1).
	Workers int
	// Names are the capture files' names, by the index given to
	// capture.Open, for the alerts' capture field.
	Names []string
	// EpochPackets is how many packets the reader hands out between two
	// merge points (0 = 1024). Larger epochs cost memory, smaller ones
	// synchronisation.
	EpochPackets int
	// Depth is how many epochs a worker may run ahead of the merger
	// (0 = 8). Depth × EpochPackets is how far the workers may drift
	// apart: 8 × 1024 packets hold the same slack as 4 × 4096 did with
	// 40 % of the memory in flight (merged-k10: max RSS 112–121 MiB
	// instead of 150, for about the same CPU time).
	Depth int
	// SkipBadFiles goes on with the other files when one fails while
	// being read (as ingest.Options.SkipBadFiles).
	SkipBadFiles bool
	// Progress, if set, is called by the reader every 65536 records.
	Progress func(records int64)
	// maxLines is maxLines for the tests (0 = maxLines).
	maxLines int
}

// Stats are the counters of a run.
type Stats struct {
	Capture capture.Stats
	Decode  decode.Stats
	Defrag  defrag.Stats
	// Engine sums the workers' engine counters.
	Engine engine.Stats
	// WorkerPackets is how many packets each worker received.
	WorkerPackets []int64
	// Requests counts the decisions the workers left to the merger
	// (engine.Request: a new flow's, a flow end's, ...).
	Requests int64
	// Idle is how long each worker waited for an epoch to work on, or
	// for the merger to take one back; ReaderIdle how long the reader
	// waited for a worker to take an epoch, or for a free one;
	// MergerIdle how long the merger waited for the workers. No worker
	// ever waits for another's packets; these are the pipeline's stalls.
	Idle       []time.Duration
	ReaderIdle time.Duration
	MergerIdle time.Duration
}

// Run reads r to its end (or until ctx ends), detects on cfg.Workers
// engines, and calls out for every alert, from the calling goroutine, in
// the order one engine would have raised them. Every flow is flushed at
// the end, also when ctx ended early. An error from out stops the reading
// (the alerts after it are dropped) and is returned; so is a read error.
// The host summaries are merged over the workers.
func Run(ctx context.Context, r *capture.Reader, cfg Config, out func(*alert.Alert) error) (Stats, []*engine.HostSummary, error) {
	n := max(cfg.Workers, 1)
	if cfg.EpochPackets <= 0 {
		cfg.EpochPackets = 1024
	}
	if cfg.Depth <= 0 {
		cfg.Depth = 8
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Epochs are made as the reader needs them, up to Depth+2 in flight
	// (a short capture needs a few), then recycled.
	free := make(chan *epoch, cfg.Depth+2)
	workers := make([]*worker, n)
	for i := range workers {
		workers[i] = newWorker(i, n, cfg)
	}
	rd := &reader{r: r, cfg: cfg, workers: workers, free: free, sp: online.NewSpreader(n), maxEpochs: cfg.Depth + 2,
		pool: &sync.Pool{New: func() any { return new(spillBuf) }}}
	var wg sync.WaitGroup
	wg.Add(1 + n)
	// Labelled for CPU profiles (go tool pprof -tags): what each role
	// and each worker takes, the balance between workers included.
	go func() {
		defer wg.Done()
		pprof.Do(ctx, pprof.Labels("parallel", "reader"), rd.run)
	}()
	for _, w := range workers {
		go func() {
			defer wg.Done()
			pprof.Do(ctx, pprof.Labels("parallel", "worker "+strconv.Itoa(w.id)), func(context.Context) { w.run() })
		}()
	}

	// The merger takes the epochs back in capture order and hands the
	// workers' alerts and requests, in one engine's order, to the one
	// Decider: it alone reads and changes what crosses flows.
	var (
		outErr     error
		mergerIdle time.Duration
	)
	m := &merger{names: cfg.Names}
	dc := cfg.Engine
	dc.Capture = m.capture
	m.dec = engine.NewDecider(dc, func(a *alert.Alert) {
		if outErr == nil {
			if outErr = out(a); outErr != nil {
				cancel()
			}
		}
		// Its line is in the epoch's share (worker.seal), which the
		// reader refills once the epoch is merged.
		a.Unseal()
	})
	for {
		t0 := time.Now()
		ep := <-workers[0].done
		for _, w := range workers[1:] {
			if e := <-w.done; e != ep {
				panic("parallel: workers out of step") // the channels are FIFO: cannot happen
			}
		}
		mergerIdle += time.Since(t0)
		m.merge(ep)
		if ep.final {
			// Every worker has flushed: the rate limits' open intervals
			// are summarised once, after every flow, as one engine's
			// Flush does.
			m.dec.Flush()
			break
		}
		free <- ep
	}
	wg.Wait()

	st := Stats{Capture: r.Stats(), Decode: rd.sp.DecodeStats(), Defrag: rd.sp.DefragStats(),
		Engine: engine.Stats{Alerts: map[string]int64{}}}
	for _, w := range workers {
		st.WorkerPackets = append(st.WorkerPackets, w.packets)
		st.Idle = append(st.Idle, w.idle)
		st.Engine.Add(w.eng.Stats())
	}
	st.Requests, st.ReaderIdle, st.MergerIdle = m.requests, rd.idle, mergerIdle
	m.dec.Correct(&st.Engine)
	err := outErr
	if err == nil {
		err = rd.err
	}
	return st, m.dec.Hosts(), err
}

// frame is one packet of a worker's share of an epoch, as the reader
// decoded it (decoding it again in the worker was a twentieth of the
// run's CPU time); its payload is slab[off:off+n] (p.Payload is nil: the
// reader's buffers are reused).
type frame struct {
	idx    int32 // position in the epoch
	file   int32
	off, n int32
	hash   uint64 // the flow hash the worker was picked by
	p      packet.Packet
}

// share is one worker's part of an epoch: its frames in, its events
// (alerts and requests) out.
type share struct {
	frames []frame
	slab   []byte
	events []event
	reqs   []engine.Request
	// lines holds the JSON lines of the share's alerts (alert.SealAppend),
	// reused with the epoch: the merger writes (and unseals) every alert
	// it keeps before the epoch goes back to the reader.
	lines []byte
	// spill takes the lines beyond maxLines, in chunks of spillChunk
	// bytes (spilled: the chunks in use) that go back to a pool shared
	// by the epochs, not with this one.
	spill   []byte
	spilled []*spillBuf
	pool    *sync.Pool
	flushed []flushedFlow // final epoch: each flow flushed, in order
}

// flushedFlow is what one table's Flush compares its list heads by, and
// where among the worker's events the flow's engine.RequestEnd was (end:
// the number of events before it; -1 for none). Flushed flows carry it
// here rather than as an event each: a flush may end a million flows.
type flushedFlow struct {
	last  time.Time
	class uint8
	end   int32
	id    uint64 // flow ID
}

// lruClass is the LRU list a flow sits on in flows.Table (its touch
// method; the values keep the table's class order: half-open, TCP with
// data, UDP and other protocols, closed TCP). Kept in step with it by
// the tests that compare the workers' output with one engine's.
func lruClass(f *flows.Flow) uint8 {
	switch {
	case f.Proto != packet.ProtoTCP:
		return 2
	case f.Closed():
		return 3
	case f.Up.Payload == 0 && f.Down.Payload == 0:
		return 0
	}
	return 1
}

// epoch is the unit the reader hands out, the workers fill in and the
// merger takes back; epochs are recycled through a free list.
type epoch struct {
	base int64 // capture position of files[0]
	// ticks are the packets after which the capture's packet clock moved
	// on, in order, with its new time: only there may a table expire
	// flows. Most packets of a busy link move it, but a worker then walks
	// the ticks as a list of its own rather than comparing every
	// packet's time with the last (that walk was a tenth of the parallel
	// run's extra instructions).
	ticks []tick
	// files is each packet's input file (the capture name of what the
	// engine emits at its time-outs; for the final epoch, files[0] is the
	// last packet's, for the summaries swept at the end); its length is
	// the epoch's packet count.
	files  []int32
	final  bool // no packets: flush every flow
	shares []share
}

// tick is a packet (by its index in the epoch) that moved the capture's
// clock on to t, which is also ns Unix nanoseconds: a worker compares
// those with its table's next expiry, as the table does (time.Time's
// After and the table's Advance at every tick were a tenth of the
// workers' extra instructions).
type tick struct {
	idx int32
	ns  int64
	t   time.Time
}

// maxLines bounds a share's alert lines buffer: a typical epoch (1,024
// packets of the merged bench capture raise about 30 events) needs a
// tenth of it; the events beyond it (a burst of flows timed out together
// when the capture's clock jumps, the final flush) go to chunks of
// spillChunk bytes, which go back to a pool shared by the epochs once
// written (the collector frees what the pool keeps too long), rather
// than a buffer that grows for the burst and stays that size in every
// recycled epoch. (A line of its own per event, as before, allocated
// three times its size — 1 KiB, then 2 KiB as most lines are longer —
// and was a quarter of the 2-worker run's allocations on merged-k10.)
const (
	maxLines   = 64 << 10
	spillChunk = 64 << 10
)

// spillBuf is one chunk of spilled lines.
type spillBuf [spillChunk]byte

// newEpoch returns an epoch of size packets whose shares' frames and
// slabs have room for frames and slab (0: a fair share of typical
// payloads; the merged shared captures average 190-byte frames).
func newEpoch(workers, size, frames, slab int, pool *sync.Pool) *epoch {
	ep := &epoch{ticks: make([]tick, 0, size), files: make([]int32, 0, size), shares: make([]share, workers)}
	per := size/workers + size/8
	frames, slab = max(frames, per), max(slab, per*128)
	for i := range ep.shares {
		ep.shares[i].frames = make([]frame, 0, frames)
		ep.shares[i].slab = make([]byte, 0, slab)
		ep.shares[i].pool = pool
	}
	return ep
}

// next returns an epoch to fill: a recycled one, or a new one while fewer
// than maxEpochs exist.
func (rd *reader) next(base int64) *epoch {
	var ep *epoch
	select {
	case ep = <-rd.free:
	default:
		if rd.made < rd.maxEpochs {
			rd.made++
			// As large as the largest share so far: all the epochs in
			// flight are made in the first few (each filled before the
			// next is made), and a slab that grows by doubling left its
			// size again in garbage (51 MB of the 2-worker run's
			// allocations on merged-k10).
			ep = newEpoch(len(rd.workers), rd.cfg.EpochPackets, rd.frames, rd.slab, rd.pool)
		} else {
			t0 := time.Now()
			ep = <-rd.free
			rd.idle += time.Since(t0)
		}
	}
	ep.reset(base)
	return ep
}

func (ep *epoch) reset(base int64) {
	ep.base, ep.final, ep.ticks, ep.files = base, false, ep.ticks[:0], ep.files[:0]
	for i := range ep.shares {
		s := &ep.shares[i]
		clear(s.events) // drop the alerts and requests for the collector
		clear(s.reqs)
		s.frames, s.slab, s.events, s.reqs, s.flushed, s.lines = s.frames[:0], s.slab[:0], s.events[:0], s.reqs[:0], s.flushed[:0], s.lines[:0]
		// The alerts sealed into the spill chunks are written (or
		// dropped): the chunks can take the next burst's lines.
		for i, b := range s.spilled {
			s.pool.Put(b)
			s.spilled[i] = nil
		}
		s.spill, s.spilled = nil, s.spilled[:0]
	}
}

// Phases order the events raised at one capture position, as one engine
// raises them: flows timed out by the packet's time first, then the
// packet's own flow; the final flush comes after every packet.
const (
	phaseExpire uint8 = iota
	phasePacket
	phaseFlush
)

// event is an alert or a request and where in the capture it was raised.
type event struct {
	pos   int64
	phase uint8
	kind  uint8 // evAlert, evRequest, evEnd, evScored
	// For the events of a flow's end (time-out or flush): its LRU class,
	// its last packet's time, and which ended flow of the worker it is.
	class  uint8
	last   time.Time
	grp    int32
	worker int32
	idx    int32  // order within the worker
	req    int32  // evRequest: index in the share's reqs
	fid    uint64 // the flow (at a time-out, the ending flow)
	a      *alert.Alert
}

// Event kinds. The two commonest requests (a flow's end, a row scored)
// need no more than an event's fields.
const (
	evAlert uint8 = iota
	evRequest
	evEnd
	evScored
)

type reader struct {
	r       *capture.Reader
	cfg     Config
	workers []*worker
	free    chan *epoch
	sp      *online.Spreader
	err     error // read error, set before the final epoch is sent

	made, maxEpochs int // epochs made so far, and the most in flight
	idle            time.Duration
	// frames and slab are the largest share's capacities so far (see
	// next); pool holds the alert lines' spill chunks.
	frames, slab int
	pool         *sync.Pool
}

func (rd *reader) send(ep *epoch) {
	for i := range ep.shares {
		rd.frames, rd.slab = max(rd.frames, cap(ep.shares[i].frames)), max(rd.slab, cap(ep.shares[i].slab))
	}
	t0 := time.Now()
	for _, w := range rd.workers {
		w.in <- ep
	}
	rd.idle += time.Since(t0)
}

func (rd *reader) run(ctx context.Context) {
	var (
		rec   capture.Record
		clock time.Time
		pos   int64
		nrec  int64
		last  int32 // the last packet's file
	)
	ep := rd.next(0)
	defer func() {
		rd.sp.Flush()
		if len(ep.files) > 0 {
			rd.send(ep)
			ep = rd.next(pos)
		}
		ep.final = true
		ep.files = append(ep.files, last)
		rd.send(ep)
		for _, w := range rd.workers {
			close(w.in)
		}
	}()
	for {
		if nrec%4096 == 0 && ctx.Err() != nil {
			return
		}
		if err := rd.r.Next(&rec); err != nil { // errors.Is is a call: not for every packet
			if errors.Is(err, io.EOF) {
				return
			}
			if rd.cfg.SkipBadFiles && isFileError(err) {
				continue
			}
			rd.err = fmt.Errorf("read packets: %w", err)
			return
		}
		if nrec++; rd.cfg.Progress != nil && nrec%65536 == 0 {
			rd.cfg.Progress(nrec)
		}
		q, wk, hash, _, ok := rd.sp.SpreadHash(rec.LinkType, rec.Data, rec.Time, rec.OrigLen)
		if !ok || q == nil {
			continue // undecodable, or a fragment held for reassembly
		}
		// The flow table's clock: packets without ports do not move it
		// (flows.Table.Add counts them before reading the time).
		if (q.HasPorts || (q.Proto != packet.ProtoTCP && q.Proto != packet.ProtoUDP)) && q.Time.After(clock) {
			clock = q.Time
			ep.ticks = append(ep.ticks, tick{idx: int32(len(ep.files)), ns: clock.UnixNano(), t: clock})
		}
		s := &ep.shares[wk]
		// Filled in place: append(s.frames, frame{...}) built the frame
		// (184 bytes, its packet included) on the stack and copied it again.
		n := len(s.frames)
		if n == cap(s.frames) {
			s.frames = slices.Grow(s.frames, 1)
		}
		s.frames = s.frames[:n+1]
		fr := &s.frames[n]
		fr.idx, fr.file, fr.off, fr.n, fr.hash = int32(len(ep.files)), int32(rec.File), int32(len(s.slab)), int32(len(q.Payload)), hash
		fr.p = *q
		fr.p.Payload = nil
		if len(s.slab)+len(q.Payload) > cap(s.slab) {
			// Straight to the largest share's size so far, not by
			// doubling: see next.
			s.slab = slices.Grow(s.slab, max(len(q.Payload), rd.slab-len(s.slab)))
			rd.slab = max(rd.slab, cap(s.slab))
		}
		s.slab = append(s.slab, q.Payload...)
		ep.files = append(ep.files, int32(rec.File))
		last = int32(rec.File)
		pos++
		if len(ep.files) == cap(ep.files) {
			rd.send(ep)
			ep = rd.next(pos)
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// worker owns one engine; only its goroutine touches it until Run's end.
type worker struct {
	id      int
	eng     *engine.Engine
	names   []string
	in      chan *epoch
	done    chan *epoch
	packets int64
	idle    time.Duration // waiting for an epoch, or to hand one back
	// maxLines bounds the share's recycled lines buffer (see maxLines).
	maxLines int

	// Set while an epoch is processed, read by the engine's callbacks.
	sh    *share
	pos   int64
	phase uint8
	file  int
	// Of the flow whose end is being reported: its LRU class, its last packet's
	// time, and a count of ended flows that tells their alerts apart.
	class uint8
	last  time.Time
	grp   int32
	fid   uint64 // the ending flow's ID
}

func newWorker(id, n int, cfg Config) *worker {
	w := &worker{id: id, names: cfg.Names, in: make(chan *epoch, cfg.Depth), done: make(chan *epoch, cfg.Depth), maxLines: cfg.maxLines}
	if w.maxLines <= 0 {
		w.maxLines = maxLines
	}
	ec := cfg.Engine
	ec.Defer = w.request
	// The memory caps are the run's, shared out: N workers hold what one
	// engine would.
	if ec.Flows.MaxFlows > 0 {
		ec.Flows.MaxFlows = max(ec.Flows.MaxFlows/n, 1)
	}
	if ec.ReassemblyBudget > 0 {
		ec.ReassemblyBudget = max(ec.ReassemblyBudget/int64(n), 1)
	}
	ec.Capture = func() string {
		if w.file < len(w.names) {
			return w.names[w.file]
		}
		return ""
	}
	ec.OnFlowEnd = func(f *flows.Flow, _ flows.EndReason) {
		w.class, w.last, w.grp, w.fid = lruClass(f), f.Last(), w.grp+1, f.ID
		if w.phase == phaseFlush {
			// Every flushed flow, alerted or not, for the merger's
			// flush order; grp numbers them from 0.
			w.sh.flushed = append(w.sh.flushed, flushedFlow{last: f.Last(), class: w.class, end: -1, id: f.ID})
			w.grp = int32(len(w.sh.flushed) - 1)
		}
	}
	w.eng = engine.New(ec, w.alert)
	return w
}

// event returns a new event at the worker's place in the capture, of
// flow fid (unless the worker is ending a flow: then of that flow).
func (w *worker) event(kind uint8, fid uint64) *event {
	if w.phase != phasePacket {
		fid = w.fid
	}
	w.sh.events = append(w.sh.events, event{pos: w.pos, phase: w.phase, kind: kind, class: w.class, last: w.last, grp: w.grp,
		worker: int32(w.id), idx: int32(len(w.sh.events)), fid: fid})
	return &w.sh.events[len(w.sh.events)-1]
}

func (w *worker) alert(a *alert.Alert) {
	// Encoded here, in parallel, rather than by the writer, which runs in
	// the one goroutine that merges all workers' alerts in order (with
	// encoding/json the encoding was a sixth of one engine's CPU time on
	// the merged bench capture). An error is found again, and reported,
	// by the writer.
	w.seal(a)
	w.event(evAlert, a.FlowID).a = a
}

// seal encodes a into the share's lines (no allocation per alert), up to
// maxLines, then into spill chunks.
func (w *worker) seal(a *alert.Alert) {
	sh := w.sh
	if len(sh.lines) < w.maxLines {
		sh.lines, _ = a.SealAppend(sh.lines)
		return
	}
	// Room for a long line; a longer one grows the chunk (the lines
	// before keep the old one).
	if cap(sh.spill)-len(sh.spill) < 4<<10 {
		b := sh.pool.Get().(*spillBuf)
		sh.spilled = append(sh.spilled, b)
		sh.spill = b[:0]
	}
	sh.spill, _ = a.SealAppend(sh.spill)
}

// request is the engine's Config.Defer: the request joins the worker's
// events, for the merger's Decider.
func (w *worker) request(r *engine.Request) {
	switch r.Kind {
	case engine.RequestEnd:
		if w.phase == phaseFlush {
			w.sh.flushed[len(w.sh.flushed)-1].end = int32(len(w.sh.events))
			return
		}
		w.event(evEnd, r.Flow).last = r.Time // the same time: the ending flow's last packet
	case engine.RequestScored:
		w.event(evScored, r.Flow)
	default:
		if r.Alert != nil {
			w.seal(r.Alert) // see alert
		}
		if r.DNS != nil {
			for _, a := range r.DNS.Alerts {
				w.seal(a)
			}
		}
		w.sh.reqs = append(w.sh.reqs, *r)
		w.event(evRequest, r.Flow).req = int32(len(w.sh.reqs) - 1)
	}
}

func (w *worker) run() {
	t0 := time.Now()
	for ep := range w.in {
		w.idle += time.Since(t0)
		w.sh = &ep.shares[w.id]
		if ep.final {
			w.pos, w.phase = ep.base, phaseFlush
			w.sh.flushed = slices.Grow(w.sh.flushed, w.eng.ActiveFlows())
			w.eng.Flush()
			w.file = int(ep.files[0]) // the last packet's, as one engine's at its flush
			w.done <- ep
			t0 = time.Now()
			continue
		}
		// The worker's packets and the clock's ticks, merged by position:
		// at a tick, the flows that time out go first, as in one table.
		// Most ticks are other workers' packets and expire nothing here:
		// the table says until when (due), and those ticks cost a compare.
		frames, ticks, ti := w.sh.frames, ep.ticks, 0
		end := int32(len(ep.files))
		due := w.due()
		for {
			next := end // the next own packet's position
			if len(frames) > 0 {
				next = frames[0].idx
			}
			for ; ti < len(ticks) && ticks[ti].idx <= next; ti++ {
				tk := &ticks[ti]
				if !due.passed(tk) {
					continue
				}
				w.pos, w.phase = ep.base+int64(tk.idx), phaseExpire
				// One engine has read this packet's file name already.
				w.file = int(ep.files[tk.idx])
				w.eng.Expire(tk.t)
				due = w.due()
			}
			if len(frames) == 0 {
				break
			}
			f := &frames[0]
			frames = frames[1:]
			// The frame's own packet, not a copy: the engine keeps no
			// pointer to it (one engine's reader reuses its packet too),
			// and the reader refills the frame only once the epoch is
			// merged.
			f.p.Payload = w.sh.slab[f.off : f.off+f.n : f.off+f.n]
			w.pos = ep.base + int64(f.idx)
			w.packets++
			w.phase, w.file = phasePacket, int(f.file)
			w.eng.PacketHashed(&f.p, f.hash) // the table need not hash the key again
			due = w.due()
		}
		t0 = time.Now()
		w.done <- ep
	}
}

// deadline is when the worker's table next expires a flow (see
// flows.Table.NextExpiry): a tick past it calls Expire, the others are
// skipped. check: the next tick calls it; ok false: no tick does.
type deadline struct {
	at        int64
	check, ok bool
}

func (w *worker) due() deadline {
	at, check, ok := w.eng.NextExpiry()
	return deadline{at: at, check: check, ok: ok}
}

// passed reports whether the clock's move to tk may expire a flow: the
// test flows.Table.Advance makes.
func (d deadline) passed(tk *tick) bool {
	return d.check || (d.ok && tk.ns-d.at > 0)
}

// merger orders the workers' events and applies them to the Decider.
type merger struct {
	dec      *engine.Decider
	names    []string
	events   []*event
	next     []int // per worker, its next event to merge
	requests int64
	// The epoch and position being applied, for the capture name of the
	// intel summaries the Decider emits.
	ep  *epoch
	pos int64
}

// capture is the Decider's Config.Capture: the name of the file of the
// packet whose events are applied (at the flush, the last packet's), as
// one engine's would be then.
func (m *merger) capture() string {
	i := 0
	if !m.ep.final {
		i = int(m.pos - m.ep.base)
	}
	if f := int(m.ep.files[i]); f < len(m.names) {
		return m.names[f]
	}
	return ""
}

// merge applies the epoch's events in one engine's order. Flow IDs need
// no translation: they hash the flow's key and first packet time
// (flows.FlowID), so every worker gives a flow one engine's ID.
func (m *merger) merge(ep *epoch) {
	m.ep = ep
	if ep.final {
		m.flushOrder(ep)
		return
	}
	m.mergeEvents(ep)
}

// mergeEvents applies the epoch's events in compare's order. Each
// worker's are in capture order already, so it merges them (a sort of
// all of them was two thirds of the merger's time at a million new flows)
// and applies them where they lie, but for the time-outs that several
// workers raised at one position: those it gathers and sorts first.
func (m *merger) mergeEvents(ep *epoch) {
	m.next = append(m.next[:0], make([]int, len(ep.shares))...)
	for {
		best := -1
		var bx *event
		for w := range ep.shares {
			evs := ep.shares[w].events
			if m.next[w] == len(evs) {
				continue
			}
			if x := &evs[m.next[w]]; best < 0 || x.pos < bx.pos || (x.pos == bx.pos && x.phase < bx.phase) {
				best, bx = w, x
			}
		}
		if best < 0 {
			break
		}
		if bx.phase != phaseExpire {
			m.next[best]++
			m.apply(bx)
			continue
		}
		// Every worker's time-outs at this position, in compare's order
		// (sorted by pointer: the events are 72 bytes, and a burst when
		// the capture's clock jumps is thousands of them).
		pos := bx.pos
		m.events = m.events[:0]
		for w := range ep.shares {
			evs := ep.shares[w].events
			for m.next[w] < len(evs) && evs[m.next[w]].pos == pos && evs[m.next[w]].phase == phaseExpire {
				m.events = append(m.events, &evs[m.next[w]])
				m.next[w]++
			}
		}
		if len(m.events) > 1 {
			slices.SortFunc(m.events, compare)
		}
		for i, e := range m.events {
			m.apply(e)
			m.events[i] = nil
		}
	}
}

// apply hands one event to the Decider.
func (m *merger) apply(e *event) {
	m.pos = e.pos
	switch e.kind {
	case evAlert:
		m.dec.Alert(e.a)
		return
	case evRequest:
		m.dec.Apply(&m.ep.shares[e.worker].reqs[e.req])
	case evEnd:
		m.dec.FlowEnded(e.fid, e.last)
	case evScored:
		m.dec.Apply(&engine.Request{Kind: engine.RequestScored, Flow: e.fid})
	}
	m.requests++
}

// flushOrder applies the final flush's events in one table's order. One
// table's Flush repeatedly ends the flow with the oldest last packet among
// the heads of its LRU lists; each worker's table did the same with its
// own lists, so taking, again and again, the worker whose next ended flow
// is oldest gives the one table's sequence — even where timestamps run
// backwards and the lists are not sorted by time (a global sort would
// not). Each flow's end request (flushedFlow.end) goes back among its
// events where the engine made it.
// flushedBefore: the older last packet; on a tie the earlier class, as
// flows.Table.Flush scans its lists in class order and keeps the first;
// then the flow ID (a hash: an arbitrary but fixed order). That last rule is not the table's — two flows of
// one list with one timestamp leave in LRU order, which the workers do
// not see — but it makes the order the same for any number of workers.
func flushedBefore(x, y flushedFlow) bool {
	if !x.last.Equal(y.last) {
		return x.last.Before(y.last)
	}
	if x.class != y.class {
		return x.class < y.class
	}
	return x.id < y.id
}

func (m *merger) flushOrder(ep *epoch) {
	// Per worker: its flushed flows in the order taken (ord), and where
	// each one's events start (first; a flow's events are consecutive).
	type flushSeq struct {
		ord, first []int32
		next       int
	}
	seqs := make([]flushSeq, len(ep.shares))
	for w := range ep.shares {
		sh, s := &ep.shares[w], &seqs[w]
		s.ord = make([]int32, len(sh.flushed))
		for i := range s.ord {
			s.ord[i] = int32(i)
		}
		// Flows of one list with one timestamp left the worker's table in
		// its LRU order; taken by flow ID instead, they come out in the
		// same order whichever flows share the worker (the flow hash's
		// seed is random).
		for i := 0; i < len(s.ord); {
			j := i + 1
			for j < len(s.ord) && sh.flushed[j].class == sh.flushed[i].class && sh.flushed[j].last.Equal(sh.flushed[i].last) {
				j++
			}
			if j-i > 1 {
				slices.SortFunc(s.ord[i:j], func(a, b int32) int { return cmp.Compare(sh.flushed[a].id, sh.flushed[b].id) })
			}
			i = j
		}
		s.first = make([]int32, len(sh.flushed)+1)
		e := 0
		for k := range sh.flushed {
			s.first[k] = int32(e)
			for e < len(sh.events) && sh.events[e].grp <= int32(k) {
				e++
			}
		}
		s.first[len(sh.flushed)] = int32(e)
		for i := e; i < len(sh.events); i++ { // none expected: every event of the flush belongs to a flow
			m.apply(&sh.events[i])
		}
	}
	head := func(w int) *flushedFlow { return &ep.shares[w].flushed[seqs[w].ord[seqs[w].next]] }
	for {
		best := -1
		for w := range ep.shares {
			if seqs[w].next < len(seqs[w].ord) && (best < 0 || flushedBefore(*head(w), *head(best))) {
				best = w
			}
		}
		if best < 0 {
			break
		}
		sh, s := &ep.shares[best], &seqs[best]
		k := s.ord[s.next]
		f := &sh.flushed[k]
		for i := s.first[k]; i < s.first[k+1]; i++ {
			e := &sh.events[i]
			if f.end >= 0 && e.idx >= f.end {
				m.flowEnded(f)
			}
			m.apply(e)
		}
		if f.end >= 0 {
			m.flowEnded(f)
		}
		s.next++
	}
}

// flowEnded applies a flushed flow's end request.
func (m *merger) flowEnded(f *flushedFlow) {
	m.pos = m.ep.base
	m.dec.FlowEnded(f.id, f.last)
	m.requests++
	f.end = -1
}

// compare is the output order within an epoch: capture position, phase;
// at a packet, the order the one worker that had the packet raised them
// in; at time-outs, which several workers may report at one position,
// the flow's LRU class (one table walks its lists in class order), its
// last packet (the LRU order within a list) then flow ID, and last each
// worker's own order.
func compare(x, y *event) int {
	if x.pos != y.pos {
		return cmp.Compare(x.pos, y.pos)
	}
	if x.phase != y.phase {
		return cmp.Compare(x.phase, y.phase)
	}
	if x.phase == phaseExpire {
		if x.class != y.class {
			return cmp.Compare(x.class, y.class)
		}
		if c := x.last.Compare(y.last); c != 0 {
			return c
		}
		if x.fid != y.fid {
			return cmp.Compare(x.fid, y.fid)
		}
	}
	if x.worker != y.worker {
		return cmp.Compare(x.worker, y.worker)
	}
	return cmp.Compare(x.idx, y.idx)
}

// isFileError reports whether err is a *capture.FileError; see
// ingest.isFileError for why it is a function of its own (the errors.As
// target escapes, and in the reader's loop it was allocated per packet).
func isFileError(err error) bool {
	var fileErr *capture.FileError
	return errors.As(err, &fileErr)
}
