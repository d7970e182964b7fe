package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/internal/lru"
)

// SchedulerConfig configures detect's probing.
type SchedulerConfig struct {
	// Scope: only servers inside these prefixes are ever probed. Empty
	// probes nothing (NewScheduler refuses it).
	Scope []netip.Prefix
	// Rate is the number of probes started per second, over all workers
	// (default 1; 0.1 is one every ten seconds).
	Rate float64
	// TTL is how long a verdict is reused for the same endpoint (default
	// 1h); an "error" verdict (refused, unreachable) is kept a tenth of it.
	TTL time.Duration
	// Workers probe concurrently (default 2); Queue bounds the endpoints
	// waiting for a worker (default 256; more are dropped and counted).
	Workers, Queue int
	// Attempts also probes the servers of unanswered signature attempts
	// (a lone login nobody answered in the capture), not only model alerts.
	Attempts bool
	// Probe is each probe's configuration (timeout, agent).
	Probe Config
	// Intel, if set, receives confirmed pools in its learned list, with
	// the probe as evidence.
	Intel *intel.Intel
	// Emit writes a probe event. It is called from the workers'
	// goroutines (and from Observe for a cached verdict): it must be safe
	// for concurrent use.
	Emit func(*alert.Alert)
}

// SchedulerStats counts the scheduler's work.
type SchedulerStats struct {
	Probes      int64 // probes run
	Confirmed   int64 // events with result confirmed (new and cached)
	Unconfirmed int64 // events with result unconfirmed
	Cached      int64 // events answered from the cache
	OutOfScope  int64 // alerts whose server is outside the scope: never probed
	Dropped     int64 // endpoints not probed: the queue was full, or the run ended first
	Evicted     int64 // verdicts evicted from the full cache (least recently used)
}

// maxWaiters bounds the flows waiting on one endpoint's probe; further
// flows to it share the verdict through the cache once it is in.
const maxWaiters = 64

// cacheCap bounds the verdict cache (least recently used out).
const cacheCap = 16384

type endpoint struct {
	addr netip.AddrPort
	tls  bool
	sni  string
}

type verdict struct {
	res     Result
	js      json.RawMessage
	expires time.Time
}

type job struct {
	ep      endpoint
	waiters []*alert.Alert
}

// Scheduler probes the servers of suspected flows off the packet path:
// Observe never blocks; a bounded pool of workers probes each endpoint
// once, at most Rate per second, and emits a probe event on every flow
// that asked. It is safe for concurrent use.
type Scheduler struct {
	cfg    SchedulerConfig
	ctx    context.Context
	cancel context.CancelFunc
	queue  chan *job
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	cache   *lru.Map[endpoint, *verdict]
	pending map[endpoint]*job
	next    time.Time // earliest start of the next probe (rate limit)
	stats   SchedulerStats

	outOfScope atomic.Int64
	// confirmedHosts are the clients of flows the probe confirmed, for
	// the per-host summary (bounded by maxConfirmedHosts).
	confirmedHosts map[netip.Addr]bool
}

// maxConfirmedHosts bounds ConfirmedHosts.
const maxConfirmedHosts = 65536

// ParseScope reads "CIDR,CIDR,…" (a bare address is a /32 or /128).
func ParseScope(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("scope %q: want CIDR or address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, errors.New("empty scope: give the CIDRs you may probe")
	}
	return out, nil
}

