package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/minerwatch/minerwatch/features/flowfeat"
)

// readStreams reads every row of the given stream files: flow ids in order.
func readStreams(t *testing.T, files []string) (ids []uint64, schema *arrow.Schema) {
	t.Helper()
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ipc.NewReader(f, ipc.WithAllocator(memory.NewGoAllocator()))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		schema = r.Schema()
		for r.Next() {
			rec := r.RecordBatch()
			col := rec.Column(0).(*array.Uint64)
			for i := 0; i < col.Len(); i++ {
				ids = append(ids, col.Value(i))
			}
		}
		if err := r.Err(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		r.Release()
		f.Close()
	}
	return ids, schema
}

// Rotation by size splits the rows over several complete files and loses
// none: every row written before a rotation or Close is readable, in order.
func TestStreamRotatesBySizeAndKeepsEveryRow(t *testing.T) {
	dir := t.TempDir()
	w, err := NewStream(StreamConfig{Path: filepath.Join(dir, "rows.arrows"), Meta: Meta{Sets: flowfeat.Sets()},
		MaxBytes: 64 << 10, FlushEvery: time.Nanosecond}) // a batch per row: forces several rotations
	if err != nil {
		t.Fatal(err)
	}
	rows := testRows(300)
	for i := range rows {
		if err := w.Write(&rows[i], Labels{Capture: "eth1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if len(files) < 2 {
		t.Fatalf("want several files after size rotation, got %v", files)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.part"))
	if len(left) != 0 {
		t.Fatalf("unfinished files left: %v", left)
	}
	ids, _ := readStreams(t, files)
	if len(ids) != len(rows) {
		t.Fatalf("read %d rows, wrote %d", len(ids), len(rows))
	}
	for i, id := range ids {
		if id != rows[i].Flow.ID {
			t.Fatalf("row %d: flow id %d, want %d", i, id, rows[i].Flow.ID)
		}
	}
}

// A file older than MaxAge is completed by Maintain even when no row
// comes (a quiet link), and the stream's columns are the file writer's.
func TestStreamRotatesByAgeOnAQuietLink(t *testing.T) {
	dir := t.TempDir()
	sets := []string{flowfeat.SetMW51}
	w, err := NewStream(StreamConfig{Path: filepath.Join(dir, "rows"), Meta: Meta{Sets: sets}, MaxAge: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rows := testRows(3)
	for i := range rows {
		if err := w.Write(&rows[i], Labels{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(30 * time.Millisecond)
	if err := w.Maintain(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if len(files) != 1 || !strings.HasSuffix(files[0], ".arrows") {
		t.Fatalf("want one completed .arrows file, got %v", files)
	}
	ids, schema := readStreams(t, files)
	if len(ids) != 3 {
		t.Fatalf("read %d rows, want 3", len(ids))
	}
	want, err := Schema(Meta{Sets: sets})
	if err != nil {
		t.Fatal(err)
	}
	if len(schema.Fields()) != len(want.Fields()) {
		t.Fatalf("%d columns, file schema has %d", len(schema.Fields()), len(want.Fields()))
	}
	for i, f := range want.Fields() {
		if got := schema.Field(i); got.Name != f.Name || !arrow.TypeEqual(got.Type, f.Type) {
			t.Fatalf("column %d: %s %s, want %s %s", i, got.Name, got.Type, f.Name, f.Type)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
