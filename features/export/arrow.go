package export

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/internal/outfile"
)

// SchemaVersion is bumped whenever columns are added, removed or renamed.
const SchemaVersion = "2"

// UndefinedKey is the field metadata key every feature column carries, with
// the value UndefinedNull: a feature that is undefined for a row (a std of
// one sample, a ratio over zero; NaN inside minerwatch) is a null in the
// file — the Arrow validity bitmap, Parquet's definition level — never a
// NaN, so SQL and dataframe aggregates skip it and IS NULL finds it.
const (
	UndefinedKey  = "minerwatch.undefined"
	UndefinedNull = "null"
)

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
	Extra        map[string]string // anything else, stored as is under minerwatch.<key>
	Created      time.Time         // creation time recorded; zero = now (set it for reproducible files)
}

// Labels are the per-row annotation columns; empty strings when unknown.
type Labels struct {
	Capture     string // capture file the flow came from
	Group       string // group id for grouped splits (capture or host)
	Scenario    string // plaintext, tls, proxy
	Label       string // mining, benign, ignore
	LabelSource string // manifest, signature, intel
	Stages
}

// Stages are the row's TLS metadata and what each detection stage had
// said about its flow by the row's end, for researchers to join on (the
// alerts share flow_id). Empty strings are written as nulls.
type Stages struct {
	SNI     string // ClientHello server name
	JA3Hash string // JA3 fingerprint (MD5, hex)
	JA4     string // JA4 fingerprint
	// SignatureState is the last conversation state the signature stage
	// read (hello, authorized, job, submit, accepted, keepalive), and
	// SignatureDialect its dialect once it confirmed mining.
	SignatureState, SignatureDialect string
	IntelMatch                       string // first intel match kind: ip, dns-query, dns-answer, sni, learned
	// ModelScore is stage 2's probability for this row when Scored.
	ModelScore float64
	Scored     bool
}

// column is a fixed (non-feature) column: its Arrow field and the unit and
// definition stored as its field metadata, so a file explains itself.
type column struct {
	field     arrow.Field
	unit, def string
}

var tsType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

func col(name string, t arrow.DataType, unit, def string) column {
	return column{field: arrow.Field{Name: name, Type: t}, unit: unit, def: def}
}

// rowColumns are the fixed columns before the features, in order.
var rowColumns = []column{
	col("flow_id", arrow.PrimitiveTypes.Uint64, "", "flow id (51-bit hash of the flow key and first packet time): the flow_id of the same flow's alerts and flow events"),
	col("capture", arrow.BinaryTypes.String, "", "capture file the flow came from (manifest path with --manifest, base name otherwise)"),
	col("group", arrow.BinaryTypes.String, "", "group id for grouped splits: rows of one group must not be split between train and test"),
	col("src_ip", arrow.BinaryTypes.String, "", "flow initiator's address (client)"),
	col("src_port", arrow.PrimitiveTypes.Uint16, "", "flow initiator's port (0 without ports)"),
	col("dest_ip", arrow.BinaryTypes.String, "", "responder's address (server)"),
	col("dest_port", arrow.PrimitiveTypes.Uint16, "", "responder's port"),
	col("proto", arrow.PrimitiveTypes.Uint8, "", "IP protocol number (6 TCP, 17 UDP)"),
	col("vlan", arrow.PrimitiveTypes.Uint16, "", "outer VLAN id, 0 = none"),
	col("flow_first", tsType, "µs UTC", "time of the flow's first packet"),
	col("window_kind", arrow.BinaryTypes.String, "", "checkpoint: cumulative from flow start to checkpoint_s; window: fixed window window_index; end: whole flow at its end"),
	col("checkpoint_s", arrow.PrimitiveTypes.Float64, "s", "checkpoint (seconds after flow start) for checkpoint rows, 0 otherwise"),
	col("window_index", arrow.PrimitiveTypes.Int32, "", "fixed-window number for window rows (0-based), 0 otherwise"),
	col("window_start", tsType, "µs UTC", "start of the span the features cover"),
	col("window_end", tsType, "µs UTC", "end of the span the features cover"),
	nullable("first_ts", tsType, "µs UTC", "first packet in the span, null if none"),
	nullable("last_ts", tsType, "µs UTC", "last packet in the span, null if none"),
	col("pkts_up", arrow.PrimitiveTypes.Uint64, "packets", "packets client → server in the span"),
	col("pkts_down", arrow.PrimitiveTypes.Uint64, "packets", "packets server → client in the span"),
	col("ip_bytes_up", arrow.PrimitiveTypes.Uint64, "bytes", "IP bytes (headers included) client → server in the span"),
	col("ip_bytes_down", arrow.PrimitiveTypes.Uint64, "bytes", "IP bytes (headers included) server → client in the span"),
}

