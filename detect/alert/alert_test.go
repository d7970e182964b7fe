package alert_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/stratum"
	"github.com/minerwatch/minerwatch/features/flowfeat"
)

func decode(t *testing.T, a *alert.Alert) map[string]any {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTimestampIsSuricatasFormat: six fraction digits always, a numeric
// offset, so a fixed %6N%z parser reads every event (RFC 3339 with
// trailing zeros cut failed on about 10% of alerts).
func TestTimestampIsSuricatasFormat(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 22, 10, 56, 32, 988386000, time.UTC), "2026-11-22T10:56:32.988386+0000"},
		{time.Date(2026, 11, 22, 10, 56, 32, 120000000, time.UTC), "2026-11-22T10:56:32.120000+0000"},
		{time.Date(2026, 11, 22, 10, 56, 32, 0, time.UTC), "2026-11-22T10:56:32.000000+0000"},
		// Another zone is written in UTC: one offset per log.
		{time.Date(2026, 11, 22, 11, 56, 32, 5000, time.FixedZone("CET", 3600)), "2026-11-22T10:56:32.000005+0000"},
	}
	for _, tc := range tests {
		m := decode(t, &alert.Alert{Timestamp: tc.at, EventType: alert.EventAlert})
		if m["timestamp"] != tc.want {
			t.Errorf("timestamp %v written %v, want %s", tc.at, m["timestamp"], tc.want)
		}
	}
}

// TestOursIsUnderOneKeyAndTLSIsEVEs: a strict EVE consumer drops one key;
// tls.ja3 is EVE's {hash, string} object, not a string.
func TestOursIsUnderOneKeyAndTLSIsEVEs(t *testing.T) {
	a := &alert.Alert{EventType: alert.EventAlert, Detector: alert.DetectorIntel, Confidence: 0.9, Reason: "r",
		Capture: "eth1", Live: true, Host: "sensor-1",
		Intel: &alert.Intel{Match: "sni", Entry: "pool.example"},
		TLS:   &alert.TLS{SNI: "pool.example", JA3: "771,1-2,3,4,5", JA3Hash: "abc", JA4: "t13d", ALPN: []string{"h2"}, NoSNINon443: true},
		Flow:  &alert.Flow{PktsToServer: 3, Start: time.Unix(1, 0)},
	}
	a.Rule = alert.RuleOf(a)
	m := decode(t, a)
	for _, k := range []string{"detector", "confidence", "reason", "intel", "mining", "model", "proxy", "capture"} {
		if _, ok := m[k]; ok {
			t.Errorf("%q at the top level", k)
		}
	}
	ours := m["minerwatch"].(map[string]any)
	if ours["detector"] != "intel" || ours["intel"] == nil || ours["tls_no_sni_non_443"] != true {
		t.Errorf("minerwatch = %v", ours)
	}
	tls := m["tls"].(map[string]any)
	ja3, ok := tls["ja3"].(map[string]any)
	if !ok || ja3["hash"] != "abc" || ja3["string"] != "771,1-2,3,4,5" || tls["ja4"] != "t13d" {
		t.Errorf("tls = %v", tls)
	}
	if alpn, _ := tls["client_alpns"].([]any); len(alpn) != 1 || alpn[0] != "h2" {
		t.Errorf("tls.client_alpns = %v", tls["client_alpns"])
	}
	if m["in_iface"] != "eth1" || m["pcap_filename"] != nil || m["host"] != "sensor-1" {
		t.Errorf("live capture fields: in_iface %v, pcap_filename %v, host %v", m["in_iface"], m["pcap_filename"], m["host"])
	}
	rule := m["alert"].(map[string]any)
	if rule["signature_id"] != float64(1496104) || rule["category"] != "Crypto Currency Mining Activity Detected" || rule["action"] != "allowed" {
		t.Errorf("alert = %v", rule)
	}
	// An alert's flow has no end yet: EVE's end/age/alerted belong to flow events.
	fl := m["flow"].(map[string]any)
	if _, ok := fl["end"]; ok {
		t.Errorf("alert flow object has an end: %v", fl)
	}
}

// TestSignatureIDsAreStable pins ids analysts will have suppression rules
// for: a changed number silently un-suppresses an alert.
func TestSignatureIDsAreStable(t *testing.T) {
	tests := []struct {
		rule *alert.Rule
		sid  int
		text string
	}{
		{alert.SignatureRule(stratum.DialectCryptoNote, "job"), 1496023, "MINERWATCH Stratum (CryptoNote) login answered with a job"},
		{alert.SignatureRule(stratum.DialectStratumV1, "accepted"), 1496015, "MINERWATCH Stratum v1 share accepted"},
		{alert.AttemptRule(stratum.DialectEthProxy), 1496039, "MINERWATCH Stratum (eth-proxy) requests not answered as a pool (attempt)"},
		{alert.IntelRule(string(intel.MatchIP)), 1496101, "MINERWATCH Intel destination is a listed mining pool address"},
		{alert.IntelRule(string(intel.MatchLearned)), 1496105, ""},
		{alert.ModelRule(flowfeat.SetMW51X), 1496205, ""},
		{alert.SignatureRule("a-dialect-from-the-future", "job"), 1496003, ""},
	}
	for _, tc := range tests {
		if tc.rule.SignatureID != tc.sid || (tc.text != "" && tc.rule.Signature != tc.text) {
			t.Errorf("rule %d %q, want %d %q", tc.rule.SignatureID, tc.rule.Signature, tc.sid, tc.text)
		}
	}
}

