package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// transcript runs one capture through an engine with every stage on, rows
// for every flow (checkpoints, 10 s windows, end rows) and Advance called
// at each new second of packet time (as online mode does), and returns
// every alert and every row, values as exact bit patterns.
func transcript(t *testing.T, path string, cfg engine.Config) []string {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type event struct {
		flow uint64
		text string
	}
	var evs []event
	cfg.Features = true
	cfg.Checkpoints = flowfeat.DefaultCheckpoints()
	cfg.OnRow = func(row *flowfeat.Row, _ *engine.FlowInfo) {
		var b strings.Builder
		fmt.Fprintf(&b, "row %d %s %v %d %d %d %d %d %d %d %d", row.Flow.ID, row.Kind, row.Checkpoint, row.Window,
			row.Start.UnixNano(), row.End.UnixNano(), row.First.UnixNano(), row.Last.UnixNano(), row.UpPkts, row.DownPkts, row.UpBytes+row.DownBytes)
		for _, v := range row.Values {
			fmt.Fprintf(&b, " %x", math.Float64bits(v))
		}
		evs = append(evs, event{row.Flow.ID, b.String()})
	}
	e := engine.New(cfg, func(a *alert.Alert) {
		j, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, event{a.FlowID, string(j)})
	})
	var sec int64
	if _, err := ingest.Run(context.Background(), r, nil, ingest.Options{Sink: func(p *packet.Packet) {
		if s := p.Time.Unix(); s > sec {
			if sec != 0 {
				e.Advance(p.Time)
			}
			sec = s
		}
		e.Packet(p)
	}}); err != nil {
		t.Fatal(err)
	}
	e.Flush()
	// Advance visits flows in map order: compare each flow's own
	// sequence of events, not the interleaving.
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].flow < evs[j].flow })
	out := make([]string, len(evs))
	for i := range evs {
		out[i] = evs[i].text
	}
	return out
}

