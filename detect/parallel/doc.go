// Package parallel runs offline detection (`minerwatch detect -r FILE
// --workers N`) on N engines at once, with the alerts one engine would
// have written, in the same order.
//
// One reader goroutine reads the capture, decodes each frame and
// reassembles IP fragments, and picks a worker by the symmetric flow hash
// of detect/online's Spreader (the one --realtime uses), so both
// directions of a flow meet in one worker. It cuts the packet stream into
// epochs of EpochPackets packets; an epoch carries, per worker, that
// worker's packets as decoded (payloads copied into one slab: no
// allocation per packet, and no second decode) with their flow hash,
// which the worker's flow table uses rather than hashing the key again
// (engine.PacketHashed), and the packets after
// which the capture's packet clock (the latest timestamp so far) moved
// on, with its new time. Workers walk every such tick: their flow tables
// expire flows at the packet where one table seeing every packet would
// have (engine.Expire), not at their own next packet. Most ticks are
// other workers' packets and come before the table's next expiry
// (engine.NextExpiry): those cost a compare of two times.
//
// No worker ever waits for another. What crosses flows — the intel's
// learned store (pools confirmed by the signature stage, addresses from
// DNS answers naming a listed pool), the dns-query de-duplication, the
// intel alert rate limits, the host summaries — is decided by one
// engine.Decider in the merger's goroutine: each worker's engine
// (engine.Config.Defer) hands every such decision over as an
// engine.Request (a new flow's server, a listed SNI, a DNS message's
// matches, a confirmed pool, a scored row, a flow's end) and goes on as
// if the flow had no intel alert. Workers read only what does not change
// (the lists, the allowlist). Each alert and request is tagged with the
// capture position (sequence number) of the packet that raised it; the
// merger takes the epochs back in order, sorts the epoch's events into
// one engine's order (flow_id hashes the flow's key and first packet
// time, so it is one engine's already) and hands them to the Decider,
// which then decides exactly as one engine would have at that point: it
// raises the intel alerts (and intel_summary events), adds learned
// entries, and undoes what an intel alert would have prevented in the
// worker — a model alert of the flow (dropped), its scored rows (not
// counted), a later SNI alert (not raised). A new flow costs the merger a
// learned-store lookup; a flow's end a map lookup.
//
// Events raised at one position by several workers (flows that all time
// out when the capture's clock jumps, and the final flush) are ordered as
// one table orders them (see compare and flushOrder). Channels hold at
// most Depth epochs per worker, so a worker runs at most that far ahead
// of the slowest and memory stays bounded.
//
// Flows that end at one capture position with the same timestamp in one
// of the table's LRU lists come out by flow ID: one table's LRU order is
// not visible to the workers. Output is then the same for any number of
// workers, and one engine's but for the order of such ties.
//
// What still differs from one engine: the flow-table cap and the
// reassembly budget are shared out (each worker's table holds MaxFlows/N
// flows and its reassembly budget is ReassemblyBudget/N bytes, so the run's
// memory stays one engine's), so under a full table or budget the flows
// evicted or cut differ with N (reported in the end-of-run "capped:"
// line); and the flow rows of --kafka-flows, which the workers send, do
// not know of their flow's intel alert (the Decider decides it later).
//
//	st, hosts, err := parallel.Run(ctx, reader, parallel.Config{Engine: cfg, Workers: 2}, log.Write)
package parallel
