package probe

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
)

// What a non-pool server sends first names it; the byte shapes are the
// servers' own (nginx's 400, OpenSSH's banner, an OpenSSL server's
// unexpected_message alert to a plain-text client, xmrig-proxy's error).
func TestFirstBytesNameTheServer(t *testing.T) {
	for _, c := range []struct {
		name   string
		in     string
		answer string
		detail string
		final  bool
	}{
		{"nginx 400", "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n", AnswerHTTP, "HTTP/1.1 400 Bad Request", true},
		{"OpenSSH banner", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", AnswerSSH, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", true},
		{"TLS alert to a plain client", "\x15\x03\x01\x00\x02\x02\x0a", AnswerTLSAlert, "", true},
		{"TLS server hello on a plain probe", "\x16\x03\x03\x00\x5a\x02\x00\x00\x56", AnswerTLSAlert, "", true},
		{"JSON-RPC error", `{"id":1,"jsonrpc":"2.0","error":{"code":-1,"message":"Invalid payment address provided"}}` + "\n", AnswerJSON, "", false},
		{"binary", "\x00\x01\x02\xffhello", AnswerOther, `\x00\x01\x02\xffhello`, true},
	} {
		answer, detail, final := classify([]byte(c.in))
		if answer != c.answer || final != c.final || c.detail != "" && detail != c.detail {
			t.Errorf("%s: classify = %q, %q, %v; want %q, %q, %v", c.name, answer, detail, final, c.answer, c.detail, c.final)
		}
	}
}

// The probe event rides on the trigger's flow: same flow_id, addresses,
// counters and TLS; confirmed is evidence (severity 1, rule 1496301),
// unconfirmed keeps the trigger's confidence at severity 3 (rule 1496302).
func TestEventKeepsTheTriggersFlow(t *testing.T) {
	trigger := &alert.Alert{Timestamp: time.Date(2026, 11, 22, 10, 57, 35, 0, time.UTC), EventType: alert.EventAlert,
		FlowID: 99, SrcIP: "10.0.0.1", SrcPort: 39034, DestIP: "10.0.0.2", DestPort: 443, Proto: "TCP",
		CommunityID: "1:abc", AppProto: "tls", TLS: &alert.TLS{SNI: "pool.example"}, Flow: &alert.Flow{PktsToServer: 17},
		Detector: alert.DetectorModel, Confidence: 0.83}
	for _, c := range []struct {
		r          Result
		result     string
		sid, sev   int
		confidence float64
	}{
		{Result{Target: "10.0.0.2:443", Verdict: VerdictPool, Dialect: "cryptonote", StatePath: []string{"hello", "authorized", "job"}}, alert.ProbeConfirmed, 1496301, 1, 0.99},
		{Result{Target: "10.0.0.2:443", Verdict: VerdictNotPool, Answer: AnswerSilence}, alert.ProbeUnconfirmed, 1496302, 3, 0.83},
		{Result{Target: "10.0.0.2:443", Verdict: VerdictError, Error: "connection refused"}, alert.ProbeUnconfirmed, 1496302, 3, 0.83},
	} {
		js, _ := json.Marshal(c.r)
		ev := Event(trigger, c.r, js, false)
		if ev.FlowID != 99 || ev.CommunityID != "1:abc" || ev.TLS != trigger.TLS || ev.Flow != trigger.Flow || ev.DestPort != 443 {
			t.Errorf("%s: event not on the trigger's flow: %+v", c.r.Verdict, ev)
		}
		if ev.Probe.Result != c.result || ev.Rule.SignatureID != c.sid || ev.Rule.Severity != c.sev || ev.Confidence != c.confidence || ev.Probe.Trigger != "model" {
			t.Errorf("%s: result %q sid %d severity %d confidence %v", c.r.Verdict, ev.Probe.Result, ev.Rule.SignatureID, ev.Rule.Severity, ev.Confidence)
		}
		line, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Ours struct {
				Probe struct {
					Verdict Result `json:"verdict"`
				} `json:"probe"`
			} `json:"minerwatch"`
		}
		if err := json.Unmarshal(line, &back); err != nil || back.Ours.Probe.Verdict.Verdict != c.r.Verdict {
			t.Errorf("%s: minerwatch.probe.verdict does not round-trip: %v %s", c.r.Verdict, err, line)
		}
	}
}

// Observe is on the packet path: an alert outside the scope (the common
// case on a campus egress) costs a parse and a prefix check, no network.
func BenchmarkObserveOutOfScope(b *testing.B) {
	scope, _ := ParseScope("10.231.0.0/24,192.0.2.0/24")
	s, err := NewScheduler(SchedulerConfig{Scope: scope})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(0)
	a := &alert.Alert{EventType: alert.EventAlert, Proto: "TCP", Detector: alert.DetectorModel, DestIP: "198.51.100.7", DestPort: 443}
	b.ReportAllocs()
	for b.Loop() {
		s.Observe(a)
	}
}

// Which events ask for a probe: model alerts on TCP flows; unanswered
// signature attempts only with Attempts; never a confirmed signature,
// intel alerts, flow records, UDP flows or the probe's own events.
func TestWhichAlertsAskForAProbe(t *testing.T) {
	attempt := &alert.Mining{Dialect: "cryptonote", State: alert.StateAttempt}
	job := &alert.Mining{Dialect: "cryptonote", State: "job"}
	for _, c := range []struct {
		name            string
		a               alert.Alert
		plain, attempts bool // wanted without / with Attempts
	}{
		{"model alert", alert.Alert{EventType: alert.EventAlert, Proto: "TCP", Detector: alert.DetectorModel}, true, true},
		{"model alert on UDP", alert.Alert{EventType: alert.EventAlert, Proto: "UDP", Detector: alert.DetectorModel}, false, false},
		{"signature attempt", alert.Alert{EventType: alert.EventAlert, Proto: "TCP", Detector: alert.DetectorSignature, Mining: attempt}, false, true},
		{"confirmed signature", alert.Alert{EventType: alert.EventAlert, Proto: "TCP", Detector: alert.DetectorSignature, Mining: job}, false, false},
		{"intel alert", alert.Alert{EventType: alert.EventAlert, Proto: "TCP", Detector: alert.DetectorIntel}, false, false},
		{"flow record", alert.Alert{EventType: alert.EventFlow, Proto: "TCP", Detector: alert.DetectorModel}, false, false},
		{"probe event", alert.Alert{EventType: alert.EventAlert, Proto: "TCP", Detector: alert.DetectorProbe}, false, false},
	} {
		for _, att := range []bool{false, true} {
			s := &Scheduler{cfg: SchedulerConfig{Attempts: att}}
			want := c.plain
			if att {
				want = c.attempts
			}
			if got := s.wants(&c.a); got != want {
				t.Errorf("%s (attempts %v): wants = %v, want %v", c.name, att, got, want)
			}
		}
	}
}
