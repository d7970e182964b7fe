package defrag_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/defrag"
)

// BenchmarkPassThrough is the cost added to every unfragmented packet.
func BenchmarkPassThrough(b *testing.B) {
	f := newFeeder(b, defrag.Config{})
	raw := tcpPacket(b, false, 1, login)
	f.add(raw, t0)
	b.ReportAllocs()
	for b.Loop() {
		if f.t.Add(&f.p, raw) == nil {
			b.Fatal("held")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
}

// BenchmarkReassemble is a 1400-byte TCP segment in 3 fragments of 576
// bytes (the IPv4 minimum MTU's worth), reassembled and re-decoded.
func BenchmarkReassemble(b *testing.B) {
	frags := split(b, tcpPacket(b, false, 1, bytes.Repeat([]byte("x"), 1400)), 556)
	f := newFeeder(b, defrag.Config{})
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, fr := range frags {
			if f.add(fr, t0.Add(time.Duration(n))) != nil {
				n++
			}
		}
	}
	if n != b.N {
		b.Fatalf("%d datagrams of %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
	b.ReportMetric(float64(b.N*len(frags))/b.Elapsed().Seconds(), "fragments/s")
}

// BenchmarkFirstFragmentFlood is a flood of first fragments that never
// complete (each a new datagram): the table stays at its caps, evicting.
// Reports the bytes held at the end (≤ MemCap) and fragments/s.
func BenchmarkFirstFragmentFlood(b *testing.B) {
	f := newFeeder(b, defrag.Config{})
	first := split(b, tcpPacket(b, false, 1, bytes.Repeat([]byte("x"), 1400)), 1400)[0]
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		first[4], first[5] = byte(i>>8), byte(i) // a new IP id: a new datagram
		first[12] = byte(i >> 16)                // and source, past 65536
		f.add(first, t0)
		i++
	}
	st := f.t.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fragments/s")
	b.ReportMetric(float64(st.HeldBytes), "held-bytes")
	b.ReportMetric(float64(st.HeldDgrams), "held-datagrams")
}
