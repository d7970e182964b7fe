package flowfeat_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// rowsObserver runs a tracker over a table, eagerly (Start at the first
// packet) or lazily (Lazy: a prelude until the flow earns state).
type rowsObserver struct {
	tr   *flowfeat.Tracker
	lazy bool
}

type flowState struct {
	eager *flowfeat.State
	lazy  flowfeat.Lazy
}

func (o *rowsObserver) FlowStarted(f *flows.Flow) {
	s := &flowState{}
	if !o.lazy {
		s.eager = o.tr.Start(f)
	}
	f.Data = s
}

func (o *rowsObserver) Packet(f *flows.Flow, p *packet.Packet, d packet.Direction) {
	s := f.Data.(*flowState)
	if o.lazy {
		o.tr.Feed(&s.lazy, f, p, d)
	} else {
		o.tr.Packet(s.eager, f, p, d)
	}
}
func (o *rowsObserver) ActiveRecord(*flows.Record) {}
func (o *rowsObserver) FlowEnded(f *flows.Flow, _ flows.EndReason) {
	s := f.Data.(*flowState)
	if o.lazy {
		o.tr.Finish(&s.lazy, f)
	} else {
		o.tr.End(s.eager, f)
	}
}

func rowText(r *flowfeat.Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %v %d %d %d %d %d %d %d", r.Flow.ID, r.Kind, r.Checkpoint, r.Window, r.End.UnixNano(),
		r.First.UnixNano(), r.Last.UnixNano(), r.UpPkts, r.DownPkts, r.UpBytes+r.DownBytes)
	for _, v := range r.Values {
		fmt.Fprintf(&b, " %x", math.Float64bits(v))
	}
	return b.String()
}