var labelColumns = []column{
	col("scenario", arrow.BinaryTypes.String, "", "mining rows: plaintext, tls or proxy; empty for benign and unlabelled rows"),
	col("label", arrow.BinaryTypes.String, "", "mining, benign or ignore (excluded from training and evaluation); empty when unlabelled"),
	col("label_source", arrow.BinaryTypes.String, "", "where the label came from: manifest (capture or flow rule) or signature (stage-1 weak label); empty when unlabelled"),
}

func nullable(name string, t arrow.DataType, unit, def string) column {
	c := col(name, t, unit, def)
	c.field.Nullable = true
	return c
}

// stageColumns are the TLS and per-stage columns after the labels.
var stageColumns = []column{
	nullable("tls_sni", arrow.BinaryTypes.String, "", "TLS ClientHello server name (SNI); null when the flow showed no ClientHello (by the row's end) or it had no SNI"),
	nullable("tls_ja3_hash", arrow.BinaryTypes.String, "", "JA3 fingerprint of the ClientHello (MD5, hex); null without a ClientHello"),
	nullable("tls_ja4", arrow.BinaryTypes.String, "", "JA4 fingerprint of the ClientHello; null without a ClientHello"),
	nullable("signature_state", arrow.BinaryTypes.String, "", "stage 1: last Stratum conversation state read by the row's end (hello, authorized, job, submit, accepted, keepalive); null when no mining message was read"),
	nullable("signature_dialect", arrow.BinaryTypes.String, "", "stage 1: dialect once the signature stage confirmed mining (by the row's end); null otherwise"),
	nullable("intel_match", arrow.BinaryTypes.String, "", "stage 0: kind of the flow's first threat-intel match (ip, dns-query, dns-answer, sni, learned) by the row's end; null when none or intel was off"),
	nullable("model_score", arrow.PrimitiveTypes.Float32, "probability", "stage 2: the flow classifier's mining probability for this row (TCP checkpoint rows with enough data packets, when a model ran); null otherwise"),
}

func (c column) arrowField() arrow.Field {
	f := c.field
	f.Metadata = arrow.NewMetadata([]string{"unit", "definition"}, []string{c.unit, c.def})
	return f
}

// SetVersion identifies a feature set's definition: its feature count and
// a hash of its table (names, units, directions, definitions), so two
// files whose versions match have columns that mean the same thing.
func SetVersion(set string) string {
	defs := flowfeat.Defs(set)
	h := sha256.New()
	for _, d := range defs {
		fmt.Fprintf(h, "%s\t%s\t%s\t%s\t%s\n", d.Set, d.Name, d.Unit, d.Direction, d.Definition)
	}
	return fmt.Sprintf("%d:sha256:%x", len(defs), h.Sum(nil)[:8])
}

type featureDef struct {
	Name       string `json:"name"`
	Set        string `json:"set"`
	Unit       string `json:"unit"`
	Direction  string `json:"direction"`
	Definition string `json:"definition"`
}

