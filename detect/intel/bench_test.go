package intel

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeBigList writes n entries: 70% domains, 20% ip:port, 9% IPs, 1% CIDRs.
func writeBigList(b *testing.B, n int) string {
	path := filepath.Join(b.TempDir(), "big.txt")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		a, c, d := byte(i>>16), byte(i>>8), byte(i)
		switch i % 100 {
		case 0:
			fmt.Fprintf(w, "%d.%d.0.0/16\n", 100+a%100, c)
		case 1, 2, 3, 4, 5, 6, 7, 8, 9:
			fmt.Fprintf(w, "%d.%d.%d.%d\n", 11+a%50, c, d, i%251)
		case 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29:
			fmt.Fprintf(w, "%d.%d.%d.%d:%d\n", 61+a%50, c, d, i%251, 3333+i%10)
		default:
			fmt.Fprintf(w, "pool%d.coin%d.example%d.net\n", i, i%97, i%1013)
		}
	}
	w.Flush()
	f.Close()
	return path
}

// BenchmarkLoadMillionEntries reports the time to read and index a
// 1,000,000-line list (run with -benchtime=1x; it is one load per op).
func BenchmarkLoadMillionEntries(b *testing.B) {
	path := writeBigList(b, 1_000_000)
	b.ResetTimer()
	for b.Loop() {
		s := NewSet()
		res, err := s.LoadFile(path, LoadOptions{Format: "plain"})
		if err != nil || res.Entries != 1_000_000 {
			b.Fatal(err, res.Entries, res.Warnings)
		}
	}
	b.ReportMetric(1_000_000, "entries/op")
}

func bigSet(b *testing.B) *Set {
	s := NewSet()
	if _, err := s.LoadFile(writeBigList(b, 1_000_000), LoadOptions{Format: "plain"}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkLookups measures lookups in the 1M-entry set: hits and misses
// for domains (one map probe per label) and addresses (exact map, then one
// probe per CIDR length present).
func BenchmarkLookups(b *testing.B) {
	s := bigSet(b)
	now := time.Now()
	for _, tc := range []struct {
		name string
		fn   func() bool
	}{
		{"domain-hit", func() bool { _, ok := s.MatchDomain("pool500.coin15.example499.net", now); return ok }},
		{"domain-miss-6-labels", func() bool { _, ok := s.MatchDomain("a.b.c.www.example.com", now); return ok }},
		{"addr-port-hit", func() bool { _, ok := s.MatchAddr(netip.AddrFrom4([4]byte{61, 0, 0, 10}), 3333, now); return ok }},
		{"addr-miss", func() bool { _, ok := s.MatchAddr(netip.AddrFrom4([4]byte{8, 8, 8, 8}), 443, now); return ok }},
		{"cidr-hit", func() bool { _, ok := s.MatchAddr(netip.AddrFrom4([4]byte{100, 0, 9, 9}), 80, now); return ok }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.fn()
			}
		})
	}
}

// BenchmarkDefaultListDomainMiss is the common case on real traffic: a
// benign name checked against the shipped list.
func BenchmarkDefaultListDomainMiss(b *testing.B) {
	s, err := DefaultList()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.MatchDomain("clients4.google.com", now)
	}
}
