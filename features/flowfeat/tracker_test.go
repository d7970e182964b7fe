package flowfeat

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
)

func TestParseCheckpoints(t *testing.T) {
	cases := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"30,60,120,300,+300", "30,60,120,300,+300", false},
		{"120,30", "30,120", false},
		{"90s,2m", "90,120", false},
		{"none", "none", false},
		{"+60", "+60", false},
		{"30,+60,90", "", true},
		{"-5", "", true},
		{"abc", "", true},
	}
	for _, c := range cases {
		got, err := ParseCheckpoints(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("ParseCheckpoints(%q) error = %v, wantErr %v", c.in, err, c.wantErr)
			continue
		}
		if err == nil && got.String() != c.want {
			t.Errorf("ParseCheckpoints(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestCheckpointScheduleRepeats(t *testing.T) {
	c := DefaultCheckpoints()
	var got []string
	prev := time.Duration(0)
	for i := 0; i < 7; i++ {
		prev = c.next(prev)
		got = append(got, prev.String())
	}
	want := "30s 1m0s 2m0s 5m0s 10m0s 15m0s 20m0s"
	if strings.Join(got, " ") != want {
		t.Errorf("schedule = %s, want %s", strings.Join(got, " "), want)
	}
}

// A flow with a data packet every 10 s for 700 s yields checkpoint rows at
// 30, 60, 120, 300 and 600 s and one end row; each checkpoint row counts
// only the packets before its time.
func TestTrackerEmitsCheckpointRowsBeforeTheCrossingPacket(t *testing.T) {
	type got struct {
		kind string
		cp   time.Duration
		pkts float64
	}
	var rows []got
	tr := NewTracker(TrackerConfig{Checkpoints: DefaultCheckpoints()}, func(r *Row) {
		rows = append(rows, got{r.Kind, r.Checkpoint, r.Values.Set(SetMW51)[0]})
	})
	f := &flows.Flow{First: t0}
	st := tr.Start(f)
	for i := 0; i <= 70; i++ {
		p := &packet.Packet{Time: t0.Add(time.Duration(i) * 10 * time.Second), Proto: packet.ProtoUDP,
			SrcIP: netip.MustParseAddr("10.0.0.1"), DstIP: netip.MustParseAddr("10.0.0.2"), PayloadLen: 10, IPLen: 38}
		tr.Packet(st, f, p, packet.Up)
	}
	tr.End(st, f)
	want := []got{
		{KindCheckpoint, 30 * time.Second, 3}, // packets at 0, 10, 20
		{KindCheckpoint, 60 * time.Second, 6},
		{KindCheckpoint, 120 * time.Second, 12},
		{KindCheckpoint, 300 * time.Second, 30},
		{KindCheckpoint, 600 * time.Second, 60},
		{KindEnd, 0, 71},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %v, want %v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
}

// With LateEndRow (and NoEndRow, as the model alone runs it), a flow
// that ends between checkpoints after the first gets a row at its end,
// marked Late; one that saw nothing since its last checkpoint row, or
// ended before the first checkpoint, gets none.
func TestLateEndRowOnlyForFlowsEndingBetweenCheckpoints(t *testing.T) {
	cases := []struct {
		name    string
		at      []int // packet times, s
		advance int   // clock advanced to this time (s) before the end, 0 = not
		want    []string
	}{
		{"ends at 25 s, between 20 s and the next", []int{0, 5, 15, 25}, 0, []string{"checkpoint 10s", "checkpoint 20s", "end late"}},
		{"ends at 15 s, between 10 and 20 s", []int{0, 5, 15}, 0, []string{"checkpoint 10s", "end late"}},
		{"quiet from 15 s, its 20 s row has seen everything", []int{0, 5, 15}, 21, []string{"checkpoint 10s", "checkpoint 20s"}},
		{"ends at 8 s, before the first checkpoint", []int{0, 4, 8}, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			cp, _ := ParseCheckpoints("10,20")
			tr := NewTracker(TrackerConfig{Checkpoints: cp, NoEndRow: true, LateEndRow: true}, func(r *Row) {
				if r.Kind == KindEnd {
					got = append(got, "end "+map[bool]string{true: "late", false: "plain"}[r.Late])
					return
				}
				got = append(got, r.Kind+" "+r.Checkpoint.String())
			})
			f := &flows.Flow{First: t0}
			st := tr.Start(f)
			for _, at := range c.at {
				p := &packet.Packet{Time: t0.Add(time.Duration(at) * time.Second), Proto: packet.ProtoUDP, PayloadLen: 10, IPLen: 38}
				tr.Packet(st, f, p, packet.Up)
			}
			if c.advance > 0 {
				tr.Advance(st, f, t0.Add(time.Duration(c.advance)*time.Second))
			}
			tr.End(st, f)
			if strings.Join(got, ", ") != strings.Join(c.want, ", ") {
				t.Errorf("rows %v, want %v", got, c.want)
			}
		})
	}
}

func TestTrackerFixedWindows(t *testing.T) {
	var counts []float64
	tr := NewTracker(TrackerConfig{Window: 60 * time.Second, NoEndRow: true}, func(r *Row) {
		if r.Kind == KindWindow {
			counts = append(counts, r.Values.Set(SetMW51)[0])
		}
	})
	f := &flows.Flow{First: t0}
	st := tr.Start(f)
	// Packets at 0..150 s every 10 s, then silence until one at 400 s:
	// windows [0,60) 6, [60,120) 6, [120,180) 4, empty ones skipped, [360,420) 1.
	for _, at := range []int{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 400} {
		p := &packet.Packet{Time: t0.Add(time.Duration(at) * time.Second), Proto: packet.ProtoUDP, PayloadLen: 1, IPLen: 29}
		tr.Packet(st, f, p, packet.Up)
	}
	tr.End(st, f)
	want := []float64{6, 6, 4, 1}
	if len(counts) != len(want) {
		t.Fatalf("window counts = %v, want %v", counts, want)
	}
	for i := range want {
		if counts[i] != want[i] {
			t.Fatalf("window counts = %v, want %v", counts, want)
		}
	}
}

func TestSetSizes(t *testing.T) {
	for set, n := range map[string]int{SetMW51: 51, SetMWX: 7, SetMW51X: 58, SetNetFlow8: 8, SetDeCrypto12: 12, SetSeq: 84, SetMW51XSeq: 142} {
		defs := Defs(set)
		if len(defs) != n {
			t.Errorf("%s has %d features, want %d", set, len(defs), n)
		}
		var v Vector
		if len(v.Set(set)) != n {
			t.Errorf("Vector.Set(%s) has %d slots, want %d", set, len(v.Set(set)), n)
		}
		for _, d := range defs {
			if d.Unit == "" || d.Definition == "" || d.Direction == "" {
				t.Errorf("%s: incomplete definition %+v", d.Name, d)
			}
		}
	}
	seen := map[string]bool{}
	for _, n := range Names(Sets()) {
		if seen[n] {
			t.Errorf("duplicate feature name %s", n)
		}
		seen[n] = true
	}
}

// The README's feature table is generated from Defs; this keeps them equal.
func TestREADMEFeatureTableMatchesDefs(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), MarkdownTable(Sets())) {
		t.Error("README.md's feature table differs from flowfeat.Defs; regenerate it with `minerwatch features --list --markdown` (or `make readme-table`)")
	}
}

