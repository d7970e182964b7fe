package export

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/flows"
)

func testRows(n int) []flowfeat.Row {
	t0 := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	var rows []flowfeat.Row
	for i := 0; i < n; i++ {
		f := &flows.Flow{ID: uint64(i + 1), Proto: 6, First: t0,
			Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("[2001:db8::1]:3333")}
		v := new(flowfeat.Vector)
		for j := range v {
			v[j] = float64(i*1000 + j)
		}
		v[3] = math.NaN() // an undefined feature must come back NaN, not null or 0
		rows = append(rows, flowfeat.Row{Flow: f, Kind: flowfeat.KindCheckpoint, Checkpoint: 30 * time.Second,
			Start: t0, End: t0.Add(30 * time.Second), First: t0, Last: t0.Add(29 * time.Second),
			UpPkts: uint32(i), DownPkts: 2, UpBytes: 100, DownBytes: 200, Values: v})
	}
	return rows
}

// Rows written and read back with arrow-go are identical, NaN included,
// across several record batches.
func TestArrowRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rt.arrow")
	sets := flowfeat.Sets()
	w, err := Create(path, Meta{Version: "test", Sets: sets, Checkpoints: "30,+300"})
	if err != nil {
		t.Fatal(err)
	}
	rows := testRows(batchRows + 17)
	for i := range rows {
		if err := w.Write(&rows[i], Labels{Capture: "c.pcap", Label: "mining", LabelSource: "manifest"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	schema := r.Schema()
	if v, _ := schema.Metadata().GetValue("minerwatch.checkpoints"); v != "30,+300" {
		t.Errorf("checkpoints metadata = %q", v)
	}
	names := flowfeat.Names(sets)
	firstFeature := schema.FieldIndices(names[0])[0]
	if md := schema.Field(firstFeature).Metadata; md.FindKey("unit") < 0 {
		t.Error("feature field has no unit metadata")
	}
	if r.NumRecords() < 2 {
		t.Errorf("record batches = %d, want ≥ 2 (streamed in batches)", r.NumRecords())
	}
	row := 0
	for b := 0; b < r.NumRecords(); b++ {
		rec, err := r.Record(b)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			want := rows[row]
			if got := rec.Column(0).(*array.Uint64).Value(i); got != want.Flow.ID {
				t.Fatalf("row %d flow_id = %d", row, got)
			}
			if got := rec.Column(schema.FieldIndices("dest_ip")[0]).(*array.String).Value(i); got != "2001:db8::1" {
				t.Fatalf("dest_ip = %q", got)
			}
			if got := rec.Column(schema.FieldIndices("window_end")[0]).(*array.Timestamp).Value(i); got != arrow.Timestamp(want.End.UnixMicro()) {
				t.Fatalf("window_end = %v", got)
			}
			for j := range names {
				got := rec.Column(firstFeature + j).(*array.Float64).Value(i)
				w := want.Values[j]
				if !(got == w || (math.IsNaN(got) && math.IsNaN(w))) {
					t.Fatalf("row %d %s = %v, want %v", row, names[j], got, w)
				}
			}
			row++
		}
	}
	if row != len(rows) {
		t.Errorf("read %d rows, wrote %d", row, len(rows))
	}
}

// Abort (and a failed run) leaves nothing at the target path.
func TestAbortLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.arrow")
	w, err := Create(path, Meta{Sets: []string{flowfeat.SetMW51}})
	if err != nil {
		t.Fatal(err)
	}
	rows := testRows(3)
	w.Write(&rows[0], Labels{})
	w.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("files left after Abort: %v", entries)
	}
}

func TestUnknownSetIsRefused(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "x"), Meta{Sets: []string{"nope"}}); err == nil {
		t.Error("unknown feature set accepted")
	}
}
