package engine

import (
	"net/netip"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/internal/lru"
)

// RequestKind says what a Request asks the Decider.
type RequestKind uint8

// The requests an engine with Config.Defer makes.
const (
	// RequestFlow: a new flow whose server is not allowlisted. Hit is set
	// when a list names the server; else the learned store decides.
	RequestFlow RequestKind = iota + 1
	// RequestHello: a ClientHello (TLS or QUIC) naming a listed server;
	// Alert is the alert to raise unless the flow has an intel alert or
	// the name's rate is spent.
	RequestHello
	// RequestDNS: a DNS message with listed names (DNS.Hits, their alerts
	// in DNS.Alerts) or addresses for the learned store (DNS.Learned).
	RequestDNS
	// RequestConfirm: the signature stage confirmed mining on Server in a
	// flow from Client (Confirm says how).
	RequestConfirm
	// RequestScored: stage 2 scored a row of the flow at Time.
	RequestScored
	// RequestEnd: the flow ended; Time is its last packet.
	RequestEnd
)

// Request is a decision on state that crosses flows, which an engine
// working on part of a capture (Config.Defer) leaves to the Decider. The
// Decider must get every engine's requests and alerts in one engine's
// order: then it decides as that engine would have, and the alerts it
// keeps and raises are that engine's.
//
// The engine goes on as if the answer were no intel alert: it cannot know
// better without waiting for the other engines. What a flow's intel alert
// would have changed in the engine — no model score or model alert for
// the flow, no later SNI alert, its client's summary span — the Decider
// does instead (it drops the alert, or the count).
type Request struct {
	Kind RequestKind
	Flow uint64 // flow ID
	// Client and Server are the flow's (RequestFlow, RequestConfirm;
	// Client for the others).
	Client, Server netip.AddrPort
	// Time is the flow's first packet (RequestFlow), last packet
	// (RequestEnd), else when the engine raised it.
	Time    time.Time
	Proto   uint8
	VLAN    [2]uint16
	capture *string
	Hit     *intel.Hit
	Alert   *alert.Alert
	DNS     *DNSRequest
	Confirm *ConfirmRequest
}

// DNSRequest is a DNS message's intel matches, found without the
// learned store (intel.Intel.CheckDNSLists).
type DNSRequest struct {
	Learned []intel.LearnedEntry
	Hits    []intel.Hit
	Alerts  []*alert.Alert // one per hit
}

// ConfirmRequest is what intel.Intel.Confirm needs beyond the endpoints.
type ConfirmRequest struct {
	Pool, Source, Evidence string
}

// request fills the engine's Request for f.
func (e *Engine) request(kind RequestKind, f *flows.Flow, t time.Time) *Request {
	e.req = Request{Kind: kind, Flow: f.ID, Client: f.Client, Time: t}
	return &e.req
}

// deferFlow asks the Decider about a new flow's server, unless the
// allowlist covers it (the lists do not change: any engine may read them).
func (e *Engine) deferFlow(fi *FlowInfo) {
	f := fi.flow
	h, listed, allowed := e.cfg.Intel.CheckFlowListed(f.Server, f.First)
	if allowed {
		return
	}
	r := e.request(RequestFlow, f, f.First)
	r.Server, r.Proto, r.VLAN, r.capture = f.Server, f.Proto, f.VLAN, fi.capture
	if listed {
		hit := h // on the heap only for a listed server
		r.Hit = &hit
	}
	e.cfg.Defer(r)
}

// Decider makes, in capture order, the decisions that the engines of a
// parallel run (Config.Defer) leave to it, on the one copy of the state
// that crosses flows: the learned store (Config.Intel's), the dns-query
// de-duplication, the intel rate limits and the host summaries. It is
// not safe for concurrent use: one goroutine hands it every engine's
// requests and alerts, in one engine's order. Its work per request is a
// map lookup or two; alerts are built only when raised.
type Decider struct {
	cfg   Config
	lim   *intelLimits
	hosts *lru.Map[netip.Addr, *HostSummary]
	// alerted holds the open flows with an intel alert (that is not a
	// dns-query's) or a model alert: what FlowInfo.Alerted says in one
	// engine, for what the Decider decides.
	alerted map[uint64]alertedFlow
	alerts  map[string]int64
	// unscored counts the rows the engines scored that one engine would
	// not have (their flow had an intel alert).
	unscored int64
	out      func(*alert.Alert)
}

type alertedFlow struct {
	client       netip.Addr
	intel, model bool
}

// NewDecider returns a Decider for engines configured as cfg (its Intel,
// Caps, Sensor, and Capture for the intel summaries), raising alerts to
// out.
func NewDecider(cfg Config, out func(*alert.Alert)) *Decider {
	cfg.Caps = cfg.Caps.withDefaults()
	d := &Decider{cfg: cfg, out: out, alerted: map[uint64]alertedFlow{}, alerts: map[string]int64{},
		hosts: lru.New[netip.Addr, *HostSummary](cfg.Caps.Hosts)}
	capture := func() string {
		if d.cfg.Capture == nil {
			return ""
		}
		return d.cfg.Capture()
	}
	d.lim = newIntelLimits(cfg.Caps, &d.cfg.Sensor, out, capture)
	return d
}

