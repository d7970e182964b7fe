package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/features/packet"
)

// listedConfig returns an engine config whose only intel list holds the
// address synTo's flows go to (192.0.2.1, a documentation address).
func listedConfig(t *testing.T) engine.Config {
	t.Helper()
	list := filepath.Join(t.TempDir(), "pools.txt")
	if err := os.WriteFile(list, []byte("# test pools\n192.0.2.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in, warns, err := intel.Load(intel.Options{NoDefault: true, Lists: []string{list}})
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	cfg := engine.DefaultConfig()
	cfg.Intel = in
	return cfg
}

// A SYN flood from spoofed sources to a listed address is one alert per
// flow without a limit: a DoS on the SIEM. With the default limit (100
// per endpoint per minute) 1,000 flows in one minute give 100 alerts and
// one intel_summary counting the other 900 and about 900 sources; the
// next minute starts a fresh allowance.
func TestIntelFloodIsFoldedIntoASummary(t *testing.T) {
	cfg := listedConfig(t)
	var alerts, summaries []*alert.Alert
	e := engine.New(cfg, func(a *alert.Alert) {
		switch a.EventType {
		case alert.EventAlert:
			alerts = append(alerts, a)
		case alert.EventIntelSummary:
			summaries = append(summaries, a)
		}
	})
	t0 := time.Unix(1_800_000_000, 0)
	var p packet.Packet
	for i := range 1000 {
		synTo(i, t0.Add(time.Duration(i)*time.Millisecond), &p)
		e.Packet(&p)
	}
	if len(alerts) != 100 || len(summaries) != 0 {
		t.Fatalf("during the first minute: %d alerts, %d summaries; want 100 and 0 (summary at interval end)", len(alerts), len(summaries))
	}
	// Two minutes later: the interval is over; 10 more flows alert again.
	for i := range 10 {
		synTo(5000+i, t0.Add(2*time.Minute+time.Duration(i)*time.Millisecond), &p)
		e.Packet(&p)
	}
	e.Flush()
	if len(alerts) != 110 {
		t.Errorf("%d alerts, want 100 + 10 after the interval", len(alerts))
	}
	if len(summaries) != 1 {
		t.Fatalf("%d summaries, want 1", len(summaries))
	}
	s := summaries[0]
	if s.Summary == nil || s.Summary.Suppressed != 900 || s.Summary.Alerted != 100 || s.DestIP != "192.0.2.1" {
		t.Fatalf("summary %+v %+v, want 900 folded flows to 192.0.2.1", s, s.Summary)
	}
	if n := s.Summary.Sources; n < 800 || n > 1000 { // 900 distinct sources, HyperLogLog ±7 %
		t.Errorf("sources estimate %d, want about 900", n)
	}
	st := e.Stats()
	if st.Capped.IntelSuppressed != 900 || st.Capped.IntelSummaries != 1 {
		t.Errorf("capped counters %+v, want 900 suppressed and 1 summary", st.Capped)
	}
	if d := st.Drops(); !strings.Contains(d, "900 intel alerts folded into 1 intel_summary") {
		t.Errorf("Drops() = %q, want the folded alerts named", d)
	}
}

// Per-host summaries are capped: past Caps.Hosts alerting hosts the least
// recently alerting ones are evicted and counted.
func TestHostSummariesAreCapped(t *testing.T) {
	cfg := listedConfig(t)
	cfg.Caps.Hosts = 10
	e := engine.New(cfg, func(*alert.Alert) {})
	t0 := time.Unix(1_800_000_000, 0)
	var p packet.Packet
	for i := range 50 {
		synTo(i, t0.Add(time.Duration(i)*time.Millisecond), &p)
		e.Packet(&p)
	}
	hosts := e.Hosts()
	if len(hosts) != 10 {
		t.Fatalf("%d host summaries, want the cap of 10", len(hosts))
	}
	// The survivors are the 10 most recent sources, 10.0.0.40 … 10.0.0.49.
	for _, h := range hosts {
		if !h.Host.Is4() || h.Host.As4()[3] < 40 {
			t.Errorf("host %s kept, want only the most recent", h.Host)
		}
	}
	st := e.Stats()
	if st.Capped.HostsEvicted != 40 || !strings.Contains(st.Drops(), "40 host summaries evicted") {
		t.Errorf("evicted %d, Drops %q; want 40", st.Capped.HostsEvicted, st.Drops())
	}
}

// A run that hit no bound reports nothing.
func TestDropsIsEmptyWhenNothingWasCapped(t *testing.T) {
	e := engine.New(engine.DefaultConfig(), func(*alert.Alert) {})
	var p packet.Packet
	synTo(1, time.Unix(1_800_000_000, 0), &p)
	e.Packet(&p)
	e.Flush()
	st := e.Stats()
	if d := st.Drops(); d != "" {
		t.Errorf("Drops() = %q, want empty", d)
	}
}

// Online, the summary of a quiet endpoint comes when the wall clock
// passes the interval (Advance), not only at its next hit or at Flush.
func TestIntelSummaryComesAtAdvanceAfterTheInterval(t *testing.T) {
	cfg := listedConfig(t)
	cfg.Caps.IntelAlerts = 2
	var summaries []*alert.Alert
	e := engine.New(cfg, func(a *alert.Alert) {
		if a.EventType == alert.EventIntelSummary {
			summaries = append(summaries, a)
		}
	})
	t0 := time.Unix(1_800_000_000, 0)
	var p packet.Packet
	for i := range 5 {
		synTo(i, t0.Add(time.Duration(i)*time.Second), &p)
		e.Packet(&p)
	}
	e.Advance(t0.Add(30 * time.Second))
	if len(summaries) != 0 {
		t.Fatalf("summary before the interval ended: %+v", summaries[0].Summary)
	}
	e.Advance(t0.Add(61 * time.Second))
	if len(summaries) != 1 || summaries[0].Summary.Suppressed != 3 {
		t.Fatalf("%d summaries after the interval, want 1 folding 3 flows", len(summaries))
	}
	e.Flush()
	if len(summaries) != 1 {
		t.Errorf("Flush repeated the summary: %d", len(summaries))
	}
}

// A SYN flood earns no flow any stage state; a flow that carries data
// does, and so does a flow whose first model checkpoint (60 s) falls due.
// Flows that end without either stay unearned (the model wants no end
// rows).
func TestOnlyFlowsWithPayloadOrDueRowsEarnState(t *testing.T) {
	e := engine.New(defaultConfig(t), func(*alert.Alert) {})
	t0 := time.Unix(1_800_000_000, 0)
	var p packet.Packet
	for i := range 1000 {
		synTo(i, t0.Add(time.Duration(i)*time.Microsecond), &p)
		e.Packet(&p)
	}
	if n := e.Stats().Earned; n != 0 {
		t.Fatalf("%d flows of a SYN flood earned state, want 0", n)
	}
	// Flow 0 sends data: it earns state.
	synTo(0, t0.Add(time.Second), &p)
	p.TCPFlags, p.Seq, p.Payload = packet.FlagACK|packet.FlagPSH, 1, []byte("hello\n")
	p.PayloadLen, p.IPLen = len(p.Payload), 46
	e.Packet(&p)
	// Flow 1 retransmits its SYN (within the half-open timeout) until
	// past 60 s: its checkpoint row is due, so it earns state.
	for _, s := range []int{25, 50, 61} {
		synTo(1, t0.Add(time.Duration(s)*time.Second), &p)
		e.Packet(&p)
	}
	e.Flush()
	st := e.Stats()
	if st.Earned != 2 {
		t.Errorf("%d flows earned state, want 2 (one with data, one with a due row)", st.Earned)
	}
	if st.Flows.FlowsCreated != 1000 {
		t.Errorf("%d flows, want 1000", st.Flows.FlowsCreated)
	}
}

// A flow whose handshake completes earns its state at the client's ACK,
// before any payload (its prelude goes back to the free list instead of
// waiting for the first payload); a SYN answered by a SYN/ACK alone, or
// refused, does not.
func TestACompletedHandshakeEarnsStateAtOnce(t *testing.T) {
	e := engine.New(defaultConfig(t), func(*alert.Alert) {})
	t0 := time.Unix(1_800_000_000, 0)
	var p packet.Packet
	answer := func(i int, flags uint8) {
		synTo(i, t0, &p)
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = p.DstIP, p.SrcIP, p.DstPort, p.SrcPort
		p.TCPFlags, p.Seq, p.Ack, p.Time = flags, 7000, uint32(i)+1, t0.Add(time.Millisecond)
		e.Packet(&p)
	}
	for i, flags := range []uint8{packet.FlagSYN | packet.FlagACK, packet.FlagRST | packet.FlagACK} {
		synTo(i, t0, &p)
		e.Packet(&p)
		answer(i, flags)
	}
	if n := e.Stats().Earned; n != 0 {
		t.Fatalf("%d flows earned state before a handshake completed, want 0", n)
	}
	for i := range 2 { // the client's ACK
		synTo(i, t0.Add(2*time.Millisecond), &p)
		p.TCPFlags, p.Seq, p.Ack = packet.FlagACK, uint32(i)+1, 7001
		e.Packet(&p)
	}
	if n := e.Stats().Earned; n != 1 {
		t.Errorf("%d flows earned state, want 1 (the completed handshake, not the refused one)", n)
	}
}
