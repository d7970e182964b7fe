// Package packet defines the decoded packet that flows through minerwatch's
// pipeline: the header fields every later stage needs (addresses, ports,
// flags, sequence numbers, sizes, time) and a view of the captured payload.
//
// A Packet is a value that the decoder refills for every captured frame, so
// the hot path allocates nothing; stages that keep bytes must copy them.
package packet
