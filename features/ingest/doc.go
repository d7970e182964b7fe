// Package ingest is the capture → decode → flow-table loop that every
// offline command shares: it reads records from a capture.Reader, decodes
// them into one reused packet.Packet and hands each IP packet to a flow
// table, keeping the counters of all three stages.
package ingest
