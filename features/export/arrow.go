package export

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/minerwatch/minerwatch/features/flowfeat"
)

// SchemaVersion is bumped whenever columns are added, removed or renamed.
const SchemaVersion = "1"

// Input describes one input capture.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Meta is the file-level metadata.
type Meta struct {
	Version      string            // minerwatch version
	Sets         []string          // feature sets, in column order
	Inputs       []Input           // input captures
	Checkpoints  string            // checkpoint schedule, ParseCheckpoints syntax
	Window       time.Duration     // fixed window length, 0 = none
	FlowTable    any               // flow-table settings (JSON-encoded)
	LabelSources []string          // label sources used (manifest, signature, intel)
	Extra        map[string]string // anything else, stored as is
}

// Labels are the per-row annotation columns; empty strings when unknown.
type Labels struct {
	Capture     string // capture file the flow came from
	Group       string // group id for grouped splits (capture or host)
	Scenario    string // plaintext, tls, proxy
	Label       string // mining, benign, ignore
	LabelSource string // manifest, signature, intel
}

// rowColumns are the fixed columns before the features, in order.
var rowColumns = []arrow.Field{
	{Name: "flow_id", Type: arrow.PrimitiveTypes.Uint64},
	{Name: "capture", Type: arrow.BinaryTypes.String},
	{Name: "group", Type: arrow.BinaryTypes.String},
	{Name: "src_ip", Type: arrow.BinaryTypes.String},
	{Name: "src_port", Type: arrow.PrimitiveTypes.Uint16},
	{Name: "dest_ip", Type: arrow.BinaryTypes.String},
	{Name: "dest_port", Type: arrow.PrimitiveTypes.Uint16},
	{Name: "proto", Type: arrow.PrimitiveTypes.Uint8},
	{Name: "vlan", Type: arrow.PrimitiveTypes.Uint16},
	{Name: "flow_first", Type: tsType},
	{Name: "window_kind", Type: arrow.BinaryTypes.String},
	{Name: "checkpoint_s", Type: arrow.PrimitiveTypes.Float64},
	{Name: "window_index", Type: arrow.PrimitiveTypes.Int32},
	{Name: "window_start", Type: tsType},
	{Name: "window_end", Type: tsType},
	{Name: "first_ts", Type: tsType, Nullable: true},
	{Name: "last_ts", Type: tsType, Nullable: true},
	{Name: "pkts_up", Type: arrow.PrimitiveTypes.Uint64},
	{Name: "pkts_down", Type: arrow.PrimitiveTypes.Uint64},
	{Name: "ip_bytes_up", Type: arrow.PrimitiveTypes.Uint64},
	{Name: "ip_bytes_down", Type: arrow.PrimitiveTypes.Uint64},
}

var labelColumns = []arrow.Field{
	{Name: "scenario", Type: arrow.BinaryTypes.String},
	{Name: "label", Type: arrow.BinaryTypes.String},
	{Name: "label_source", Type: arrow.BinaryTypes.String},
}

var tsType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// Schema returns the Arrow schema for the given feature sets and metadata.
func Schema(meta Meta) (*arrow.Schema, error) {
	fields := append([]arrow.Field(nil), rowColumns...)
	for _, set := range meta.Sets {
		defs := flowfeat.Defs(set)
		if defs == nil {
			return nil, fmt.Errorf("unknown feature set %q", set)
		}
		for _, d := range defs {
			fields = append(fields, arrow.Field{
				Name: d.Name, Type: arrow.PrimitiveTypes.Float64,
				Metadata: arrow.NewMetadata(
					[]string{"unit", "set", "direction", "definition"},
					[]string{d.Unit, d.Set, d.Direction, d.Definition}),
			})
		}
	}
	fields = append(fields, labelColumns...)
	keys := []string{"minerwatch.schema_version", "minerwatch.version", "minerwatch.created"}
	vals := []string{SchemaVersion, meta.Version, time.Now().UTC().Format(time.RFC3339)}
	add := func(k string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode metadata %s: %w", k, err)
		}
		keys, vals = append(keys, k), append(vals, string(b))
		return nil
	}
	for _, kv := range []struct {
		k string
		v any
	}{
		{"minerwatch.feature_sets", meta.Sets},
		{"minerwatch.inputs", meta.Inputs},
		{"minerwatch.flow_table", meta.FlowTable},
		{"minerwatch.label_sources", meta.LabelSources},
	} {
		if err := add(kv.k, kv.v); err != nil {
			return nil, err
		}
	}
	keys = append(keys, "minerwatch.checkpoints", "minerwatch.window_s")
	vals = append(vals, meta.Checkpoints, strconv.FormatFloat(meta.Window.Seconds(), 'g', -1, 64))
	for k, v := range meta.Extra {
		keys, vals = append(keys, "minerwatch."+k), append(vals, v)
	}
	md := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(fields, &md), nil
}