// A packet that passes many checkpoints at once (an idle flow, or a clock
// that jumped a year ahead) yields a row for each listed checkpoint it
// passed, as Advance emits them one by one on a live link (a session
// quiet after its login must be scored at 30 s offline too), and one row
// for the repetitions after them: the last one passed.
func TestTrackerEmitsListedCheckpointsAFlowSleptThroughAndOneRepetition(t *testing.T) {
	var cps []time.Duration
	tr := NewTracker(TrackerConfig{Checkpoints: DefaultCheckpoints(), Window: time.Minute, NoEndRow: true}, func(r *Row) {
		if r.Kind == KindCheckpoint {
			cps = append(cps, r.Checkpoint)
		}
	})
	f := &flows.Flow{First: t0}
	st := tr.Start(f)
	pk := func(at time.Duration) *packet.Packet {
		return &packet.Packet{Time: t0.Add(at), Proto: packet.ProtoUDP, PayloadLen: 1, IPLen: 29}
	}
	tr.Packet(st, f, pk(0), packet.Up)
	tr.Packet(st, f, pk(10*time.Second), packet.Up)
	tr.Packet(st, f, pk(1000*time.Second), packet.Up) // passes 30, 60, 120, 300, 600, 900
	tr.Packet(st, f, pk(365*24*time.Hour), packet.Up) // a year later
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute}
	if len(cps) != len(want)+1 || !slices.Equal(cps[:len(want)], want) {
		t.Fatalf("checkpoints = %v, want %v and <last repetition before a year>", cps, want)
	}
	if year := 365 * 24 * time.Hour; cps[5] > year || cps[5] <= year-300*time.Second {
		t.Errorf("last row at %v, want the last 300 s repetition before %v", cps[5], year)
	}
}

