package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// stageRow is one feature row's identity and its TLS and stage columns
// ("" and -1 for null).
type stageRow struct {
	capture, kind                         string
	sni, ja3, ja4, state, dialect, intelM string
	score                                 float64
}

// readStageRows reads an Arrow IPC file or stream's stage columns.
func readStageRows(t *testing.T, path string, stream bool) []stageRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []arrow.RecordBatch
	var schema *arrow.Schema
	mem := memory.NewGoAllocator()
	if stream {
		r, err := ipc.NewReader(f, ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release()
		for r.Next() {
			rec := r.RecordBatch()
			rec.Retain()
			recs = append(recs, rec)
		}
		schema = r.Schema()
	} else {
		r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for i := 0; i < r.NumRecords(); i++ {
			rec, err := r.Record(i)
			if err != nil {
				t.Fatal(err)
			}
			rec.Retain()
			recs = append(recs, rec)
		}
		schema = r.Schema()
	}
	var out []stageRow
	for _, rec := range recs {
		str := func(name string, i int) string {
			c := rec.Column(schema.FieldIndices(name)[0]).(*array.String)
			if c.IsNull(i) {
				return ""
			}
			if c.Value(i) == "" {
				t.Errorf("%s: empty string instead of null", name)
			}
			return c.Value(i)
		}
		sc := rec.Column(schema.FieldIndices("model_score")[0]).(*array.Float32)
		for i := 0; i < int(rec.NumRows()); i++ {
			r := stageRow{capture: str("capture", i), kind: str("window_kind", i), sni: str("tls_sni", i), ja3: str("tls_ja3_hash", i),
				ja4: str("tls_ja4", i), state: str("signature_state", i), dialect: str("signature_dialect", i), intelM: str("intel_match", i), score: -1}
			if !sc.IsNull(i) {
				r.score = float64(sc.Value(i))
			}
			out = append(out, r)
		}
		rec.Release()
	}
	return out
}

// `features -r … --model default` rows carry the TLS sample's ClientHello
// (SNI pool.example-mining.test, per tshark), the plaintext sample's
// signature dialect, and a model score on checkpoint rows only.
func TestFeaturesRowsCarryTLSSignatureAndModelScore(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.arrow")
	code, _, stderr := runCmd("features", "--model", "default", "-o", out,
		"-r", "../../datasets/samples/xmrig-tls-443.pcap", "../../datasets/samples/xmrig-plain-3333.pcap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := readStageRows(t, out, false)
	scored := 0
	for _, r := range rows {
		switch r.capture {
		case "xmrig-tls-443.pcap":
			if r.sni != "pool.example-mining.test" || len(r.ja3) != 32 || r.ja4 == "" || r.dialect != "" {
				t.Errorf("TLS row %+v", r)
			}
		case "xmrig-plain-3333.pcap":
			if r.dialect != "cryptonote" || r.state == "" || r.sni != "" {
				t.Errorf("plaintext row %+v", r)
			}
		default:
			t.Errorf("row of %q", r.capture)
		}
		if r.intelM != "" {
			t.Errorf("intel_match %q without intel", r.intelM)
		}
		if (r.kind == "checkpoint") != (r.score >= 0) {
			t.Errorf("%s row of %s: score %v (checkpoint rows only)", r.kind, r.capture, r.score)
		}
		if r.score >= 0 {
			scored++
		}
	}
	if scored == 0 {
		t.Error("no row was scored")
	}
	if code, _, stderr := runCmd("features", "--model", "default", "--manifest", sampleManifest, "-o", out); code == 0 {
		t.Errorf("--model with --manifest accepted: %s", stderr)
	}
}

// detect --rows-out (a --realtime replay through the online path) fills
// every stage column: intel's match on the listed SNI and the model's
// score besides the ClientHello.
func TestDetectRowsOutCarryIntelMatchAndModelScore(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "pools.txt")
	if err := os.WriteFile(list, []byte("example-mining.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The online path stamps packets with their arrival time, so a flow
	// reaches a checkpoint in wall time: 600× the 20-minute capture lasts
	// 2 s, and checkpoints at 0.5 and 1 s give scored rows (of compressed
	// timing, so the scores mean nothing; that they are there is the test).
	code, _, stderr := runCmd("detect", "--no-learned", "--realtime", "--speed", "600", "--checkpoints", "0.5,1", "--intel", list,
		"-o", filepath.Join(dir, "alerts.jsonl"), "--rows-out", filepath.Join(dir, "rows.arrows"),
		"-r", "../../datasets/samples/xmrig-tls-443.pcap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "rows-*.arrows"))
	if len(files) != 1 {
		t.Fatalf("rows files %v", files)
	}
	rows := readStageRows(t, files[0], true)
	scored := 0
	for _, r := range rows {
		if r.sni != "pool.example-mining.test" || r.intelM != "sni" {
			t.Errorf("row %+v: want the SNI and intel_match sni", r)
		}
		if r.score >= 0 {
			scored++
		}
	}
	if len(rows) != 3 || scored != 2 {
		t.Errorf("%d rows, %d scored; want 2 scored checkpoint rows and the end row", len(rows), scored)
	}
}