// Alert passes on (or, for a model alert of a flow with an intel alert,
// drops) an alert or flow event an engine raised.
func (d *Decider) Alert(a *alert.Alert) {
	if a.EventType != alert.EventAlert {
		addToHosts(d.hosts, a) // a flow event, as Engine.flowEnded
		d.out(a)
		return
	}
	if a.Detector == alert.DetectorModel {
		af, ok := d.alerted[a.FlowID]
		if ok && af.intel {
			return // one engine would not have scored the flow
		}
		if !ok {
			// The model alert names the flow's client as its source.
			af.client, _ = netip.ParseAddr(a.SrcIP)
		}
		af.model = true
		d.alerted[a.FlowID] = af
	}
	d.emit(a)
}

// emit raises a, as Engine.emit does after the flow's bookkeeping.
func (d *Decider) emit(a *alert.Alert) {
	d.alerts[a.Detector]++
	addToHosts(d.hosts, a)
	d.out(a)
}

// intelAlert raises an intel alert of the flow from client, and
// remembers the flow as intel-alerted unless it is a dns-query's (those
// are per name, not per flow: Engine.emit).
func (d *Decider) intelAlert(flow uint64, client netip.Addr, a *alert.Alert) {
	if a.Intel == nil || a.Intel.Match != string(intel.MatchDNSQuery) {
		af := d.alerted[flow]
		af.client, af.intel = client, true
		d.alerted[flow] = af
	}
	d.emit(a)
}

// Apply makes the decision r asks for, as the engine that made r would
// have alone, and raises the alerts (and intel summaries) it calls for.
func (d *Decider) Apply(r *Request) {
	in := d.cfg.Intel
	client := r.Client.Addr()
	switch r.Kind {
	case RequestFlow:
		var h intel.Hit
		if r.Hit != nil {
			h = *r.Hit
		} else if hit, ok := in.CheckLearned(r.Server, r.Time); ok {
			h = hit
		} else {
			return
		}
		if !d.lim.allowed(intelKey{addr: r.Server}, client, &h, r.Time) {
			return
		}
		// The flow as it was at its start, which the alert describes.
		f := flows.Flow{ID: r.Flow, Client: r.Client, Server: r.Server, Proto: r.Proto, VLAN: r.VLAN, First: r.Time}
		a := serverAlert(&d.cfg.Sensor, &FlowInfo{flow: &f, capture: r.capture}, &h)
		finishEVE(a)
		d.intelAlert(r.Flow, client, a)
	case RequestHello:
		if d.alerted[r.Flow].intel {
			return
		}
		if d.lim.allowed(intelKey{name: r.Hit.Query}, client, r.Hit, r.Time) {
			d.intelAlert(r.Flow, client, r.Alert)
		}
	case RequestDNS:
		in.AddLearned(r.DNS.Learned)
		for i := range r.DNS.Hits {
			h := &r.DNS.Hits[i]
			if d.lim.dnsFirst(client, h.Query, r.Time) && d.lim.allowed(intelKey{name: h.Query}, client, h, r.Time) {
				d.intelAlert(r.Flow, client, r.DNS.Alerts[i])
			}
		}
	case RequestConfirm:
		c := r.Confirm
		in.Confirm(r.Server, client, c.Pool, c.Source, c.Evidence, r.Time)
	case RequestScored:
		if d.alerted[r.Flow].intel {
			d.unscored++
		}
	case RequestEnd:
		d.FlowEnded(r.Flow, r.Time)
	}
}

// FlowEnded is RequestEnd: flow ended, its last packet at last.
func (d *Decider) FlowEnded(flow uint64, last time.Time) {
	af, ok := d.alerted[flow]
	if !ok {
		return
	}
	delete(d.alerted, flow)
	// Engine.alertedFlowEnded.
	if h, ok := d.hosts.Get(af.client); ok {
		h.seen(last)
	}
}

// Flush emits the intel summaries of the intervals still open, as a lone
// engine's Flush does after its last flow: call it once every engine has
// flushed and their requests are applied.
func (d *Decider) Flush() { d.lim.sweep(time.Time{}) }

// Hosts returns the per-host summary, most shares first.
func (d *Decider) Hosts() []*HostSummary { return hostList(d.hosts) }

// Correct replaces, in s (the engines' summed counters), what the Decider
// counted: the alerts by detector, the rows scored, and its tables'
// evictions and folds.
func (d *Decider) Correct(s *Stats) {
	s.Alerts = map[string]int64{}
	for k, v := range d.alerts {
		s.Alerts[k] = v
	}
	s.Scored -= d.unscored
	s.Capped.HostsEvicted = d.hosts.Evicted()
	d.lim.capped(&s.Capped)
}