// batchRows is how many rows are buffered before a record batch is written.
const batchRows = 4096

// Writer writes feature rows to an Arrow IPC file.
type Writer struct {
	path, tmp string
	file      *os.File
	fw        *ipc.FileWriter
	rb        *array.RecordBuilder
	sets      []string
	pending   int
	rows      int64
	closed    bool
}

// Create starts an Arrow IPC file at path (written under a temporary name
// until Close).
func Create(path string, meta Meta) (*Writer, error) {
	schema, err := Schema(meta)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	mem := memory.NewGoAllocator()
	fw, err := ipc.NewFileWriter(f, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create %s: arrow writer: %w", path, err)
	}
	return &Writer{path: path, tmp: f.Name(), file: f, fw: fw, rb: array.NewRecordBuilder(mem, schema), sets: meta.Sets}, nil
}

// Rows returns the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

func ts(t time.Time) arrow.Timestamp { return arrow.Timestamp(t.UnixMicro()) }

// Write appends one row.
func (w *Writer) Write(r *flowfeat.Row, lab Labels) error {
	f := r.Flow
	b := w.rb
	i := 0
	next := func() array.Builder { x := b.Field(i); i++; return x }
	next().(*array.Uint64Builder).Append(f.ID)
	next().(*array.StringBuilder).Append(lab.Capture)
	next().(*array.StringBuilder).Append(lab.Group)
	next().(*array.StringBuilder).Append(f.Client.Addr().String())
	next().(*array.Uint16Builder).Append(f.Client.Port())
	next().(*array.StringBuilder).Append(f.Server.Addr().String())
	next().(*array.Uint16Builder).Append(f.Server.Port())
	next().(*array.Uint8Builder).Append(f.Proto)
	next().(*array.Uint16Builder).Append(f.VLAN[0])
	next().(*array.TimestampBuilder).Append(ts(f.First))
	next().(*array.StringBuilder).Append(r.Kind)
	next().(*array.Float64Builder).Append(r.Checkpoint.Seconds())
	next().(*array.Int32Builder).Append(int32(r.Window))
	next().(*array.TimestampBuilder).Append(ts(r.Start))
	next().(*array.TimestampBuilder).Append(ts(r.End))
	for _, t := range []time.Time{r.First, r.Last} {
		tb := next().(*array.TimestampBuilder)
		if t.IsZero() {
			tb.AppendNull()
		} else {
			tb.Append(ts(t))
		}
	}
	next().(*array.Uint64Builder).Append(uint64(r.UpPkts))
	next().(*array.Uint64Builder).Append(uint64(r.DownPkts))
	next().(*array.Uint64Builder).Append(r.UpBytes)
	next().(*array.Uint64Builder).Append(r.DownBytes)
	for _, set := range w.sets {
		for _, v := range r.Values.Set(set) {
			next().(*array.Float64Builder).Append(v)
		}
	}
	next().(*array.StringBuilder).Append(lab.Scenario)
	next().(*array.StringBuilder).Append(lab.Label)
	next().(*array.StringBuilder).Append(lab.LabelSource)
	w.pending++
	w.rows++
	if w.pending >= batchRows {
		return w.flush()
	}
	return nil
}

func (w *Writer) flush() error {
	if w.pending == 0 {
		return nil
	}
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	w.pending = 0
	if err := w.fw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}

// Close writes the last batch and the footer, syncs, and renames the file
// into place. On error the temporary file is removed.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.flush()
	if cerr := w.fw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("finish %s: %w", w.path, cerr)
	}
	w.rb.Release()
	if cerr := w.file.Chmod(0o644); err == nil && cerr != nil { // CreateTemp makes 0600
		err = fmt.Errorf("chmod %s: %w", w.path, cerr)
	}
	if serr := w.file.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("sync %s: %w", w.path, serr)
	}
	if cerr := w.file.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", w.path, cerr)
	}
	if err == nil {
		if rerr := os.Rename(w.tmp, w.path); rerr != nil {
			err = fmt.Errorf("rename into %s: %w", w.path, rerr)
		}
	}
	if err != nil {
		os.Remove(w.tmp)
	}
	return err
}

// Abort discards the file: nothing is left at path or under the temp name.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.fw.Close()
	w.rb.Release()
	w.file.Close()
	os.Remove(w.tmp)
}
