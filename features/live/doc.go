// Package live captures packets from a network interface with AF_PACKET
// (TPACKET_V3 memory-mapped ring, no libpcap at run time) for online
// detection.
//
// Open gives one socket per worker, all joined to one PACKET_FANOUT group
// in hash mode: the kernel spreads packets over the sockets by its flow
// hash, which is symmetric for TCP and UDP (it orders the two endpoints
// before hashing), so both directions of a flow reach the same worker and
// each worker can keep its own flow table. The defrag flag makes the kernel
// reassemble IP fragments before hashing, so a fragmented packet is not
// split between workers either.
//
// A BPF filter expression (tcpdump syntax) is compiled to classic BPF and
// attached to every socket, so unwanted packets never cross into user
// space. See CompileFilter for which compiler is used.
//
//	g, err := live.Open(live.Config{Interface: "eth1", Workers: 2, Promiscuous: true})
//	if err != nil { ... }
//	defer g.Close()
//	for _, s := range g.Sockets() {
//		go func() {
//			for {
//				data, ci, err := s.Read()
//				...
//			}
//		}()
//	}
package live
