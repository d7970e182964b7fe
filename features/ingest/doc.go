// Package ingest is the capture → decode → defrag → flow-table loop that
// every offline command shares: it reads records from a capture.Reader,
// decodes them into one reused packet.Packet, reassembles IP fragments
// (features/defrag) and hands each IP packet or whole datagram to a flow
// table, keeping the counters of all four stages.
package ingest
