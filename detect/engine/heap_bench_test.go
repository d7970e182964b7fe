package engine_test

import (
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/features/packet"
)

// BenchmarkHeapPerFlow reports the live heap one flow costs the whole
// engine (flow table, engine state, signature and feature state) with all
// stages on: a half-open flow (one SYN, what a SYN flood or a scan leaves)
// and an established one (handshake and a data packet each way, so stream
// and feature state are allocated).
func BenchmarkHeapPerFlow(b *testing.B) {
	for _, tc := range []struct {
		name string
		pkts func(i int, at time.Time, emit func(*packet.Packet))
	}{
		{"half-open", func(i int, at time.Time, emit func(*packet.Packet)) {
			var p packet.Packet
			synTo(i, at, &p)
			emit(&p)
		}},
		{"established", established([]byte(`{"id":1,"method":"GET"}`+"\n"), []byte(`{"id":1,"method":"GET"}`+"\n"))},
		// What internal/benchgen's concurrent capture holds (the 1M-flow
		// RSS target): TLS application-data records of 64 and 200 bytes.
		{"established-tls", established(tlsRecord(0x17, 64), tlsRecord(0x17, 200))},
		// A ClientHello-shaped first record (0x16): the signature stage
		// gives up at the first byte.
		{"established-tls-hello", established(tlsRecord(0x16, 64), tlsRecord(0x16, 200))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 200_000
			cfg := defaultConfig(&testing.T{})
			cfg.Flows.MaxFlows = n
			for range b.N {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				e := engine.New(cfg, func(*alert.Alert) {})
				t0 := time.Unix(1_800_000_000, 0)
				for i := range n {
					tc.pkts(i, t0.Add(time.Duration(i)*time.Microsecond), e.Packet)
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				if got := e.Stats().Flows.Active; got != n {
					b.Fatalf("%d flows active, want %d", got, n)
				}
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/flow")
				runtime.KeepAlive(e)
			}
		})
	}
}

// established returns flow i's packets: handshake, then up and down
// payloads (one packet each way).
func established(up, down []byte) func(i int, at time.Time, emit func(*packet.Packet)) {
	var p packet.Packet // one for every flow: passed to emit, it escapes
	return func(i int, at time.Time, emit func(*packet.Packet)) {
		synTo(i, at, &p)
		emit(&p)
		c, s := p.SrcIP, p.DstIP
		cp, sp := p.SrcPort, p.DstPort
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = s, c, sp, cp
		p.TCPFlags, p.Seq, p.Ack = packet.FlagSYN|packet.FlagACK, 7000, uint32(i)+1
		emit(&p)
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = c, s, cp, sp
		p.TCPFlags, p.Seq, p.Ack = packet.FlagACK|packet.FlagPSH, uint32(i)+1, 7001
		p.Payload = up
		p.PayloadLen, p.IPLen = len(p.Payload), 40+len(p.Payload)
		emit(&p)
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = s, c, sp, cp
		p.Seq, p.Ack = 7001, uint32(i)+1+uint32(len(up))
		p.Payload = down
		p.PayloadLen, p.IPLen = len(p.Payload), 40+len(p.Payload)
		emit(&p)
	}
}

// tlsRecord returns an n-byte TLS 1.2 record of type typ (header and
// filler bytes, as internal/benchgen writes them).
func tlsRecord(typ byte, n int) []byte {
	b := make([]byte, n)
	b[0], b[1], b[2] = typ, 3, 3
	b[3], b[4] = byte((n-5)>>8), byte(n-5)
	for i := 5; i < n; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

// synTo fills p with the SYN of flow i: distinct client address and port,
// one documentation-range server.
func synTo(i int, at time.Time, p *packet.Packet) {
	*p = packet.Packet{Time: at, SrcIP: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}),
		DstIP: netip.AddrFrom4([4]byte{192, 0, 2, 1}), SrcPort: uint16(1024 + i%60000), DstPort: 8080,
		Proto: packet.ProtoTCP, HasPorts: true, HasTCP: true, TCPFlags: packet.FlagSYN, IPLen: 60, Seq: uint32(i)}
}

// BenchmarkEngineNewFlows is the whole engine's new-flow rate in steady
// state with every stage on: a table at a 16,384-flow cap, each op one
// established TLS-shaped flow (handshake, a record each way) that evicts
// the oldest; the ended flows' records and stage state are reused, so
// allocs/op is what a new flow still allocates (0 since FlowInfo records
// are recycled too).
func BenchmarkEngineNewFlows(b *testing.B) {
	const capacity = 1 << 14
	cfg := defaultConfig(&testing.T{})
	cfg.Flows.MaxFlows = capacity
	e := engine.New(cfg, func(*alert.Alert) {})
	flow := established(tlsRecord(0x17, 64), tlsRecord(0x17, 200))
	t0 := time.Unix(1_800_000_000, 0)
	i := 0
	for ; i < 2*capacity; i++ {
		flow(i, t0.Add(time.Duration(i)*time.Microsecond), e.Packet)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		flow(i, t0.Add(time.Duration(i)*time.Microsecond), e.Packet)
		i++
	}
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "new-flows/CPU-s")
	if got := e.Stats().Flows.Active; got != capacity {
		b.Fatalf("%d flows active, want %d", got, capacity)
	}
}

// cpuTime is the process's user and system CPU time so far (the loaded
// VM's wall clock also counts the waits for a core).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
