package export

import (
	"context"
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
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

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
		v[3] = math.NaN() // an undefined feature must come back null, not NaN or 0
		rows = append(rows, flowfeat.Row{Flow: f, Kind: flowfeat.KindCheckpoint, Checkpoint: 30 * time.Second,
			Start: t0, End: t0.Add(30 * time.Second), First: t0, Last: t0.Add(29 * time.Second),
			UpPkts: uint32(i), DownPkts: 2, UpBytes: 100, DownBytes: 200, Values: v})
	}
	return rows
}

// readBack reads a whole output with arrow-go and returns its schema, its
// record batches (row groups for Parquet) and how many there were.
func readBack(t *testing.T, path string, format Format) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	mem := memory.NewGoAllocator()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var recs []arrow.RecordBatch
	switch format {
	case FormatArrow:
		r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < r.NumRecords(); i++ {
			rec, err := r.Record(i)
			if err != nil {
				t.Fatal(err)
			}
			rec.Retain()
			recs = append(recs, rec)
		}
		return r.Schema(), recs
	case FormatArrowStream:
		r, err := ipc.NewReader(f, ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			rec := r.RecordBatch()
			rec.Retain()
			recs = append(recs, rec)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		return r.Schema(), recs
	case FormatParquet:
		pf, err := file.NewParquetReader(f)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 20}, mem)
		if err != nil {
			t.Fatal(err)
		}
		schema, err := fr.Schema()
		if err != nil {
			t.Fatal(err)
		}
		cols := make([]int, pf.MetaData().Schema.NumColumns()) // nil would read no column
		for i := range cols {
			cols[i] = i
		}
		for g := 0; g < pf.NumRowGroups(); g++ {
			tbl, err := fr.ReadRowGroups(context.Background(), cols, []int{g})
			if err != nil {
				t.Fatal(err)
			}
			tr := array.NewTableReader(tbl, tbl.NumRows())
			for tr.Next() {
				rec := tr.RecordBatch()
				rec.Retain()
				recs = append(recs, rec)
			}
			tr.Release()
			tbl.Release()
		}
		return schema, recs
	}
	t.Fatalf("unknown format %v", format)
	return nil, nil
}

