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
// One difference with a single engine is a matter of timing:
// intelligence learned at run time — a pool confirmed by the signature
// stage, addresses from a DNS answer naming a pool — is shared by all
// workers through the one intel.Intel, but a flow checked by another
// worker may be checked before or after the learning worker reached the
// confirming packet (workers may be up to Depth+2 epochs apart). A flow
// to a learned pool that starts within that many packets of the
// confirmation may thus get (or miss) its intel alert where one engine
// would not, and may differ from run to run. Making it exact would mean
// holding every new flow until all workers reach its packet: lock-step.
//
// Flows that end at one capture position with the same timestamp in one
// of the table's LRU lists come out by flow ID: one table's LRU order is
// not visible to the workers. Output is then the same for any number of
// workers, and one engine's but for the order of such ties.
//
// The engines' caps are per engine: each worker's table holds MaxFlows/N
// flows and its reassembly budget is ReassemblyBudget/N bytes (the run's
// memory stays one engine's), and the intel alert rate limit (engine.Caps.IntelAlerts per
// listed endpoint and interval) applies per worker, so under a flood to a
// listed address N workers let up to N times as many intel alerts through
// before folding the rest into summaries. Eviction under a full table
// differs with N too (reported in the end-of-run "capped:" line).
//
//	st, hosts, err := parallel.Run(ctx, reader, parallel.Config{Engine: cfg, Workers: 2}, log.Write)
package parallel
