package engine

import "time"

// Expire moves the flow table's packet clock to now and ends the flows
// idle past their timeout, as a packet stamped now would, without the
// checkpoint scoring Advance does for a live link. The parallel offline
// path (detect/parallel) calls it so that each worker's flows expire at
// the capture position where one engine reading every packet would have
// expired them, although the worker sees only its share of the packets.
func (e *Engine) Expire(now time.Time) { e.table.Advance(now) }

// ActiveFlows is the number of flows in the table: what Flush would end
// now (detect/parallel sizes its record of the flush by it).
func (e *Engine) ActiveFlows() int { return e.table.Len() }
