package online

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/defrag"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Config configures a Runner.
type Config struct {
	// Engine is every worker's engine configuration; the runner sets
	// Capture and OnRow. Flow IDs are hashes of the flow, the same
	// whichever worker sees it.
	Engine engine.Config
	// Name is the input's name for the alerts' capture field (the
	// interface, or the replayed file).
	Name string
	// Alerts receives every alert; nil discards them (metrics still count).
	Alerts *AlertLog
	// OnAlert, if set, also sees every alert (after it is written). It is
	// called from the workers' goroutines.
	OnAlert func(*alert.Alert)
	// Collectors are more Prometheus metrics for the metrics endpoint
	// (a sink's, such as Kafka's).
	Collectors []prometheus.Collector
	// OnRow, if set, receives every feature row; it must be safe for
	// concurrent use (workers call it from their goroutines).
	OnRow func(r *flowfeat.Row, fi *engine.FlowInfo)
	// Evidence, if set, records the packets of alerted flows.
	Evidence *Evidence
	// AdvanceEvery is how often a worker expires flows by the wall clock
	// (0 = 1s).
	AdvanceEvery time.Duration
}

// Runner runs one engine per source.
type Runner struct {
	cfg      Config
	workers  []*worker
	metrics  *metrics
	hosts    *HostView
	alertErr atomic.Pointer[error]
}

// New returns a runner with one worker per source.
func New(cfg Config, sources []Source) *Runner {
	if cfg.AdvanceEvery <= 0 {
		cfg.AdvanceEvery = time.Second
	}
	r := &Runner{cfg: cfg, hosts: NewHostView()}
	r.metrics = newMetrics(r)
	for i, src := range sources {
		w := &worker{id: i, src: src, r: r, frg: defrag.New(defrag.Config{})}
		ec := cfg.Engine
		name := cfg.Name
		ec.Capture = func() string { return name }
		ec.OnRow = cfg.OnRow
		if ec.Model != nil {
			ec.Model = timedScorer{Scorer: ec.Model, h: r.metrics.score}
		}
		if cfg.Evidence != nil {
			w.ev = newEvidenceTracker(cfg.Evidence)
		}
		w.eng = engine.New(ec, w.alert)
		w.publish()
		r.workers = append(r.workers, w)
	}
	return r
}