// Schema returns the Arrow schema for the given feature sets and metadata.
// Schema metadata keys (all prefixed minerwatch.): schema_version,
// version, created, feature_sets (JSON list), feature_set_versions (JSON
// object, see SetVersion), feature_table (JSON list of every feature's
// name, set, unit, direction, definition), inputs (JSON list of path,
// sha256, bytes), flow_table (JSON), label_sources (JSON list),
// checkpoints, window_s, undefined ("null": how undefined features are
// written, also on every feature field), and Meta.Extra's keys.
func Schema(meta Meta) (*arrow.Schema, error) {
	var fields []arrow.Field
	for _, c := range rowColumns {
		fields = append(fields, c.arrowField())
	}
	versions := map[string]string{}
	var table []featureDef
	for _, set := range meta.Sets {
		defs := flowfeat.Defs(set)
		if defs == nil {
			return nil, fmt.Errorf("unknown feature set %q", set)
		}
		versions[set] = SetVersion(set)
		for _, d := range defs {
			fields = append(fields, arrow.Field{
				Name: d.Name, Type: arrow.PrimitiveTypes.Float64, Nullable: true,
				Metadata: arrow.NewMetadata(
					[]string{"unit", "set", "direction", "definition", UndefinedKey},
					[]string{d.Unit, d.Set, d.Direction, d.Definition, UndefinedNull}),
			})
			table = append(table, featureDef{d.Name, d.Set, d.Unit, d.Direction, d.Definition})
		}
	}
	for _, c := range labelColumns {
		fields = append(fields, c.arrowField())
	}
	for _, c := range stageColumns {
		fields = append(fields, c.arrowField())
	}
	created := time.Now().UTC()
	if !meta.Created.IsZero() {
		created = meta.Created.UTC()
	}
	keys := []string{"minerwatch.schema_version", "minerwatch.version", "minerwatch.created"}
	vals := []string{SchemaVersion, meta.Version, created.Format(time.RFC3339)}
	add := func(k string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode metadata %s: %w", k, err)
		}
		keys, vals = append(keys, k), append(vals, string(b))
		return nil
	}
	inputs := meta.Inputs
	if inputs == nil {
		inputs = []Input{} // [] rather than null: readers iterate it
	}
	labelSources := meta.LabelSources
	if labelSources == nil {
		labelSources = []string{}
	}
	for _, kv := range []struct {
		k string
		v any
	}{
		{"minerwatch.feature_sets", meta.Sets},
		{"minerwatch.feature_set_versions", versions},
		{"minerwatch.feature_table", table},
		{"minerwatch.inputs", inputs},
		{"minerwatch.flow_table", meta.FlowTable},
		{"minerwatch.label_sources", labelSources},
	} {
		if err := add(kv.k, kv.v); err != nil {
			return nil, err
		}
	}
	keys = append(keys, "minerwatch.checkpoints", "minerwatch.window_s", UndefinedKey)
	vals = append(vals, meta.Checkpoints, strconv.FormatFloat(meta.Window.Seconds(), 'g', -1, 64), UndefinedNull)
	extra := make([]string, 0, len(meta.Extra))
	for k := range meta.Extra {
		extra = append(extra, k)
	}
	sort.Strings(extra) // a stable key order: same inputs, same schema bytes
	for _, k := range extra {
		keys, vals = append(keys, "minerwatch."+k), append(vals, meta.Extra[k])
	}
	md := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(fields, &md), nil
}

// batchRows is how many rows are buffered before a record batch is written
// to an Arrow file or stream: small enough that memory stays bounded
// whatever the input size, large enough that readers see few batches.
const batchRows = 4096

// parquetBatchRows is the Parquet row-group size. Each batch becomes one
// row group; readers skip whole row groups by their statistics, so groups
// are larger than Arrow batches, yet still bounded (≈ 32k rows × ~130
// columns × 8 B ≈ 35 MB).
const parquetBatchRows = 32768

// Format is an output file format.
type Format int

// Output formats.
const (
	// FormatArrow is the Arrow IPC file format (Feather v2): random access,
	// memory-mappable, read by pyarrow.ipc.open_file / pandas.read_feather
	// / polars.read_ipc / DuckDB.
	FormatArrow Format = iota
	// FormatArrowStream is the Arrow IPC stream format: no footer, so it
	// can be written to a pipe and read while it is being written
	// (pyarrow.ipc.open_stream, polars.read_ipc_stream).
	FormatArrowStream
	// FormatParquet is Apache Parquet with the Arrow schema stored in the
	// file (pqarrow's ARROW:schema key), so field and schema metadata and
	// the exact Arrow types come back in pyarrow.
	FormatParquet
)

var formatNames = map[Format]string{FormatArrow: "arrow", FormatArrowStream: "arrows", FormatParquet: "parquet"}

func (f Format) String() string { return formatNames[f] }

// ParseFormat parses a format name: arrow (or feather, ipc), arrows (or
// stream), parquet.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "arrow", "feather", "ipc":
		return FormatArrow, nil
	case "arrows", "stream":
		return FormatArrowStream, nil
	case "parquet":
		return FormatParquet, nil
	}
	return 0, fmt.Errorf("unknown output format %q (known: arrow, arrows, parquet)", s)
}

// FormatOf picks the format from a file name's extension: .parquet (.pq)
// is Parquet, .arrows is an Arrow stream, anything else an Arrow file.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".pq":
		return FormatParquet
	case ".arrows":
		return FormatArrowStream
	}
	return FormatArrow
}

