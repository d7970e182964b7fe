// Package engine wires minerwatch's detection pipeline: packets go into a
// flow table, and each flow is watched by the three stages —
//
//   - stage 0, threat intelligence (detect/intel): the server address of
//     every new flow, DNS messages (UDP, and TCP via the reassembled
//     stream), TLS ClientHello SNI;
//   - stage 1, the Stratum signature state machine (detect/signature) on
//     the reassembled TCP streams — one reassembly per flow, also tapped
//     for the TLS and DNS-over-TCP parsers of stage 0;
//   - stage 2, a flow classifier (a Scorer) over the feature rows of
//     features/flowfeat at each checkpoint, for flows that stages 0 and 1
//     have not decided.
//
// Verdict precedence: intel and signature are evidence; the model is a
// probability and only scores flows without evidence. Each detector alerts
// at most once per flow, at the packet that decided it; a flow with a
// signature alert gets a final EVE "flow" event at its end with the share
// count and hashrate. Confirmed pool endpoints join the learned intel.
// Every event carries the flow's flow_id and Community ID, its counters
// and the rule that fired (alert.RuleOf), filled in newAlert and emit.
//
// Memory is bounded by design. A flow earns its stage state (stream
// reassembly and the signature machine, the feature accumulator, the
// hello parsers) at its first payload, a fifth header-only packet or its
// first due feature row; until then its header-only packets wait in an
// 80-byte flowfeat.Prelude and are replayed into the state when it comes
// (the prelude then goes back to a free list), so a SYN flood costs about
// half a kilobyte per flow and the alerts and rows are what allocating at
// the first packet gives. Per-flow records and stage state are recycled
// when their flow ends. Every table keyed by
// traffic (host summaries, DNS de-duplication, the intel rate limiter) is
// an LRU with counted evictions (Caps); intel alerts beyond Caps.IntelAlerts
// per listed endpoint and interval are folded into one intel_summary event.
// Stats.Drops says in one line what the bounds cost.
//
//	e := engine.New(cfg, func(a *alert.Alert) { w.Write(a) })
//	for each decoded packet p { e.Packet(&p) }
//	e.Flush()
package engine