// Run runs the workers until ctx ends, every source is at its end, or one
// fails; then every worker flushes its open flows (scoring them and
// writing their alerts and rows) before Run returns. The error is the
// first source failure (a lost interface), or the first alert write
// failure.
func (r *Runner) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(r.workers))
	var wg sync.WaitGroup
	for i, w := range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(ctx); err != nil {
				errs[i] = err
				cancel() // one lost source stops all: a partial view misleads
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if p := r.alertErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Totals are the runner's counters summed over workers.
type Totals struct {
	Packets, Bytes, Undecoded uint64
	KernelPackets             uint64
	KernelDrops               uint64
	Engine                    engine.Stats
	Defrag                    defrag.Stats
}

// Totals sums the workers' counters (engine counters as of the last wall-
// clock tick, or exact after Run).
func (r *Runner) Totals() Totals {
	t := Totals{Engine: engine.Stats{Alerts: map[string]int64{}}}
	for _, w := range r.workers {
		t.Packets += w.packets.Load()
		t.Bytes += w.bytes.Load()
		t.Undecoded += w.undecoded.Load()
		if ks, ok := w.src.(KernelStatser); ok {
			if st, err := ks.KernelStats(); err == nil {
				t.KernelPackets += st.Packets
				t.KernelDrops += st.Drops
			}
		}
		t.Engine.Add(w.snapshot())
		t.Defrag.Add(w.defragStats())
	}
	return t
}

// WorkerPackets returns the frames each worker received.
func (r *Runner) WorkerPackets() []uint64 {
	out := make([]uint64, len(r.workers))
	for i, w := range r.workers {
		out[i] = w.packets.Load()
	}
	return out
}

// Hosts is the live per-host view.
func (r *Runner) Hosts() *HostView { return r.hosts }

// HostSummaries merges the workers' engine summaries; call it after Run.
func (r *Runner) HostSummaries() []*engine.HostSummary {
	var lists [][]*engine.HostSummary
	for _, w := range r.workers {
		lists = append(lists, w.eng.Hosts())
	}
	return MergeHosts(lists...)
}

// Record writes an event that did not come from a worker's engine (the
// active probe's) as the workers' alerts are written: counted in the
// metrics, added to the host view, appended to the alert log, passed to
// OnAlert. It is safe for concurrent use.
func (r *Runner) Record(a *alert.Alert) { r.writeAlert(a) }

func (r *Runner) writeAlert(a *alert.Alert) {
	r.metrics.alerts.WithLabelValues(a.Detector).Inc()
	r.hosts.Add(a)
	if r.cfg.Alerts != nil {
		if err := r.cfg.Alerts.Write(a); err != nil {
			r.alertErr.CompareAndSwap(nil, &err)
		}
	}
	if r.cfg.OnAlert != nil {
		r.cfg.OnAlert(a)
	}
}

// worker owns one engine; only its goroutine touches it.
type worker struct {
	id  int
	src Source
	r   *Runner
	eng *engine.Engine
	ev  *evidenceTracker

	packets, bytes, undecoded atomic.Uint64

	// frg reassembles IP fragments. A multi-worker replay reassembles in
	// its dispatcher and live capture gets IPv4 datagrams reassembled by
	// the kernel (fanout with defrag), so it works for a single-worker
	// replay and for live IPv6 fragments: the kernel's fanout defrag is
	// IPv4-only, and hashes all fragments of an IPv6 datagram alike (no
	// ports), so they meet in one worker — not always the flow's.
	frg *defrag.Table

	mu    sync.Mutex // guards stat and dstat
	stat  engine.Stats
	dstat defrag.Stats
}

func (w *worker) alert(a *alert.Alert) {
	if w.ev != nil {
		if a.EventType == alert.EventFlow { // the flow ended: stop recording its tuple
			w.ev.forget(a)
		} else {
			w.ev.mark(a)
		}
	}
	w.r.writeAlert(a)
}

// publish copies the engine's counters for readers on other goroutines.
func (w *worker) publish() {
	s, ds := w.eng.Stats(), w.frg.Stats()
	w.mu.Lock()
	w.stat, w.dstat = s, ds
	w.mu.Unlock()
}

func (w *worker) defragSnapshot() defrag.Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dstat
}

func (w *worker) snapshot() engine.Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stat
}

func (w *worker) run(ctx context.Context) error {
	var (
		dec  decode.Decoder
		p    packet.Packet
		fr   Frame
		last = time.Now()
		err  error
	)
	for ctx.Err() == nil {
		err = w.src.Next(&fr)
		if err == nil {
			w.packets.Add(1)
			w.bytes.Add(uint64(fr.Len))
			if dec.Decode(fr.Link, fr.Data, fr.Time, &p) == decode.OK {
				p.FrameLen = fr.Len
				if q := w.frg.Add(&p, dec.IPPacket()); q != nil {
					w.eng.Packet(q)
					w.ev.packet(q, &fr) // for a datagram: its last fragment's frame
				}
			} else {
				w.undecoded.Add(1)
			}
		} else if !errors.Is(err, ErrTimeout) {
			break
		}
		// The clock is read per packet only when the source timed out or
		// every 64 packets: time.Now is cheap but not free at line rate.
		if err != nil || w.packets.Load()%64 == 0 {
			if now := time.Now(); now.Sub(last) >= w.r.cfg.AdvanceEvery {
				w.eng.Advance(now)
				w.publish()
				last = now
			}
		}
	}
	// Shutdown, end of input or a lost source: decide every open flow.
	w.frg.Flush()
	w.eng.Flush()
	w.publish()
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, ErrTimeout) {
		return nil
	}
	return err
}
