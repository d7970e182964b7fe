// Package parallel runs offline detection (`minerwatch detect -r FILE
// --workers N`) on N engines at once, with the alerts one engine would
// have written, in the same order.
//
// One reader goroutine reads the capture, decodes each frame and
// reassembles IP fragments, and picks a worker by the symmetric flow hash
// of detect/online's Spreader (the one --realtime uses), so both
// directions of a flow meet in one worker. It cuts the packet stream into
// epochs of EpochPackets packets; an epoch carries, per worker, that
// worker's frames copied into one slab (no allocation per packet), and,
// for every packet of the epoch, the capture's packet clock after it (the
// latest timestamp so far). Workers walk the whole clock: their flow
// tables expire flows at the packet where one table seeing every packet
// would have (engine.Expire), not at their own next packet.
//
// Each alert is tagged with the capture position (sequence number) of
// the packet that raised it. The merger takes the epochs back in order
// and writes the epoch's alerts sorted by position (flow_id hashes the
// flow's key and first packet time, so it is one engine's already); alerts
// raised at one position by several workers (flows that all time out when
// the capture's clock jumps, and the final flush) are ordered as one
// table orders them (see merger.flushOrder and before). Channels hold at most Depth epochs per
// worker, so a worker runs at most that far ahead of the slowest and
// memory stays bounded.
//
// The engines share what crosses flows — the intel's learned store (pools
// confirmed by the signature stage, addresses from DNS answers naming a
// listed pool), the dns-query de-duplication and the intel alert rate
// limits (engine.Shared) — and take turns in capture order (turns.go):
// every worker publishes, per capture position, how far it has got, and
// a worker touches the shared state at position q (every new flow's
// learned-store check, a DNS message, a listed SNI, a confirmed pool)
// only once every other worker has finished the positions before q and
// q's time-outs. It then sees exactly the changes one engine would have
// made by then: none later (a worker ahead would have waited for it).
// Pools confirmed by flows that end at one position (time-outs, the final
// flush) are logged and applied in one table's order of those flows. The
// open rate-limit intervals are summarised once, after every flush. The
// cost is waiting: a worker that reaches a new flow ahead of the others
// waits for them (a few yields, then a condition variable).
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
// line); the per-host summaries are each engine's, merged at the end, so
// past Caps.Hosts hosts, or MaxPoolsPerHost pools or MaxCapturesPerHost
// captures of one host, they differ too. A DNS message or ClientHello
// that only completes when its flow times out, at a position where
// another worker's flow does the same, takes the shared state in the
// order the workers get there.
//
//	st, hosts, err := parallel.Run(ctx, reader, parallel.Config{Engine: cfg, Workers: 2}, log.Write)
package parallel
