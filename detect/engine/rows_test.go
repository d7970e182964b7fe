package engine_test

import (
	"math"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/features/export"
	"github.com/minerwatch/minerwatch/features/flowfeat"
)

type stagedRow struct {
	kind   string
	cp     float64
	stages export.Stages
}

func stagedRows(t *testing.T, path string, cfg engine.Config) ([]stagedRow, []*alert.Alert) {
	t.Helper()
	var rows []stagedRow
	cfg.OnRow = func(r *flowfeat.Row, fi *engine.FlowInfo) {
		rows = append(rows, stagedRow{r.Kind, r.Checkpoint.Seconds(), fi.RowStages()})
	}
	alerts, _ := run(t, path, cfg)
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", path)
	}
	return rows, alerts
}

// Feature rows carry what the stages said about their flow: the
// ClientHello's SNI, JA3 and JA4 (the same as the flow's alert, whose
// SNI tshark shows as pool.example-mining.test), the intel match kind
// once intel matched, and the model's exact score on every scorable row.
func TestRowsCarryTLSIntelAndModelScore(t *testing.T) {
	set := intel.NewSet()
	if _, err := set.Load(strings.NewReader("example-mining.test\n"), "test-list", intel.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig(t)
	cfg.Intel = intel.New([]*intel.Set{set}, nil, intel.NewLearned(), intel.Config{})
	rows, alerts := stagedRows(t, "../../datasets/samples/xmrig-tls-443.pcap", cfg)
	var tls *alert.TLS
	for _, a := range alerts {
		if a.Detector == alert.DetectorIntel {
			tls = a.TLS
		}
	}
	if tls == nil || tls.SNI != "pool.example-mining.test" || len(tls.JA3Hash) != 32 || tls.JA4 == "" {
		t.Fatalf("intel alert's TLS = %+v", tls)
	}
	scored := 0
	for _, r := range rows {
		st := r.stages
		if st.SNI != tls.SNI || st.JA3Hash != tls.JA3Hash || st.JA4 != tls.JA4 {
			t.Errorf("%s %gs: TLS %q %q %q, want the alert's %+v", r.kind, r.cp, st.SNI, st.JA3Hash, st.JA4, tls)
		}
		if st.IntelMatch != "sni" {
			t.Errorf("%s %gs: intel_match %q, want sni", r.kind, r.cp, st.IntelMatch)
		}
		if st.SignatureState != "" || st.SignatureDialect != "" {
			t.Errorf("%s %gs: signature %q/%q on an encrypted flow", r.kind, r.cp, st.SignatureState, st.SignatureDialect)
		}
		// Only checkpoint rows are scored (as the model is trained); the
		// intel alert came first, so these scores come from the exact
		// probability, not from an alerting Score.
		if r.kind == flowfeat.KindCheckpoint {
			if !st.Scored || st.ModelScore < 0 || st.ModelScore > 1 || math.IsNaN(st.ModelScore) {
				t.Errorf("checkpoint %gs: score %v (scored %v), want a probability", r.cp, st.ModelScore, st.Scored)
			}
			scored++
		} else if st.Scored {
			t.Errorf("%s row scored %v", r.kind, st.ModelScore)
		}
	}
	if scored == 0 {
		t.Error("no checkpoint row was scored")
	}
}

// Without intel (the features command), ClientHellos are still parsed for
// the rows; a plaintext Stratum flow's rows carry the signature stage's
// state and dialect and no TLS.
func TestRowsWithoutIntelCarryTLSAndSignature(t *testing.T) {
	cfg := engine.DefaultConfig()
	cfg.Features = true
	for _, tc := range []struct {
		path          string
		sni           string
		dialect, last string // the end row's signature columns
	}{
		{"../../datasets/samples/xmrig-tls-443.pcap", "pool.example-mining.test", "", ""},
		// XMRig's CryptoNote session: login, job, submits, keepalived
		// answered (the flow's alert has this state path).
		{"../../datasets/samples/xmrig-plain-3333.pcap", "", "cryptonote", "keepalive"},
	} {
		rows, _ := stagedRows(t, tc.path, cfg)
		end := rows[len(rows)-1]
		if end.kind != flowfeat.KindEnd {
			t.Fatalf("%s: last row is %s", tc.path, end.kind)
		}
		st := end.stages
		if st.SNI != tc.sni || (tc.sni != "") != (st.JA3Hash != "" && st.JA4 != "") {
			t.Errorf("%s: TLS %q %q %q, want SNI %q", tc.path, st.SNI, st.JA3Hash, st.JA4, tc.sni)
		}
		if st.SignatureDialect != tc.dialect || st.SignatureState != tc.last {
			t.Errorf("%s: signature %q/%q, want %q/%q", tc.path, st.SignatureDialect, st.SignatureState, tc.dialect, tc.last)
		}
		if st.IntelMatch != "" || st.Scored {
			t.Errorf("%s: intel %q, scored %v without intel or model", tc.path, st.IntelMatch, st.Scored)
		}
	}
}