// TestEveryKnownNameHasItsOwnRule: a dialect, match kind or model feature
// set added upstream without a row here would fall into the catch-all id.
func TestEveryKnownNameHasItsOwnRule(t *testing.T) {
	catchAll := map[int]bool{1496000: true, 1496009: true, 1496100: true, 1496200: true}
	dialects := []string{stratum.DialectStratumV1, stratum.DialectEthStratum1, stratum.DialectEthStratum2, stratum.DialectCryptoNote,
		stratum.DialectEthProxy, stratum.DialectGetwork, stratum.DialectSV2, stratum.DialectSV2Noise}
	for _, d := range dialects {
		if r := alert.SignatureRule(d, "job"); catchAll[r.SignatureID-3] {
			t.Errorf("dialect %s has no rule", d)
		}
	}
	for _, k := range []intel.MatchKind{intel.MatchIP, intel.MatchDNSQuery, intel.MatchDNSAnswer, intel.MatchSNI, intel.MatchLearned} {
		if r := alert.IntelRule(string(k)); catchAll[r.SignatureID] {
			t.Errorf("intel match %s has no rule", k)
		}
	}
	for _, s := range flowfeat.ModelSets() {
		if r := alert.ModelRule(s); catchAll[r.SignatureID] {
			t.Errorf("model feature set %s has no rule", s)
		}
	}
	seen := map[int]string{}
	for _, r := range alert.Rules() {
		if prev, dup := seen[r.SignatureID]; dup {
			t.Errorf("signature id %d used by %q and %q", r.SignatureID, prev, r.Signature)
		}
		seen[r.SignatureID] = r.Signature
		if !strings.HasPrefix(r.Signature, "MINERWATCH ") || r.GID != 1 || r.Rev < 1 {
			t.Errorf("rule %+v", r)
		}
	}
}

func TestSeverityFollowsEvidenceAndConfidence(t *testing.T) {
	tests := []struct {
		detector   string
		confidence float64
		want       int
	}{
		{alert.DetectorSignature, 0.99, 1}, // confirmed exchange
		{alert.DetectorIntel, 0.95, 1},     // learned endpoint
		{alert.DetectorIntel, 0.85, 2},     // listed pool address
		{alert.DetectorSignature, 0.8, 2},  // Stratum V2 Noise sizes
		{alert.DetectorSignature, 0.7, 3},  // unanswered attempt
		{alert.DetectorModel, 0.99, 2},     // a probability never reaches 1
		{alert.DetectorModel, 0.6, 3},
	}
	for _, tc := range tests {
		if got := alert.Severity(tc.detector, tc.confidence); got != tc.want {
			t.Errorf("Severity(%s, %v) = %d, want %d", tc.detector, tc.confidence, got, tc.want)
		}
	}
}

func TestWriterWritesOnlyTheChosenTypes(t *testing.T) {
	types, err := alert.ParseTypes("flow")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := alert.NewWriter(&buf, types)
	w.Write(&alert.Alert{EventType: alert.EventAlert})
	w.Write(&alert.Alert{EventType: alert.EventFlow})
	if w.Count() != 1 || !strings.Contains(buf.String(), `"event_type":"flow"`) || strings.Contains(buf.String(), `"event_type":"alert"`) {
		t.Errorf("wrote %d: %s", w.Count(), buf.String())
	}
	for _, bad := range []string{"", "alert,dns", " , "} {
		if _, err := alert.ParseTypes(bad); err == nil {
			t.Errorf("ParseTypes(%q) accepted", bad)
		}
	}
}

