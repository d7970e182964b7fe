package seqfeat

import "testing"

// BenchmarkAddTLS is the per-packet cost on the online path: a TLS flow's
// data packets, one application record each, until the sequence is full
// (then Add returns at once).
func BenchmarkAddTLS(b *testing.B) {
	pkt := rec(23, 140)
	b.ReportAllocs()
	var s Seq
	for i := 0; i < b.N; i++ {
		if i%N == 0 {
			s = Seq{}
			s.Add(0, false, rec(22, 200), 205, 0, true, 0)
		}
		s.Add(int64(i)*1e7, i%2 == 1, pkt, len(pkt), uint32(i*200), true, 0)
	}
}

// BenchmarkFill is the cost of the set's columns at a checkpoint.
func BenchmarkFill(b *testing.B) {
	var s Seq
	for i := 0; i < N; i++ {
		s.Add(int64(i)*1e9, i%2 == 1, nil, 100+i%7, uint32(1000*i), true, 0)
	}
	out := make([]float64, Num)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Fill(out, &s, 60, 60e9)
	}
}