// Stage state is allocated when a flow earns it, after its header-only
// packets wait in a prelude; replaying the prelude must make every alert
// and every feature row bit-identical to allocating at the first packet.
// Checked on every capture of the shared manifest.
func TestLazyStateGivesIdenticalAlertsAndRows(t *testing.T) {
	root := shareddata.Require(t)
	m, err := manifest.Load(filepath.Join(root, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for i := range m.Entries {
		path := m.Entries[i].File
		eager := defaultConfig(t)
		engine.Eager(&eager)
		want := transcript(t, path, eager)
		got := transcript(t, path, defaultConfig(t))
		rows += len(want)
		if len(got) != len(want) {
			t.Errorf("%s: %d events lazily, %d eagerly", m.Entries[i].Path, len(got), len(want))
			continue
		}
		for j := range want {
			if got[j] != want[j] {
				t.Errorf("%s: event %d differs:\n lazy  %.300s\n eager %.300s", m.Entries[i].Path, j, got[j], want[j])
				break
			}
		}
	}
	if rows == 0 {
		t.Fatal("no rows or alerts at all: the comparison proved nothing")
	}
	t.Logf("%d captures, %d identical rows and alerts", len(m.Entries), rows)
}

// Windows make rows due earlier than checkpoints: a flow of SYN
// retransmissions alone (never a payload) must still get its window and
// end rows, at the same times.
func TestHeaderOnlyFlowStillGetsItsRows(t *testing.T) {
	run := func(eager bool) []string {
		cfg := engine.DefaultConfig()
		if eager {
			engine.Eager(&cfg)
		}
		cfg.Features = true
		cfg.Checkpoints = flowfeat.Checkpoints{At: []time.Duration{3 * time.Second}}
		var out []string
		cfg.OnRow = func(row *flowfeat.Row, _ *engine.FlowInfo) {
			up, down := row.Values.Set(flowfeat.SetMW51)[0], row.Values.Set(flowfeat.SetMW51)[18]
			out = append(out, fmt.Sprintf("%s %v pkts %d/%d v %v %v", row.Kind, row.Checkpoint, row.UpPkts, row.DownPkts, up, down))
		}
		e := engine.New(cfg, func(*alert.Alert) {})
		t0 := time.Unix(1_800_000_000, 0)
		var p packet.Packet
		// SYN retransmissions at 0, 1, 3, 7 and 15 s (Linux backoff), no answer.
		for _, s := range []int{0, 1, 3, 7, 15} {
			synTo(1, t0.Add(time.Duration(s)*time.Second), &p)
			e.Packet(&p)
		}
		e.Flush()
		return out
	}
	want, got := run(true), run(false)
	if len(want) != 2 {
		t.Fatalf("eager run gave rows %q, want a checkpoint row and an end row", want)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lazy rows\n%s\neager rows\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// randomTraffic is a deterministic mix of hostile and ordinary shapes:
// SYN floods, SYN retransmissions across checkpoints, RST- and FIN-only
// flows, flows whose first payload comes after many bare ACKs, out-of-
// order timestamps, snaplen-cut payloads, UDP.
func randomTraffic(seed int64, emit func(*packet.Packet)) {
	rng := rand.New(rand.NewSource(seed))
	t := time.Unix(1_800_000_000, 0)
	flags := []uint8{packet.FlagSYN, packet.FlagSYN | packet.FlagACK, packet.FlagACK, packet.FlagACK | packet.FlagPSH,
		packet.FlagFIN | packet.FlagACK, packet.FlagRST, packet.FlagRST | packet.FlagACK}
	payload := []byte(`{"id":1,"method":"login","params":{"login":"x","agent":"XMRig/6.21.0"}}` + "\n")
	for range 4000 {
		// Mostly moving forward, sometimes far (across checkpoints and
		// idle timeouts), sometimes a little back (capture reordering).
		switch r := rng.Intn(100); {
		case r < 80:
			t = t.Add(time.Duration(rng.Intn(2000)) * time.Millisecond)
		case r < 90:
			t = t.Add(time.Duration(rng.Intn(400)) * time.Second)
		default:
			t = t.Add(-time.Duration(rng.Intn(500)) * time.Millisecond)
		}
		i := rng.Intn(40) // few flows, so they live long and collect packets
		var p packet.Packet
		synTo(i, t, &p)
		if rng.Intn(2) == 0 {
			p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = p.DstIP, p.SrcIP, p.DstPort, p.SrcPort
		}
		if i%7 == 0 {
			p.Proto, p.HasTCP, p.TCPFlags = packet.ProtoUDP, false, 0
		} else {
			p.TCPFlags = flags[rng.Intn(len(flags))]
			p.Seq = uint32(rng.Intn(1 << 20))
		}
		if rng.Intn(4) == 0 {
			n := 1 + rng.Intn(len(payload)-1)
			p.PayloadLen, p.IPLen = n, 40+n
			p.Payload = payload[:n]
			if rng.Intn(5) == 0 {
				p.Payload = p.Payload[:n/2] // cut by the snaplen
			}
		}
		emit(&p)
	}
}

// The lazy path gives the same alerts and rows as the eager one on
// random traffic too (many seeds), not only on the captures we have.
func TestLazyStateIsIdenticalOnRandomTraffic(t *testing.T) {
	run := func(seed int64, eager bool) []string {
		cfg := defaultConfig(t)
		if eager {
			engine.Eager(&cfg)
		}
		cfg.Features = true
		cfg.Checkpoints = flowfeat.DefaultCheckpoints()
		var out []string
		cfg.OnRow = func(row *flowfeat.Row, _ *engine.FlowInfo) {
			var b strings.Builder
			fmt.Fprintf(&b, "row %d %s %v %d %d %d %d", row.Flow.ID, row.Kind, row.Checkpoint, row.End.UnixNano(), row.UpPkts, row.DownPkts, row.UpBytes+row.DownBytes)
			for _, v := range row.Values {
				fmt.Fprintf(&b, " %x", math.Float64bits(v))
			}
			out = append(out, b.String())
		}
		e := engine.New(cfg, func(a *alert.Alert) {
			j, _ := json.Marshal(a)
			out = append(out, string(j))
		})
		randomTraffic(seed, e.Packet)
		e.Flush()
		return out
	}
	for seed := int64(1); seed <= 20; seed++ {
		want, got := run(seed, true), run(seed, false)
		if len(want) == 0 {
			t.Fatalf("seed %d: no rows at all", seed)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("seed %d: event %d differs:\n lazy  %.200s\n eager %.200s", seed, i, got[i], want[i])
				}
			}
			t.Fatalf("seed %d: %d events lazily, %d eagerly", seed, len(got), len(want))
		}
	}
}