// The sequence state costs a flow 120 bytes from its first data packet:
// a tracker whose model does not read the seq set never allocates it.
func TestNoSeqAllocatesNoSequenceState(t *testing.T) {
	for _, noSeq := range []bool{false, true} {
		tr := NewTracker(TrackerConfig{Checkpoints: DefaultCheckpoints(), NoSeq: noSeq}, func(*Row) {})
		f := &flows.Flow{First: t0}
		st := tr.Start(f)
		tr.Packet(st, f, &packet.Packet{Time: t0, Proto: packet.ProtoUDP, PayloadLen: 10, IPLen: 38}, packet.Up)
		if (st.seq == nil) != noSeq {
			t.Errorf("NoSeq %v: sequence state allocated = %v", noSeq, st.seq != nil)
		}
	}
	if !SeqFree(SetMW51X) || SeqFree(SetSeq) || SeqFree(SetMW51XSeq) {
		t.Error("SeqFree must be false exactly for the sets with seq columns")
	}
}

// MinDataPkts drops a row whose window holds fewer data packets (both
// directions) before it is computed; header-only packets do not count, and
// a row with exactly that many is emitted. The same packets with
// MinDataPkts 0 give every row, so the difference is the threshold's.
func TestMinDataPktsSkipsRowsOfFlowsWithFewDataPackets(t *testing.T) {
	cp, _ := ParseCheckpoints("10,20,30")
	// Data packets at 1, 2, 3 s (3 by the 10 s row), then 12, 13, 14 s
	// (6 by the 20 s row), header-only ACKs at 4–9 s, one more data packet
	// at 25 s (7 by the 30 s row); the packet at 31 s triggers that row.
	type pk struct {
		at      int
		payload int
	}
	pkts := []pk{{1, 10}, {2, 10}, {3, 10}, {4, 0}, {5, 0}, {6, 0}, {7, 0}, {8, 0}, {9, 0},
		{12, 10}, {13, 10}, {14, 10}, {25, 10}, {31, 0}}
	cases := []struct {
		min  uint32
		want string
	}{
		{0, "10s 20s 30s"},
		{3, "10s 20s 30s"},
		{4, "20s 30s"},
		{6, "20s 30s"},
		{7, "30s"},
		{8, ""},
	}
	for _, c := range cases {
		var got []string
		tr := NewTracker(TrackerConfig{Checkpoints: cp, NoEndRow: true, MinDataPkts: c.min}, func(r *Row) {
			got = append(got, r.Checkpoint.String())
		})
		f := &flows.Flow{First: t0}
		st := tr.Start(f)
		for i, p := range pkts {
			dir := packet.Up
			if i%2 == 1 {
				dir = packet.Down
			}
			tr.Packet(st, f, &packet.Packet{Time: t0.Add(time.Duration(p.at) * time.Second), Proto: packet.ProtoTCP,
				PayloadLen: p.payload, IPLen: 40 + p.payload, HasTCP: true}, dir)
		}
		tr.End(st, f)
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("MinDataPkts %d: rows %q, want %q", c.min, g, c.want)
		}
	}
}
