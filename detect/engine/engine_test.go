package engine_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/score"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
	"github.com/minerwatch/minerwatch/train/manifest"
)

type flowKey [2]netip.AddrPort

func keyOf(a, b netip.AddrPort) flowKey {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return flowKey{a, b}
}

// run runs one capture through an engine and returns its alerts and the
// flows it saw (client, server).
func run(t *testing.T, path string, cfg engine.Config) ([]*alert.Alert, map[flowKey][2]netip.AddrPort) {
	t.Helper()
	seen := map[flowKey][2]netip.AddrPort{}
	alerts, _ := runEngine(t, path, cfg, func(p *packet.Packet) {
		if p.HasPorts {
			c, s := netip.AddrPortFrom(p.SrcIP, p.SrcPort), netip.AddrPortFrom(p.DstIP, p.DstPort)
			if _, ok := seen[keyOf(c, s)]; !ok {
				seen[keyOf(c, s)] = [2]netip.AddrPort{c, s}
			}
		}
	})
	return alerts, seen
}

// runEngine runs one capture through an engine, showing each packet to
// tap (if set) before the engine, and returns its alerts and final stats.
func runEngine(t *testing.T, path string, cfg engine.Config, tap func(*packet.Packet)) ([]*alert.Alert, engine.Stats) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var alerts []*alert.Alert
	e := engine.New(cfg, func(a *alert.Alert) { alerts = append(alerts, a) })
	sink := e.Packet
	if tap != nil {
		sink = func(p *packet.Packet) {
			tap(p)
			e.Packet(p)
		}
	}
	if _, err := ingest.Run(context.Background(), r, nil, ingest.Options{Sink: sink}); err != nil {
		t.Fatal(err)
	}
	e.Flush()
	return alerts, e.Stats()
}

func defaultConfig(t *testing.T) engine.Config {
	t.Helper()
	in, _, err := intel.Load(intel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := score.New(m, "default")
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Intel, cfg.Model = in, sc
	return cfg
}

func ap(ip string, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(ip), port)
}

// TestEveryManifestCapture runs the whole pipeline (default intel, the
// signature stage, the shipped model) over every capture of the shared
// manifest and checks the truth table: no alert on any benign flow of any
// capture, and every mining flow of the lab captures detected. The
// shipped model was trained on these captures, so its part here is a
// regression check, not an accuracy claim (train/ reports grouped CV).
// Run with -v for the per-capture table.
func TestEveryManifestCapture(t *testing.T) {
	root := shareddata.Require(t)
	m, err := manifest.Load(filepath.Join(root, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	totalFalse := 0
	for i := range m.Entries {
		e := &m.Entries[i]
		// A fresh learned list per capture: each capture is its own network.
		alerts, seen := run(t, e.File, defaultConfig(t))
		alerted := map[flowKey]map[string]bool{}
		for _, a := range alerts {
			if a.EventType != alert.EventAlert || a.Proto != "TCP" && a.Proto != "UDP" {
				continue
			}
			k := keyOf(ap(a.SrcIP, a.SrcPort), ap(a.DestIP, a.DestPort))
			if alerted[k] == nil {
				alerted[k] = map[string]bool{}
			}
			alerted[k][a.Detector] = true
		}
		expected, detected, falseAlerts := 0, 0, 0
		var missed []string
		for k, cs := range seen {
			truth := e.Truth(cs[0], cs[1])
			switch {
			case truth == manifest.Mining:
				expected++
				if len(alerted[k]) > 0 {
					detected++
				} else {
					missed = append(missed, cs[0].String()+"→"+cs[1].String())
				}
			case truth == manifest.Benign && len(alerted[k]) > 0:
				falseAlerts++
				t.Errorf("%s: false alert on benign flow %s → %s by %v", e.Path, cs[0], cs[1], alerted[k])
			}
		}
		totalFalse += falseAlerts
		table = append(table, fmt.Sprintf("%-80s %-7s %-9s %5d %5d %3d", e.Path, e.Label, e.Scenario, expected, detected, falseAlerts))
		if strings.HasPrefix(e.Path, "lab/") && detected != expected {
			sort.Strings(missed)
			t.Errorf("%s: %d of %d mining flows detected; missed %v", e.Path, detected, expected, missed)
		}
	}
	t.Logf("capture / label / scenario / mining flows / detected / false alerts\n%s", strings.Join(table, "\n"))
}

// A listed SNI raises an intel alert naming the entry, with the TLS
// metadata (the lab's XMRig TLS capture sends SNI pool.example-mining.test,
// per the dataset README and tshark).
func TestSNIListHit(t *testing.T) {
	root := shareddata.Require(t)
	set := intel.NewSet()
	if _, err := set.Load(strings.NewReader("example-mining.test\n"), "test-list", intel.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Intel = intel.New([]*intel.Set{set}, nil, intel.NewLearned(), intel.Config{})
	alerts, _ := run(t, filepath.Join(root, "lab/mining/xmrig-tls-443.pcap"), cfg)
	var got *alert.Alert
	for _, a := range alerts {
		if a.Detector == alert.DetectorIntel {
			got = a
		}
	}
	if got == nil || got.Intel.Match != "sni" || got.TLS == nil || got.TLS.SNI != "pool.example-mining.test" {
		t.Fatalf("no SNI intel alert: %+v", got)
	}
	if got.TLS.JA3Hash == "" || got.TLS.JA4 == "" {
		t.Errorf("TLS fingerprint missing: %+v", got.TLS)
	}
}

// A pool the signature stage confirmed joins the learned list: another
// host's later connection to it is flagged even though it says nothing
// readable.
func TestConfirmedPoolIsLearned(t *testing.T) {
	root := shareddata.Require(t)
	cfg := engine.DefaultConfig()
	cfg.Intel = intel.New(nil, nil, intel.NewLearned(), intel.Config{})
	var alerts []*alert.Alert
	e := engine.New(cfg, func(a *alert.Alert) { alerts = append(alerts, a) })
	r, err := capture.Open(filepath.Join(root, "lab/mining/xmrig-plain-3333.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var last time.Time
	if _, err := ingest.Run(context.Background(), r, nil, ingest.Options{NoFlush: true, Sink: func(p *packet.Packet) {
		last = p.Time
		e.Packet(p)
	}}); err != nil {
		t.Fatal(err)
	}
	// Another host opens a TLS connection to the same pool endpoint
	// (10.200.1.2:3333, the capture's server).
	syn := &packet.Packet{Time: last.Add(time.Second), SrcIP: netip.MustParseAddr("10.99.0.7"), DstIP: netip.MustParseAddr("10.200.1.2"),
		SrcPort: 50000, DstPort: 3333, Proto: packet.ProtoTCP, HasPorts: true, HasTCP: true, TCPFlags: packet.FlagSYN, IPLen: 60}
	e.Packet(syn)
	e.Flush()
	var learned *alert.Alert
	for _, a := range alerts {
		if a.Detector == alert.DetectorIntel && a.SrcIP == "10.99.0.7" {
			learned = a
		}
	}
	if learned == nil || learned.Intel.Match != "learned" {
		t.Fatalf("second host's flow to the confirmed pool not flagged: %+v", alerts)
	}
}
