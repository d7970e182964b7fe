package engine

import (
	"time"

	"github.com/minerwatch/minerwatch/features/packet"
)

// Expire moves the flow table's packet clock to now and ends the flows
// idle past their timeout, as a packet stamped now would, without the
// checkpoint scoring Advance does for a live link. The parallel offline
// path (detect/parallel) calls it so that each worker's flows expire at
// the capture position where one engine reading every packet would have
// expired them, although the worker sees only its share of the packets.
func (e *Engine) Expire(now time.Time) { e.table.Advance(now) }

// PacketHashed is Packet for a caller that has hashed the packet's flow
// key already (see flows.Table.AddHashed): detect/parallel's workers, whose
// reader picked the worker by that hash. An engine is fed by Packet alone
// or by PacketHashed alone.
func (e *Engine) PacketHashed(p *packet.Packet, hash uint64) { e.table.AddHashed(p, hash) }

// NextExpiry is the flow table's flows.Table.NextExpiry: Expire(now)
// does nothing a later call depends on unless check, or ok and
// now.UnixNano()-at > 0. A worker of the parallel path moves its clock at
// every packet of the capture, most of them other workers'; it skips
// those calls.
func (e *Engine) NextExpiry() (at int64, check, ok bool) { return e.table.NextExpiry() }

// ActiveFlows is the number of flows in the table: what Flush would end
// now (detect/parallel sizes its record of the flush by it).
func (e *Engine) ActiveFlows() int { return e.table.Len() }
