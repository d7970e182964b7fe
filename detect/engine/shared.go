package engine

import (
	"time"

	"github.com/minerwatch/minerwatch/internal/lru"
)

// Sequencer orders the accesses of several engines to the state they
// share — the intel's learned store and a Shared — as one engine reading
// every packet would order them. The parallel offline path
// (detect/parallel) gives each worker's engine one; a lone engine needs
// none (its accesses are in capture order already).
type Sequencer interface {
	// Enter waits until no other engine can still touch the shared state
	// at an earlier point of the capture, then holds it until Leave.
	Enter()
	Leave()
	// Defer runs fn, a change to the shared state whose result the engine
	// does not read (a pool confirmed by the signature stage), at this
	// point of the capture: at once, or, for flows that several engines end
	// at one packet, later but in one engine's order.
	Defer(fn func())
}

// Shared holds the engine's tables keyed by traffic that cross flows
// (the dns-query de-duplication and the intel alert rate limits), so that
// engines working on one capture can share them through a Sequencer and
// decide as one engine would: a host's second pool lookup on another
// flow is a repeat, and an endpoint's alert limit counts every flow.
type Shared struct {
	dnsSeen   *lru.Map[dnsKey, time.Time]
	intelRate *lru.Map[intelKey, *intelWindow]
	// cur is the engine that holds the state now: a rate-limit entry
	// evicted by its access gets its summary from that engine.
	cur *Engine
}

// NewShared returns empty shared tables bounded by caps.
func NewShared(caps Caps) *Shared {
	caps = caps.withDefaults()
	sh := &Shared{
		dnsSeen:   lru.New[dnsKey, time.Time](caps.DNSSeen),
		intelRate: lru.New[intelKey, *intelWindow](caps.IntelEndpoints),
	}
	sh.intelRate.OnEvict = func(k intelKey, w *intelWindow) { sh.cur.intelSummary(k, w) }
	return sh
}

// Evicted returns what the shared tables evicted so far (counted once,
// not once per engine sharing them).
func (sh *Shared) Evicted() (dnsSeen, intelEndpoints int64) {
	return sh.dnsSeen.Evicted(), sh.intelRate.Evicted()
}

// enter takes the shared state for e (see Sequencer.Enter).
func (e *Engine) enter() {
	if e.cfg.Seq != nil {
		e.cfg.Seq.Enter()
		e.shared.cur = e // a lone engine is its Shared's from New on
	}
}

func (e *Engine) leave() {
	if e.cfg.Seq != nil {
		e.cfg.Seq.Leave()
	}
}

// SweepSummaries emits the intel_summary events of every interval still
// open, as Flush does for a lone engine. With a Sequencer, Flush leaves
// them out: the engines share the rate limits, so one of them sweeps once
// every engine has flushed.
func (e *Engine) SweepSummaries() {
	e.shared.cur = e
	e.intelSweep(time.Time{})
}