// Rows written and read back with arrow-go are identical (an undefined,
// NaN, feature comes back null),
// across several record batches (row groups), in every output format; the
// schema metadata and field metadata survive too (Parquet keeps them
// through pqarrow's stored Arrow schema).
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		format Format
		batch  int
	}{
		{FormatArrow, batchRows},
		{FormatArrowStream, batchRows},
		{FormatParquet, parquetBatchRows},
	} {
		t.Run(tc.format.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rt."+tc.format.String())
			sets := flowfeat.Sets()
			w, err := CreateFormat(path, tc.format, Meta{Version: "test", Sets: sets, Checkpoints: "30,+300",
				Inputs: []Input{{Path: "c.pcap", SHA256: "ab", Bytes: 1}}, Extra: map[string]string{"rows": "all"}})
			if err != nil {
				t.Fatal(err)
			}
			rows := testRows(tc.batch + 17)
			for i := range rows {
				if err := w.Write(&rows[i], Labels{Capture: "c.pcap", Group: "c", Scenario: "tls", Label: "mining", LabelSource: "manifest"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			schema, recs := readBack(t, path, tc.format)
			for k, want := range map[string]string{
				"minerwatch.checkpoints":    "30,+300",
				"minerwatch.version":        "test",
				"minerwatch.schema_version": SchemaVersion,
				"minerwatch.rows":           "all",
				"minerwatch.inputs":         `[{"path":"c.pcap","sha256":"ab","bytes":1}]`,
				"minerwatch.undefined":      "null",
			} {
				if v, _ := schema.Metadata().GetValue(k); v != want {
					t.Errorf("metadata %s = %q, want %q", k, v, want)
				}
			}
			names := flowfeat.Names(sets)
			firstFeature := schema.FieldIndices(names[0])[0]
			for _, name := range names {
				f := schema.Field(schema.FieldIndices(name)[0])
				md := f.Metadata
				if md.FindKey("unit") < 0 || md.FindKey("definition") < 0 {
					t.Errorf("%s field metadata = %v, want unit and definition", name, md)
				}
				if v, _ := md.GetValue(UndefinedKey); v != "null" || !f.Nullable {
					t.Errorf("%s: nullable %v, %s = %q; want nullable, null", name, f.Nullable, UndefinedKey, v)
				}
			}
			if port := schema.Field(schema.FieldIndices("dest_port")[0]); port.Type.ID() != arrow.UINT16 {
				t.Errorf("dest_port type = %v, want uint16", port.Type)
			}
			if len(recs) < 2 {
				t.Errorf("record batches = %d, want ≥ 2 (written in batches of %d)", len(recs), tc.batch)
			}
			col := func(rec arrow.RecordBatch, name string) arrow.Array { return rec.Column(schema.FieldIndices(name)[0]) }
			row := 0
			for _, rec := range recs {
				for i := 0; i < int(rec.NumRows()); i++ {
					want := rows[row]
					if got := col(rec, "flow_id").(*array.Uint64).Value(i); got != want.Flow.ID {
						t.Fatalf("row %d flow_id = %d", row, got)
					}
					if got := col(rec, "dest_ip").(*array.String).Value(i); got != "2001:db8::1" {
						t.Fatalf("dest_ip = %q", got)
					}
					if got := col(rec, "dest_port").(*array.Uint16).Value(i); got != 3333 {
						t.Fatalf("dest_port = %d", got)
					}
					if got := col(rec, "pkts_up").(*array.Uint64).Value(i); got != uint64(want.UpPkts) {
						t.Fatalf("pkts_up = %d, want %d", got, want.UpPkts)
					}
					if got := col(rec, "window_end").(*array.Timestamp).Value(i); got != arrow.Timestamp(want.End.UnixMicro()) {
						t.Fatalf("window_end = %v", got)
					}
					if got := col(rec, "label").(*array.String).Value(i); got != "mining" {
						t.Fatalf("label = %q", got)
					}
					for j := range names {
						c := rec.Column(firstFeature + j).(*array.Float64)
						w := want.Values[j]
						if math.IsNaN(w) {
							if !c.IsNull(i) {
								t.Fatalf("row %d %s = %v, want null (undefined)", row, names[j], c.Value(i))
							}
							continue
						}
						if got := c.Value(i); c.IsNull(i) || got != w {
							t.Fatalf("row %d %s = %v (null %v), want %v", row, names[j], got, c.IsNull(i), w)
						}
					}
					row++
				}
				rec.Release()
			}
			if row != len(rows) {
				t.Errorf("read %d rows, wrote %d", row, len(rows))
			}
		})
	}
}

// Every fixed column documents itself, and a feature set's version
// changes with its definition table only.
func TestSchemaDescribesColumns(t *testing.T) {
	schema, err := Schema(Meta{Sets: []string{flowfeat.SetMW51}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range schema.Fields() {
		if i := f.Metadata.FindKey("definition"); i < 0 || f.Metadata.Values()[i] == "" {
			t.Errorf("column %s has no definition", f.Name)
		}
	}
	v, _ := schema.Metadata().GetValue("minerwatch.feature_set_versions")
	if want := `{"mw51":"` + SetVersion(flowfeat.SetMW51) + `"}`; v != want {
		t.Errorf("feature_set_versions = %s, want %s", v, want)
	}
	if SetVersion(flowfeat.SetMW51) == SetVersion(flowfeat.SetMWX) {
		t.Error("two different sets have the same version")
	}
}

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Format
	}{
		{"x.arrow", FormatArrow},
		{"x.feather", FormatArrow},
		{"x.parquet", FormatParquet},
		{"X.PQ", FormatParquet},
		{"x.arrows", FormatArrowStream},
	} {
		if got := FormatOf(tc.path); got != tc.want {
			t.Errorf("FormatOf(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
	if _, err := ParseFormat("csv"); err == nil {
		t.Error("ParseFormat accepted csv")
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

// The same holds for Parquet, whose writer would otherwise close the file.
func TestParquetAbortLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	w, err := CreateFormat(filepath.Join(dir, "x.parquet"), FormatParquet, Meta{Sets: []string{flowfeat.SetMW51}})
	if err != nil {
		t.Fatal(err)
	}
	rows := testRows(3)
	w.Write(&rows[0], Labels{})
	w.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left after Abort: %v", entries)
	}
}

func TestUnknownSetIsRefused(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "x"), Meta{Sets: []string{"nope"}}); err == nil {
		t.Error("unknown feature set accepted")
	}
}

// The TLS and stage columns hold what the row's Stages say, and null where
// a stage said nothing (an empty string, an unscored row), in every format.
func TestStageColumnsAreNullWhenUnknown(t *testing.T) {
	for _, format := range []Format{FormatArrow, FormatParquet} {
		path := filepath.Join(t.TempDir(), "st."+format.String())
		w, err := CreateFormat(path, format, Meta{Sets: []string{flowfeat.SetMW51}})
		if err != nil {
			t.Fatal(err)
		}
		rows := testRows(2)
		known := Stages{SNI: "pool.example", JA3Hash: "abc", JA4: "t13d", SignatureState: "job",
			SignatureDialect: "cryptonote", IntelMatch: "sni", ModelScore: 0.75, Scored: true}
		for i, st := range []Stages{known, {ModelScore: 0.5}} { // the second is unscored: null, not 0.5
			if err := w.Write(&rows[i], Labels{Stages: st}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		schema, recs := readBack(t, path, format)
		rec := recs[0]
		col := func(name string) arrow.Array { return rec.Column(schema.FieldIndices(name)[0]) }
		for name, want := range map[string]string{"tls_sni": "pool.example", "tls_ja3_hash": "abc", "tls_ja4": "t13d",
			"signature_state": "job", "signature_dialect": "cryptonote", "intel_match": "sni"} {
			c := col(name).(*array.String)
			if c.IsNull(0) || c.Value(0) != want || !c.IsNull(1) {
				t.Errorf("%s %s = %q (null %v), %v; want %q, null", format, name, c.Value(0), c.IsNull(0), c.IsNull(1), want)
			}
		}
		sc := col("model_score").(*array.Float32)
		if sc.IsNull(0) || sc.Value(0) != 0.75 || !sc.IsNull(1) {
			t.Errorf("%s model_score = %v, null %v; want 0.75, null", format, sc.Value(0), sc.IsNull(1))
		}
		for _, r := range recs {
			r.Release()
		}
	}
}

// BenchmarkWriteRows: rows written per second to a file of each format,
// every feature set, one undefined (null) feature and the stage columns per
// row. go test -run '^$' -bench WriteRows ./features/export
func BenchmarkWriteRows(b *testing.B) {
	for _, format := range []Format{FormatArrow, FormatParquet} {
		b.Run(format.String(), func(b *testing.B) {
			rows := testRows(64)
			lab := Labels{Capture: "c.pcap", Label: "mining", Stages: Stages{SNI: "pool.example", JA4: "t13d", ModelScore: 0.5, Scored: true}}
			w, err := CreateFormat(filepath.Join(b.TempDir(), "b."+format.String()), format, Meta{Sets: flowfeat.Sets()})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := w.Write(&rows[i%len(rows)], lab); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