// Row is one output row, in the schema's terms. Both producers fill it —
// plain extraction (flowfeat.Row, see FromFlowRow) and the labelled
// training rows of train/dataset — so what a row holds is defined once,
// here, next to the schema.
type Row struct {
	FlowID     uint64
	Client     netip.AddrPort // flow initiator: src_ip, src_port
	Server     netip.AddrPort // responder: dest_ip, dest_port
	Proto      uint8
	VLAN       uint16
	FlowFirst  time.Time
	Kind       string        // window_kind: checkpoint, window or end
	Checkpoint time.Duration // cumulative checkpoint (0 unless Kind is checkpoint)
	Window     int
	Start, End time.Time
	First      time.Time // first packet in the window; zero = none (null)
	Last       time.Time
	UpPkts     uint64
	DownPkts   uint64
	UpBytes    uint64
	DownBytes  uint64
	Values     *flowfeat.Vector // every feature; only the writer's sets are written
	Labels
}

// FromFlowRow converts a feature tracker's row.
func FromFlowRow(r *flowfeat.Row, lab Labels) Row {
	f := r.Flow
	return Row{
		FlowID: f.ID, Client: f.Client, Server: f.Server, Proto: f.Proto, VLAN: f.VLAN[0],
		FlowFirst: f.First, Kind: r.Kind, Checkpoint: r.Checkpoint, Window: r.Window,
		Start: r.Start, End: r.End, First: r.First, Last: r.Last,
		UpPkts: uint64(r.UpPkts), DownPkts: uint64(r.DownPkts), UpBytes: r.UpBytes, DownBytes: r.DownBytes,
		Values: r.Values, Labels: lab,
	}
}

// appendExportRow appends one row to a record builder of Schema's layout.
func appendExportRow(b *array.RecordBuilder, sets []string, r *Row) {
	i := 0
	next := func() array.Builder { x := b.Field(i); i++; return x }
	next().(*array.Uint64Builder).Append(r.FlowID)
	next().(*array.StringBuilder).Append(r.Capture)
	next().(*array.StringBuilder).Append(r.Group)
	next().(*array.StringBuilder).Append(r.Client.Addr().String())
	next().(*array.Uint16Builder).Append(r.Client.Port())
	next().(*array.StringBuilder).Append(r.Server.Addr().String())
	next().(*array.Uint16Builder).Append(r.Server.Port())
	next().(*array.Uint8Builder).Append(r.Proto)
	next().(*array.Uint16Builder).Append(r.VLAN)
	next().(*array.TimestampBuilder).Append(ts(r.FlowFirst))
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
	next().(*array.Uint64Builder).Append(r.UpPkts)
	next().(*array.Uint64Builder).Append(r.DownPkts)
	next().(*array.Uint64Builder).Append(r.UpBytes)
	next().(*array.Uint64Builder).Append(r.DownBytes)
	for _, set := range sets {
		for _, v := range r.Values.Set(set) {
			fb := next().(*array.Float64Builder)
			// Undefined (NaN in memory) is written as null: polars' and
			// DuckDB's aggregates skip nulls but are poisoned by NaN, and
			// IS NULL finds them.
			if math.IsNaN(v) {
				fb.AppendNull()
			} else {
				fb.Append(v)
			}
		}
	}
	next().(*array.StringBuilder).Append(r.Scenario)
	next().(*array.StringBuilder).Append(r.Label)
	next().(*array.StringBuilder).Append(r.LabelSource)
	st := &r.Stages
	for _, v := range [...]string{st.SNI, st.JA3Hash, st.JA4, st.SignatureState, st.SignatureDialect, st.IntelMatch} {
		sb := next().(*array.StringBuilder)
		if v == "" {
			sb.AppendNull()
		} else {
			sb.Append(v)
		}
	}
	if fb := next().(*array.Float32Builder); st.Scored && !math.IsNaN(st.ModelScore) {
		fb.Append(float32(st.ModelScore))
	} else {
		fb.AppendNull()
	}
}

// batchSink is where finished record batches go: an Arrow file, an Arrow
// stream or a Parquet file.
type batchSink interface {
	Write(rec arrow.RecordBatch) error
	Close() error
}

// parquetSink adapts pqarrow's writer; Write makes one row group per batch.
type parquetSink struct{ w *pqarrow.FileWriter }

func (p parquetSink) Write(rec arrow.RecordBatch) error { return p.w.Write(rec) }
func (p parquetSink) Close() error                      { return p.w.Close() }

