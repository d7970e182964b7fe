package communityid_test

import (
	"net/netip"
	"testing"

	"github.com/minerwatch/minerwatch/detect/communityid"
)

// TestHashMatchesTheSpecVectors checks Hash against the Community ID spec's
// baseline (community-id-spec, baseline/baseline_deflt.json and
// baseline_seed1.json for the TCP/UDP rows); the others were computed with
// the reference Python implementation (PyPI communityid 1.5,
// CommunityID(seed).calc(FlowTuple(...))).
func TestHashMatchesTheSpecVectors(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name  string
		seed  uint16
		proto uint8
		a, b  string
		want  string
	}{
		{"tcp v4", 0, 6, "128.232.110.120:34855", "66.35.250.204:80", "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"tcp v4 either direction", 0, 6, "66.35.250.204:80", "128.232.110.120:34855", "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"tcp v4 seed 1", 1, 6, "128.232.110.120:34855", "66.35.250.204:80", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
		{"udp v4", 0, 17, "8.8.8.8:53", "192.168.1.52:54585", "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{"udp v4 seed 1", 1, 17, "8.8.8.8:53", "192.168.1.52:54585", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
		{"tcp v6", 0, 6, "[fe80::200:86ff:fe05:80da]:1024", "[fe80::260:97ff:fe07:69ea]:23", "1:VJroi5Xao2N6OEUvIq8ko8CSuCg="},
		{"sctp", 0, 132, "192.168.170.8:7", "192.168.170.56:80", "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ="},
		{"gre has no ports", 0, 47, "10.0.0.1:0", "10.0.0.2:0", "1:+KlEHDT0vJgzs/eNmzHq0aSpRYw="},
		{"same address orders by port", 0, 6, "10.0.0.1:5000", "10.0.0.1:80", "1:LD76GfTIBU2lu/ZefEgEGuuBPew="},
	}
	for _, tc := range tests {
		got, ok := communityid.Hash(tc.seed, tc.proto, ap(tc.a), ap(tc.b))
		if !ok || got != tc.want {
			t.Errorf("%s: Hash = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestHashRefusesWhatItCannotCompute(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name  string
		proto uint8
		a, b  string
	}{
		{"icmp needs type and code", 1, "10.0.0.1:0", "10.0.0.2:0"},
		{"icmpv6 needs type and code", 58, "[::1]:0", "[::2]:0"},
		{"mixed families", 6, "10.0.0.1:1", "[::2]:2"},
	}
	for _, tc := range tests {
		if got, ok := communityid.Hash(0, tc.proto, ap(tc.a), ap(tc.b)); ok {
			t.Errorf("%s: Hash = %q, want no ID", tc.name, got)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	a, s := netip.MustParseAddrPort("10.1.2.3:40000"), netip.MustParseAddrPort("192.0.2.9:3333")
	b.ReportAllocs()
	for b.Loop() {
		communityid.Hash(0, 6, a, s)
	}
}
