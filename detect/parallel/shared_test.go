package parallel_test

import (
	"bufio"
	"cmp"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/parallel"
	"github.com/minerwatch/minerwatch/detect/score"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
)

// event is one written line and what the documented order sorts it by.
type event struct {
	at   time.Time
	flow uint64
	line string
}

// byTime is the order README "Offline on several cores" documents for
// comparing runs: timestamp, then flow ID; a flow's own events keep their
// order (stable). One engine and N workers differ in raw order only where
// flows that end with one timestamp leave one LRU list.
func byTime(evs []event) []string {
	slices.SortStableFunc(evs, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.flow, b.flow)
	})
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.line
	}
	return out
}

// intelConfig is the engine of `detect --no-learned [--intel LIST]` with
// caps: a fresh learned store per run, so one run's learning does not
// leak into the next.
func intelConfig(t testing.TB, list string, caps engine.Caps) engine.Config {
	o := intel.Options{}
	if list != "" {
		p := filepath.Join(t.TempDir(), "list.txt")
		if err := os.WriteFile(p, []byte(list), 0o644); err != nil {
			t.Fatal(err)
		}
		o.Lists = []string{p}
	}
	in, _, err := intel.Load(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Intel, cfg.Caps = in, caps
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Model, err = score.New(m, defaultmodel.ID); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func collect(t testing.TB, evs *[]event) func(a *alert.Alert) {
	return func(a *alert.Alert) { *evs = append(*evs, event{a.Timestamp, a.FlowID, encode(t, a)}) }
}

func runOne(t testing.TB, paths []string, cfg engine.Config) []event {
	r, err := capture.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var evs []event
	current := ""
	cfg.Capture = func() string { return current }
	eng := engine.New(cfg, collect(t, &evs))
	if _, err := ingest.Run(context.Background(), r, nil, ingest.Options{Sink: eng.Packet, SkipBadFiles: true,
		OnPacket: func(rec *capture.Record, _ *packet.Packet) { current = filepath.Base(r.Path(rec.File)) }}); err != nil {
		t.Fatal(err)
	}
	eng.Flush()
	return evs
}

func runN(t testing.TB, paths []string, cfg engine.Config, workers int) ([]event, parallel.Stats) {
	r, err := capture.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var evs []event
	add := collect(t, &evs)
	st, _, err := parallel.Run(context.Background(), r, parallel.Config{Engine: cfg, Workers: workers,
		Names: names(paths), SkipBadFiles: true}, func(a *alert.Alert) error { add(a); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return evs, st
}

// ethernetCaptures are the manifest's Ethernet captures: the input of
// issue 13's report (`detect -r` over all of them in one run).
func ethernetCaptures(t testing.TB, root string) []string {
	f, err := os.Open(filepath.Join(root, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		p := filepath.Join(root, strings.Split(line, "\t")[0])
		r, err := capture.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var rec capture.Record
		if r.Next(&rec) == nil && rec.LinkType == layers.LinkTypeEthernet {
			out = append(out, p)
		}
		r.Close()
	}
	return out
}

// pools lists names that the shared captures resolve and send as TLS
// server names (counted with tshark over the Ethernet captures), so that
// DNS queries, DNS answers (addresses learned for later flows, on other
// workers) and SNIs match.
const pools = "google.com\nmicrosoft.com\namazonaws.com\nplaystation.net\nmozilla.org\ndropbox.com\nlive.com\n360.cn\ngoogleapis.com\nsciener.cn\nt09-cdn.test\n"

// TestWorkersDecideSharedIntelAsOneEngine is issue 13: over real
// captures whose flows learn from each other — pools confirmed by the
// signature stage that flag later flows to them (learned), addresses from
// DNS answers of listed names (dns-answer), listed DNS queries (one alert
// per host and name) and server names — and with rate limits so tight
// that flows are folded into intel_summary events, 2 and 3 workers write
// the same events as one engine, run after run, in the same order once
// sorted by timestamp and flow ID. Each case says which intel matches it
// must contain, so the comparison cannot pass by testing nothing.
// MINERWATCH_WORKERS_LONG=1 adds the cases over every Ethernet capture.
func TestWorkersDecideSharedIntelAsOneEngine(t *testing.T) {
	root := shareddata.Require(t)
	mining := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(root, "public", "mining", n))
		}
		return out
	}
	// The cgminer captures: a miner reconnecting to a few pools every
	// second, so flows to a confirmed pool start on every worker while
	// the confirming flow runs (263 learned alerts with one engine).
	cgminer := mining("nesfit_DI-cryptominingdetection__cgminer.g0.pcapng", "nesfit_DI-cryptominingdetection__cgminer.s1.pcapng",
		"jsiwek_zeek-cryptomining__bitcoin-mining.pcap")
	benign, _ := filepath.Glob(filepath.Join(root, "public", "benign", "ntop_nDPI__*.pcap*"))
	tight := engine.Caps{IntelAlerts: 2, IntelInterval: time.Minute, DNSSeen: 8, IntelEndpoints: 4}
	cases := []struct {
		name  string
		paths []string
		list  string
		caps  engine.Caps
		must  []string // intel matches (or event types) the run must contain
		long  bool
	}{
		{"learned pools", cgminer, "", engine.Caps{}, []string{"learned"}, false},
		{"DNS answers, queries and SNI", append(slices.Clone(cgminer), benign...), pools, engine.Caps{},
			[]string{"learned", "dns-answer", "dns-query", "sni"}, false},
		{"rate limits folding", append(slices.Clone(cgminer), benign...), pools, tight,
			[]string{"learned", "dns-answer", "dns-query", alert.EventIntelSummary}, false},
		{"every Ethernet capture", ethernetCaptures(t, root), pools, engine.Caps{}, []string{"learned", "dns-answer", "sni"}, true},
		{"every Ethernet capture, tight caps", ethernetCaptures(t, root), pools, tight, []string{alert.EventIntelSummary}, true},
	}
	long := os.Getenv("MINERWATCH_WORKERS_LONG") != ""
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.long && !long {
				t.Skip("set MINERWATCH_WORKERS_LONG=1 to run it")
			}
			oneEvs := runOne(t, c.paths, intelConfig(t, c.list, c.caps))
			for _, m := range c.must {
				if !slices.ContainsFunc(oneEvs, func(e event) bool {
					return strings.Contains(e.line, `"match":"`+m+`"`) || strings.Contains(e.line, `"event_type":"`+m+`"`)
				}) {
					t.Fatalf("one engine raised no %s event: the case proves nothing", m)
				}
			}
			one := byTime(oneEvs)
			var first []string
			for _, w := range []int{2, 3} {
				for run := range 3 {
					evs, st := runN(t, c.paths, intelConfig(t, c.list, c.caps), w)
					raw := make([]string, len(evs))
					for i, e := range evs {
						raw[i] = e.line
					}
					if first == nil {
						first = raw
					} else if !slices.Equal(raw, first) {
						t.Errorf("%d workers, run %d: not the lines of 2 workers' first run, in their order (%d vs %d)\n%s",
							w, run+1, len(raw), len(first), firstDiff(raw, first))
					}
					if got := byTime(evs); !slices.Equal(got, one) {
						t.Errorf("%d workers, run %d: events differ from one engine's (%d vs %d lines)\n%s",
							w, run+1, len(got), len(one), firstDiff(got, one))
					}
					if run == 0 {
						t.Logf("%d workers: %d events, %d requests to the merger", w, len(evs), st.Requests)
					}
				}
			}
		})
	}
}