func trackerRows(t *testing.T, path string, cfg flowfeat.TrackerConfig, lazy bool) []string {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	o := &rowsObserver{lazy: lazy}
	o.tr = flowfeat.NewTracker(cfg, func(row *flowfeat.Row) { out = append(out, rowText(row)) })
	if _, err := ingest.Run(context.Background(), r, flows.NewTable(flows.DefaultConfig(), o), ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The feature export path (Tracker.Feed/Finish, as `features` uses it)
// gives the same rows, bit for bit, as an accumulator started at each
// flow's first packet: every manifest capture, with checkpoints, 10 s
// windows and end rows.
func TestLazyTrackerRowsAreIdentical(t *testing.T) {
	root := shareddata.Require(t)
	m, err := manifest.Load(filepath.Join(root, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := flowfeat.TrackerConfig{Checkpoints: flowfeat.DefaultCheckpoints(), Window: 10 * time.Second}
	total := 0
	for i := range m.Entries {
		want := trackerRows(t, m.Entries[i].File, cfg, false)
		got := trackerRows(t, m.Entries[i].File, cfg, true)
		total += len(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: lazy rows differ from eager ones (%d vs %d rows)", m.Entries[i].Path, len(got), len(want))
		}
	}
	if total == 0 {
		t.Fatal("no rows: the comparison proved nothing")
	}
}

// A flow that only ever sends SYNs stays in its prelude (no accumulator)
// while no row is due, and a recycled state starts empty.
func TestPreludeHoldsHeaderOnlyPacketsUntilEarned(t *testing.T) {
	var rows []*flowfeat.Row
	tr := flowfeat.NewTracker(flowfeat.TrackerConfig{Checkpoints: flowfeat.DefaultCheckpoints()}, func(r *flowfeat.Row) {
		c := *r
		v := *r.Values
		c.Values = &v
		rows = append(rows, &c)
	})
	t0 := time.Unix(1_800_000_000, 0)
	f := &flows.Flow{ID: 1, Proto: packet.ProtoTCP, First: t0}
	var l flowfeat.Lazy
	p := packet.Packet{Time: t0, Proto: packet.ProtoTCP, HasTCP: true, HasPorts: true, TCPFlags: packet.FlagSYN, IPLen: 60}
	for i := range flowfeat.PreludeLen {
		p.Time = t0.Add(time.Duration(i) * time.Second)
		tr.Feed(&l, f, &p, packet.Up)
		if l.Allocated() {
			t.Fatalf("state allocated at header-only packet %d", i+1)
		}
	}
	p.Time = t0.Add(5 * time.Second)
	tr.Feed(&l, f, &p, packet.Up) // the prelude is full: now it earns state
	if !l.Allocated() {
		t.Fatal("a full prelude did not earn state")
	}
	tr.Finish(&l, f)
	if len(rows) != 1 || rows[0].UpPkts != flowfeat.PreludeLen+1 {
		t.Fatalf("end rows %d, up packets %d; want 1 row counting all %d SYNs", len(rows), rows[0].UpPkts, flowfeat.PreludeLen+1)
	}
	// The recycled state serves the next flow from zero.
	rows = nil
	var l2 flowfeat.Lazy
	p.Payload, p.PayloadLen, p.TCPFlags = []byte("x"), 1, packet.FlagACK
	tr.Feed(&l2, f, &p, packet.Up)
	tr.Finish(&l2, f)
	if len(rows) != 1 || rows[0].UpPkts != 1 {
		t.Fatalf("recycled state counted %d up packets, want 1", rows[0].UpPkts)
	}
}

// Completes recognises the client's ACK that completes a handshake (the
// engine then gives the flow its state at once) and nothing short of it:
// packet shapes as tcpdump shows a connection's opening and a scan's.
func TestPreludeKnowsACompletedHandshake(t *testing.T) {
	const (
		syn, ack, rst, fin = packet.FlagSYN, packet.FlagACK, packet.FlagRST, packet.FlagFIN
		up, down           = packet.Up, packet.Down
	)
	type pkt struct {
		dir   packet.Direction
		flags uint8
	}
	for _, tc := range []struct {
		name string
		pkts []pkt
		want bool
	}{
		{"three-way handshake", []pkt{{up, syn}, {down, syn | ack}, {up, ack}}, true},
		{"retransmitted SYN before the answer", []pkt{{up, syn}, {up, syn}, {down, syn | ack}, {up, ack}}, true},
		{"SYN only", []pkt{{up, syn}}, false},
		{"SYN and SYN/ACK", []pkt{{up, syn}, {down, syn | ack}}, false},
		{"an up ACK without the server's SYN/ACK", []pkt{{up, syn}, {up, ack}}, false},
		{"the server's ACK after its SYN/ACK", []pkt{{up, syn}, {down, syn | ack}, {down, ack}}, false},
		{"a RST ends the scan", []pkt{{up, syn}, {down, syn | ack}, {up, rst | ack}}, false},
		{"a FIN is a close, not an opening", []pkt{{up, syn}, {down, syn | ack}, {up, fin | ack}}, false},
		{"a refused SYN", []pkt{{up, syn}, {down, rst | ack}, {up, ack}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pr flowfeat.Prelude
			p := packet.Packet{Proto: packet.ProtoTCP, HasTCP: true, HasPorts: true, IPLen: 40}
			got := false
			for i, x := range tc.pkts {
				p.TCPFlags = x.flags
				if got = pr.Completes(&p, x.dir); got && i < len(tc.pkts)-1 {
					t.Fatalf("packet %d of %d completes the handshake", i+1, len(tc.pkts))
				}
				if !pr.Add(&p, x.dir) {
					t.Fatalf("packet %d refused", i)
				}
			}
			if got != tc.want {
				t.Errorf("the last packet completes the handshake: %v, want %v", got, tc.want)
			}
		})
	}
	var udp flowfeat.Prelude
	p := packet.Packet{Proto: packet.ProtoUDP, HasPorts: true, IPLen: 40, TCPFlags: ack}
	udp.Add(&p, down)
	p.TCPFlags = syn | ack
	udp.Add(&p, down)
	p.TCPFlags = ack
	if udp.Completes(&p, up) {
		t.Error("a UDP flow's packets (no TCP header) make a handshake")
	}
}