func newSink(w io.Writer, format Format, schema *arrow.Schema, mem memory.Allocator) (batchSink, error) {
	switch format {
	case FormatArrow:
		return ipc.NewFileWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	case FormatArrowStream:
		return ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(mem)), nil
	case FormatParquet:
		props := parquet.NewWriterProperties(
			parquet.WithCompression(compress.Codecs.Snappy),
			parquet.WithMaxRowGroupLength(parquetBatchRows),
			parquet.WithCreatedBy("minerwatch"),
			parquet.WithAllocator(mem))
		// WithStoreSchema keeps the Arrow schema (field metadata, uint16
		// ports, UTC timestamps) so readers get back what the Arrow file has.
		// pqarrow closes its writer if it is an io.Closer; Writer.Close
		// must still sync and rename the file, so hide the Close.
		pw, err := pqarrow.NewFileWriter(schema, struct{ io.Writer }{w}, props,
			pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
		if err != nil {
			return nil, err
		}
		return parquetSink{pw}, nil
	}
	return nil, fmt.Errorf("unknown output format %d", format)
}

// Writer writes feature rows to an Arrow IPC file, an Arrow IPC stream or
// a Parquet file, one record batch (row group) at a time.
type Writer struct {
	path    string
	out     *outfile.File // nil when writing to a caller's io.Writer
	sink    batchSink
	rb      *array.RecordBuilder
	sets    []string
	batch   int
	pending int
	rows    int64
	closed  bool
}

// Create starts an Arrow IPC file at path (written under a temporary name
// until Close).
func Create(path string, meta Meta) (*Writer, error) {
	return CreateFormat(path, FormatArrow, meta)
}

// CreateFormat starts an output file of the given format at path, written
// under a temporary name in the same directory and renamed into place by
// Close, so readers never see a half-written file (see internal/outfile:
// a device or FIFO is written through instead).
func CreateFormat(path string, format Format, meta Meta) (*Writer, error) {
	out, err := outfile.Create(path, outfile.Options{})
	if err != nil {
		return nil, err
	}
	return CreateOutput(out, format, meta)
}

// CreateOutput writes to an output opened by the caller (with its
// permissions, its refused inputs, its temp-file registry). Close commits
// it, Abort discards it; on error here it is aborted.
func CreateOutput(out *outfile.File, format Format, meta Meta) (*Writer, error) {
	schema, err := Schema(meta)
	if err != nil {
		out.Abort()
		return nil, err
	}
	w, err := newWriter(out, out.Name(), format, schema, meta.Sets)
	if err != nil {
		out.Abort()
		return nil, err
	}
	w.out = out
	return w, nil
}

// NewWriter writes to out (e.g. standard output, for a pipe into another
// program). Close finishes the format (footer or end-of-stream) but does
// not close out. name is used in errors.
func NewWriter(out io.Writer, name string, format Format, meta Meta) (*Writer, error) {
	schema, err := Schema(meta)
	if err != nil {
		return nil, err
	}
	return newWriter(out, name, format, schema, meta.Sets)
}

func newWriter(out io.Writer, name string, format Format, schema *arrow.Schema, sets []string) (*Writer, error) {
	mem := memory.NewGoAllocator()
	sink, err := newSink(out, format, schema, mem)
	if err != nil {
		return nil, fmt.Errorf("create %s: %s writer: %w", name, format, err)
	}
	batch := batchRows
	if format == FormatParquet {
		batch = parquetBatchRows
	}
	return &Writer{path: name, sink: sink, rb: array.NewRecordBuilder(mem, schema), sets: sets, batch: batch}, nil
}

// Rows returns the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

func ts(t time.Time) arrow.Timestamp { return arrow.Timestamp(t.UnixMicro()) }

// Write appends one feature tracker row.
func (w *Writer) Write(r *flowfeat.Row, lab Labels) error {
	row := FromFlowRow(r, lab)
	return w.WriteRow(&row)
}

// WriteRow appends one row; a full batch is written out at once, so at
// most one batch is ever held in memory.
func (w *Writer) WriteRow(r *Row) error {
	if w.closed {
		return fmt.Errorf("write %s: writer closed", w.path)
	}
	if r.Values == nil {
		return fmt.Errorf("write %s: row of flow %d has no feature values", w.path, r.FlowID)
	}
	appendExportRow(w.rb, w.sets, r)
	w.pending++
	w.rows++
	if w.pending >= w.batch {
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
	if err := w.sink.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}

// Close writes the last batch and the footer; for a file it also commits
// the output (sync and rename into place). On error the temporary file is
// removed.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.flush()
	if cerr := w.sink.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("finish %s: %w", w.path, cerr)
	}
	w.rb.Release()
	if w.out == nil {
		return err
	}
	if err != nil {
		w.out.Abort()
		return err
	}
	return w.out.Commit()
}

// Abort discards the output: nothing is left at path or under the temp
// name. (Rows already sent to a caller's io.Writer cannot be taken back.)
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.sink.Close()
	w.rb.Release()
	if w.out != nil {
		w.out.Abort()
	}
}
