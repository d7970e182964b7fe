package engine_test

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/features/packet"
)

// The span of a host covers its alerted flows from first to last packet,
// not only the instant the alert fired: an intel alert fires on the SYN,
// the flow then runs for twenty minutes.
func TestHostSpanCoversTheAlertedFlow(t *testing.T) {
	cfg := listedConfig(t)
	cfg.Capture = func() string { return "lab-01.pcap" }
	e := engine.New(cfg, func(*alert.Alert) {})
	t0 := time.Unix(1_800_000_000, 0)
	var p packet.Packet
	synTo(7, t0, &p)
	e.Packet(&p)
	last := t0.Add(20 * time.Minute)
	for at := t0.Add(time.Second); !at.After(last); at = at.Add(30 * time.Second) {
		synTo(7, at, &p)
		p.TCPFlags = packet.FlagACK
		e.Packet(&p)
	}
	e.Flush()
	hosts := e.Hosts()
	if len(hosts) != 1 {
		t.Fatalf("%d hosts, want 1", len(hosts))
	}
	h := hosts[0]
	if !h.First.Equal(t0) || !h.Last.Equal(t0.Add(19*time.Minute+31*time.Second)) {
		t.Errorf("span %v … %v, want %v … the flow's last packet 20 minutes later", h.First, h.Last, t0)
	}
	if !h.Captures["lab-01.pcap"] || len(h.Captures) != 1 {
		t.Errorf("captures %v, want lab-01.pcap", h.Captures)
	}
}

func TestWriteSummary(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	set := func(ks ...string) map[string]bool {
		m := map[string]bool{}
		for _, k := range ks {
			m[k] = true
		}
		return m
	}
	var many []string
	for i := range 5 {
		many = append(many, "rotated-capture-"+string(rune('a'+i))+".pcap")
	}
	cases := []struct {
		name  string
		hosts []*engine.HostSummary
		flows int64
		pkts  int64
		want  []string // substrings of the output
		not   []string
	}{
		{name: "clean capture says what was looked at", flows: 12, pkts: 345,
			want: []string{"no mining found in 12 flows (345 packets)"}, not: []string{"HOST"}},
		{name: "one flow is singular", flows: 1, pkts: 256,
			want: []string{"no mining found in 1 flow (256 packets)"}},
		{name: "signature host shows its shares and capture",
			hosts: []*engine.HostSummary{{Host: netip.MustParseAddr("10.0.0.1"), Detectors: set("signature"),
				Dialects: set("xmrig"), Pools: set("192.0.2.1:3333"), Captures: set("plain.pcap"),
				First: t0, Last: t0.Add(20 * time.Minute), Shares: 42}},
			want: []string{"CAPTURE", "plain.pcap", " 42 ", "2026-01-02T03:04:05Z", "2026-01-02T03:24:05Z"}},
		{name: "model-only host has unknown shares, not 0",
			hosts: []*engine.HostSummary{{Host: netip.MustParseAddr("10.0.0.2"), Detectors: set("model"),
				Pools: set("192.0.2.1:443"), Captures: set("tls.pcap"), First: t0, Last: t0}},
			want: []string{"tls.pcap  2026"}, not: []string{" 0 "}},
		{name: "many captures are cut",
			hosts: []*engine.HostSummary{{Host: netip.MustParseAddr("10.0.0.3"), Detectors: set("intel"),
				Captures: set(many...), First: t0, Last: t0}},
			want: []string{"rotated-capture-a.pcap and 4 more"}, not: []string{"capture-b"}},
		{name: "captures that fit are all listed",
			hosts: []*engine.HostSummary{{Host: netip.MustParseAddr("10.0.0.4"), Detectors: set("intel"),
				Captures: set("b.pcap", "a.pcap"), First: t0, Last: t0}},
			want: []string{"a.pcap, b.pcap  "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			engine.WriteSummary(&b, c.hosts, c.flows, c.pkts)
			out := b.String()
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}