// NewScheduler starts the workers.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if len(cfg.Scope) == 0 {
		return nil, errors.New("probe: no scope: nothing may be probed")
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 1
	}
	if cfg.TTL <= 0 {
		cfg.TTL = time.Hour
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 256
	}
	if cfg.Emit == nil {
		cfg.Emit = func(*alert.Alert) {}
	}
	s := &Scheduler{cfg: cfg, queue: make(chan *job, cfg.Queue),
		cache: lru.New[endpoint, *verdict](cacheCap), pending: map[endpoint]*job{}, confirmedHosts: map[netip.Addr]bool{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for range cfg.Workers {
		s.wg.Add(1)
		go s.work()
	}
	return s, nil
}

// InScope reports whether addr may be probed.
func (s *Scheduler) InScope(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range s.cfg.Scope {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// wants reports whether an event asks for a probe: a model alert, or an
// unanswered signature attempt when Attempts is set, on a TCP flow.
func (s *Scheduler) wants(a *alert.Alert) bool {
	if a.EventType != alert.EventAlert || a.Proto != "TCP" {
		return false
	}
	switch a.Detector {
	case alert.DetectorModel:
		return true
	case alert.DetectorSignature:
		return s.cfg.Attempts && a.Mining != nil && a.Mining.State == alert.StateAttempt
	}
	return false
}

// Observe looks at one event of the engine. It never blocks on the
// network: a probe is queued (or its cached verdict emitted at once).
func (s *Scheduler) Observe(a *alert.Alert) {
	if !s.wants(a) {
		return
	}
	ip, err := netip.ParseAddr(a.DestIP)
	if err != nil {
		return
	}
	if !s.InScope(ip) {
		s.outOfScope.Add(1) // no lock: the common case on a busy link
		return
	}
	s.mu.Lock()
	ep := endpoint{addr: netip.AddrPortFrom(ip.Unmap(), a.DestPort), tls: a.AppProto == "tls" || a.TLS != nil}
	if a.TLS != nil {
		ep.sni = a.TLS.SNI
	}
	if v, ok := s.cache.Get(ep); ok && time.Now().Before(v.expires) {
		s.stats.Cached++
		s.count(v.res, a)
		s.mu.Unlock()
		s.emit(a, v, true)
		return
	}
	if j, ok := s.pending[ep]; ok {
		if len(j.waiters) < maxWaiters {
			j.waiters = append(j.waiters, a)
		}
		s.mu.Unlock()
		return
	}
	if s.closed {
		s.stats.Dropped++
		s.mu.Unlock()
		return
	}
	j := &job{ep: ep, waiters: []*alert.Alert{a}}
	select {
	case s.queue <- j:
		s.pending[ep] = j
	default:
		s.stats.Dropped++
	}
	s.mu.Unlock()
}

func (s *Scheduler) count(r Result, trigger *alert.Alert) {
	if r.Verdict == VerdictPool {
		s.stats.Confirmed++
		if ip, err := netip.ParseAddr(trigger.SrcIP); err == nil && len(s.confirmedHosts) < maxConfirmedHosts {
			s.confirmedHosts[ip.Unmap()] = true
		}
	} else {
		s.stats.Unconfirmed++
	}
}

func (s *Scheduler) work() {
	defer s.wg.Done()
	for j := range s.queue {
		if !s.wait() {
			s.mu.Lock()
			s.stats.Dropped++
			delete(s.pending, j.ep)
			s.mu.Unlock()
			continue
		}
		r := Probe(s.ctx, Target{Addr: j.ep.addr, TLS: j.ep.tls, SNI: j.ep.sni}, s.cfg.Probe)
		if s.ctx.Err() != nil {
			// Stopped mid-probe: what it saw is not a verdict.
			s.mu.Lock()
			s.stats.Dropped++
			delete(s.pending, j.ep)
			s.mu.Unlock()
			continue
		}
		js, _ := json.Marshal(r)
		ttl := s.cfg.TTL
		if r.Verdict == VerdictError {
			ttl /= 10
		}
		v := &verdict{res: r, js: js, expires: time.Now().Add(ttl)}
		s.mu.Lock()
		s.stats.Probes++
		s.cache.Put(j.ep, v)
		delete(s.pending, j.ep)
		waiters := j.waiters
		for _, a := range waiters {
			s.count(r, a)
		}
		s.mu.Unlock()
		if r.Verdict == VerdictPool && s.cfg.Intel != nil {
			s.learn(waiters[0], v)
		}
		for _, a := range waiters {
			s.emit(a, v, false)
		}
	}
}

// wait takes the rate limit's next slot: probe starts are at least
// 1/Rate apart over all workers. false if the scheduler is stopping.
func (s *Scheduler) wait() bool {
	s.mu.Lock()
	now := time.Now()
	start := s.next
	if start.Before(now) {
		start = now
	}
	s.next = start.Add(time.Duration(float64(time.Second) / s.cfg.Rate))
	s.mu.Unlock()
	if d := time.Until(start); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.ctx.Done():
			return false
		}
	}
	return s.ctx.Err() == nil
}

// learn adds a confirmed pool to the learned list, with the probe as
// evidence (trusted at once: the probe itself spoke to the server).
func (s *Scheduler) learn(trigger *alert.Alert, v *verdict) {
	client, _ := netip.ParseAddr(trigger.SrcIP)
	r := v.res
	server, err := netip.ParseAddrPort(r.Target)
	if err != nil {
		return
	}
	evidence := "probe: " + r.Dialect + " " + strings.Join(r.StatePath, "→")
	if r.Cert != nil && len(r.Cert.Fingerprint) >= 16 {
		evidence += " (TLS cert sha256 " + r.Cert.Fingerprint[:16] + "…)"
	}
	s.cfg.Intel.Confirm(server, client, r.SNI, "probe:"+r.Dialect, evidence, trigger.Timestamp)
}

// emit writes the probe event of one flow: the trigger's flow, our verdict.
func (s *Scheduler) emit(trigger *alert.Alert, v *verdict, cached bool) {
	s.cfg.Emit(Event(trigger, v.res, v.js, cached))
}

// Event builds the probe event on the trigger's flow: the same flow_id,
// addresses and counters as the alert that asked, detector "probe",
// minerwatch.probe holding the verdict. A confirmed pool is evidence
// (confidence 0.99, severity 1); unconfirmed keeps the trigger's
// confidence and never stands in for the trigger's alert.
func Event(trigger *alert.Alert, r Result, js json.RawMessage, cached bool) *alert.Alert {
	a := &alert.Alert{
		Timestamp: trigger.Timestamp, EventType: alert.EventAlert, FlowID: trigger.FlowID,
		SrcIP: trigger.SrcIP, SrcPort: trigger.SrcPort, DestIP: trigger.DestIP, DestPort: trigger.DestPort,
		Proto: trigger.Proto, VLAN: trigger.VLAN, CommunityID: trigger.CommunityID, Capture: trigger.Capture,
		Live: trigger.Live, Host: trigger.Host, AppProto: trigger.AppProto, Flow: trigger.Flow, TLS: trigger.TLS,
		Detector: alert.DetectorProbe,
	}
	a.Probe = &alert.Probe{Result: alert.ProbeUnconfirmed, Trigger: trigger.Detector, Cached: cached,
		ProbedAt: alert.FormatTime(r.Started), Verdict: js}
	if r.Verdict == VerdictPool {
		a.Probe.Result = alert.ProbeConfirmed
		a.Confidence = 0.99
		a.Reason = "probe: " + r.Target + " answered a " + r.Dialect + " login as a pool (" + strings.Join(r.StatePath, " → ") + ")"
	} else {
		a.Confidence = trigger.Confidence
		what := r.Answer
		if r.Verdict == VerdictError {
			what = "error: " + r.Error
		} else if r.Detail != "" {
			what += ": " + r.Detail
		}
		a.Reason = "probe: " + r.Target + " did not answer as a pool (" + what + "); the " + trigger.Detector + " alert stands"
	}
	if cached {
		a.Reason += " [cached verdict]"
	}
	a.Rule = alert.RuleOf(a)
	return a
}

// Close stops taking new probes and waits up to wait for the queued ones
// to run; then it cancels what is left (counted as dropped) and returns
// the counters.
func (s *Scheduler) Close(wait time.Duration) SchedulerStats {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.cancel()
		<-done
	}
	s.cancel()
	return s.Stats()
}

// ConfirmedHost reports whether the probe confirmed a pool on a flow of
// host (for the per-host summary's DETECTORS column).
func (s *Scheduler) ConfirmedHost(host netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmedHosts[host.Unmap()]
}

// Stats returns the counters so far.
func (s *Scheduler) Stats() SchedulerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Evicted = s.cache.Evicted()
	st.OutOfScope = s.outOfScope.Load()
	return st
}

func (st SchedulerStats) String() string {
	return fmt.Sprintf("probe: %d probes, %d confirmed, %d unconfirmed (%d from the cache), %d out of scope (not probed), %d dropped",
		st.Probes, st.Confirmed, st.Unconfirmed, st.Cached, st.OutOfScope, st.Dropped)
}