// TestFlowEventHasEVEsEndFields: a flow event carries EVE's end, age (whole
// seconds), state, reason and alerted, and no alert object.
func TestFlowEventHasEVEsEndFields(t *testing.T) {
	start := time.Date(2026, 11, 22, 10, 56, 32, 878994000, time.UTC)
	a := &alert.Alert{Timestamp: start.Add(1200 * time.Second), EventType: alert.EventFlow, FlowID: 7,
		Detector: alert.DetectorSignature, Capture: "x.pcap",
		Flow: &alert.Flow{PktsToServer: 162, PktsToClient: 90, Start: start, End: start.Add(1200*time.Second + 40*time.Millisecond),
			State: "closed", Reason: "timeout", Alerted: true}}
	m := decode(t, a)
	fl := m["flow"].(map[string]any)
	if fl["end"] != "2026-11-22T11:16:32.918994+0000" || fl["age"] != float64(1200) || fl["alerted"] != true ||
		fl["state"] != "closed" || fl["reason"] != "timeout" || fl["pkts_toserver"] != float64(162) {
		t.Errorf("flow = %v", fl)
	}
	if _, ok := m["alert"]; ok || m["pcap_filename"] != "x.pcap" {
		t.Errorf("event = %v", m)
	}
}

// TestWriterLineIsJSONMarshalsLine: the writer encodes with MarshalJSON
// directly; its line must be byte for byte what json.Marshal makes of the
// alert (compact, HTML-escaped), with characters that json.Marshal
// escapes or would re-compact in every free-text field.
func TestWriterLineIsJSONMarshalsLine(t *testing.T) {
	tricky := "a<b>&c \u2028 \"q\" \\ é \x01"
	a := &alert.Alert{EventType: alert.EventAlert, Timestamp: time.Unix(1700000000, 123456789).UTC(),
		SrcIP: "10.0.0.1", DestIP: "10.0.0.2", Proto: "TCP", Host: tricky, Reason: tricky, Capture: tricky,
		Flow: &alert.Flow{Start: time.Unix(1700000000, 0), End: time.Unix(1700000100, 0), Reason: tricky},
		TLS:  &alert.TLS{SNI: tricky, ALPN: []string{tricky}}}
	want, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := alert.NewWriter(&buf, nil).Write(a); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSuffix(buf.String(), "\n"); got != string(want) {
		t.Errorf("writer:\n%s\njson.Marshal:\n%s", got, want)
	}
	if !strings.Contains(buf.String(), `\u003c`) {
		t.Errorf("no HTML escaping in %s", buf.String())
	}
}

// TestSealedAlertIsWrittenAsSealed: Seal encodes once and the writer
// writes that line (the same as encoding at write time); it writes the
// sealed line even if the alert changed after, which is why it must not.
func TestSealedAlertIsWrittenAsSealed(t *testing.T) {
	a := &alert.Alert{EventType: alert.EventAlert, Timestamp: time.Unix(1700000000, 0).UTC(), SrcIP: "10.0.0.1", Reason: "before <seal>"}
	var plain, sealed bytes.Buffer
	if err := alert.NewWriter(&plain, nil).Write(a); err != nil {
		t.Fatal(err)
	}
	if err := a.Seal(); err != nil {
		t.Fatal(err)
	}
	a.Reason = "after"
	if err := alert.NewWriter(&sealed, nil).Write(a); err != nil {
		t.Fatal(err)
	}
	if plain.String() != sealed.String() {
		t.Errorf("sealed:\n%s\nencoded at write time before the change:\n%s", sealed.String(), plain.String())
	}
}

// TestSealAppendSharesOneBufferUntilUnsealed: alerts sealed one after
// another into one buffer are each written as their own line, as if
// encoded at write time, while the buffer grows under them; after Unseal
// the writer encodes the alert as it is now.
func TestSealAppendSharesOneBufferUntilUnsealed(t *testing.T) {
	ts := time.Unix(1700000000, 0).UTC()
	var as []*alert.Alert
	var want []string
	for _, reason := range []string{"first", "second <b>", strings.Repeat("long ", 300)} {
		a := &alert.Alert{EventType: alert.EventAlert, Timestamp: ts, SrcIP: "10.0.0.1", Reason: reason}
		var b bytes.Buffer
		if err := alert.NewWriter(&b, nil).Write(a); err != nil {
			t.Fatal(err)
		}
		as, want = append(as, a), append(want, b.String())
	}
	buf := make([]byte, 0, 16) // too small: SealAppend must grow it
	for _, a := range as {
		var err error
		if buf, err = a.SealAppend(buf); err != nil {
			t.Fatal(err)
		}
		a.Reason = "changed after sealing"
	}
	if total := len(want[0]) + len(want[1]) + len(want[2]) - 3; len(buf) != total {
		t.Errorf("buffer holds %d bytes, want the three lines' %d", len(buf), total)
	}
	for i, a := range as {
		var got bytes.Buffer
		if err := alert.NewWriter(&got, nil).Write(a); err != nil {
			t.Fatal(err)
		}
		if got.String() != want[i] {
			t.Errorf("alert %d sealed into the shared buffer:\n%s\nwant:\n%s", i, got.String(), want[i])
		}
	}
	as[0].Unseal()
	var got bytes.Buffer
	if err := alert.NewWriter(&got, nil).Write(as[0]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.String(), "changed after sealing") {
		t.Errorf("after Unseal the writer wrote the old line: %s", got.String())
	}
}
