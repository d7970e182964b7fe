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
//	e := engine.New(cfg, func(a *alert.Alert) { w.Write(a) })
//	for each decoded packet p { e.Packet(&p) }
//	e.Flush()
package engine
