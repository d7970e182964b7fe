// Package flows groups packets into bidirectional, NetFlow-style flows.
//
// A flow is keyed by the 5-tuple (addresses, ports, protocol) plus VLAN
// tags, in either direction. Its client is the sender of the first SYN
// (without ACK), or else the first sender seen. A flow ends:
//
//   - after an idle timeout with no packet (by packet time, or by wall
//     clock via Table.Advance when an interface is quiet);
//   - shortly after TCP close (both FINs, or a RST) — a linger of a few
//     seconds keeps the final ACKs in the same flow, as tshark does;
//   - when a new SYN reuses the 5-tuple of a closed flow;
//   - when the table is full and the flow is the eviction victim (counted);
//   - at end of input (Table.Flush).
//
// A long-lived flow also emits an active-timeout record every ActiveTimeout
// (NetFlow's "active period") and lives on with the same ID, so a collector
// sees hours-long mining connections before they end.
//
// Defaults suit mining: Stratum connections live for hours and may sit idle
// for 60 s or more between a job and a share, so the TCP idle timeout is
// 600 s (NetFlow's usual 15 s would cut them into pieces); UDP flows idle out
// after 120 s; closed and half-open TCP flows after 5 s and 30 s.
//
// Memory is bounded: the table holds at most MaxFlows flows; when full, it
// evicts closed flows first, then half-open ones (SYN floods), then the
// least recently active, and counts every eviction. Flows are kept on
// per-timeout-class LRU lists, so expiry is O(expired) per call. Flow
// records live in slabs found through an open-addressing index and are
// reused once their flow has ended (FlowEnded is the last moment an
// observer may hold a *Flow): a million flows cost 256 bytes each in the
// table, and a table that has run for a while allocates nothing.
//
//	t := flows.NewTable(flows.DefaultConfig(), obs)
//	for each packet p { t.Add(&p) }
//	t.Flush()
package flows
