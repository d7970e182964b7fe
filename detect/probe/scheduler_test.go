package probe_test

import (
	"encoding/json"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/probe"
	"github.com/minerwatch/minerwatch/detect/probe/probetest"
	"github.com/minerwatch/minerwatch/detect/stratum"
)

// events collects what a scheduler emits, from any goroutine.
type events struct {
	mu  sync.Mutex
	all []*alert.Alert
}

func (e *events) add(a *alert.Alert) {
	e.mu.Lock()
	e.all = append(e.all, a)
	e.mu.Unlock()
}

// modelAlert is a model alert as the engine writes it, on a flow from
// 10.231.0.1 to server.
func modelAlert(flowID uint64, server string, port uint16) *alert.Alert {
	return &alert.Alert{Timestamp: time.Date(2026, 11, 22, 10, 57, 35, 0, time.UTC), EventType: alert.EventAlert,
		FlowID: flowID, SrcIP: "10.231.0.1", SrcPort: 40000 + uint16(flowID), DestIP: server, DestPort: port, Proto: "TCP",
		Detector: alert.DetectorModel, Confidence: 0.83, Flow: &alert.Flow{Start: time.Date(2026, 11, 22, 10, 56, 35, 0, time.UTC)}}
}

// A model alert on a flow to an in-scope pool gets a "confirmed" probe
// event on the same flow, severity 1, and the pool joins the learned list
// with the probe as evidence; a second flow to it reuses the verdict (one
// probe, one connection); a flow to a server outside the scope is never
// probed (its server sees no connection).
func TestSchedulerConfirmsInScopePoolsOnlyAndLearnsThem(t *testing.T) {
	nw := probetest.New(t)
	a := probetest.Addr
	pool := probetest.Pool(nw.Listen(t, a(2)+":3333"), stratum.DialectCryptoNote, nil, probetest.TLSOptions{})
	outside := probetest.Pool(nw.Listen(t, a(3)+":3333"), stratum.DialectCryptoNote, nil, probetest.TLSOptions{})
	scope, err := probe.ParseScope(a(2) + "/32")
	if err != nil {
		t.Fatal(err)
	}
	in := intel.New(nil, nil, nil, intel.Config{})
	var got events
	s, err := probe.NewScheduler(probe.SchedulerConfig{Scope: scope, Rate: 50, Intel: in, Emit: got.add,
		Probe: probe.Config{Timeout: 2 * time.Second, Dial: nw.Dial}})
	if err != nil {
		t.Fatal(err)
	}
	s.Observe(modelAlert(1, a(2), 3333))
	s.Observe(modelAlert(2, a(3), 3333)) // outside the scope
	// The same endpoint again once the first verdict is in: from the cache.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Probes == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.Observe(modelAlert(3, a(2), 3333))
	st := s.Close(5 * time.Second)

	if st.Probes != 1 || st.Confirmed != 2 || st.Cached != 1 || st.OutOfScope != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v: want 1 probe, 2 confirmed (1 cached), 1 out of scope", st)
	}
	if pool.Conns() != 1 {
		t.Errorf("pool saw %d connections, want 1 (one probe per endpoint)", pool.Conns())
	}
	if outside.Conns() != 0 {
		t.Errorf("a server outside the scope was connected to %d times", outside.Conns())
	}
	if len(got.all) != 2 {
		t.Fatalf("%d events, want 2", len(got.all))
	}
	for i, ev := range got.all {
		js, _ := json.Marshal(ev)
		if ev.FlowID != []uint64{1, 3}[i] || ev.Detector != alert.DetectorProbe || ev.Probe == nil ||
			ev.Probe.Result != alert.ProbeConfirmed || ev.Rule.Severity != 1 || ev.Probe.Cached != (i == 1) {
			t.Errorf("event %d: %s", i, js)
		}
		var v probe.Result
		if err := json.Unmarshal(ev.Probe.Verdict, &v); err != nil || v.Verdict != probe.VerdictPool || v.Dialect != stratum.DialectCryptoNote {
			t.Errorf("event %d verdict: %v %s", i, err, js)
		}
	}
	e, ok := in.Learned().Match(netip.MustParseAddr(a(2)), 3333, got.all[0].Timestamp)
	if !ok || e.Source != "probe:cryptonote" || e.Evidence == "" || e.Reason != intel.ReasonConfirmed {
		t.Errorf("learned entry %+v, %v: want a confirmed entry from the probe with evidence", e, ok)
	}
	if _, ok := in.Learned().Match(netip.MustParseAddr(a(3)), 3333, got.all[0].Timestamp); ok {
		t.Error("the out-of-scope server was learned")
	}
	if !s.ConfirmedHost(netip.MustParseAddr("10.231.0.1")) {
		t.Error("the client of the confirmed flows is not a confirmed host")
	}
}

// A server that does not answer as a pool gives an "unconfirmed" event:
// severity 3, the trigger's confidence kept (it never suppresses the
// model alert), nothing learned.
func TestSchedulerUnconfirmedKeepsTheModelAlert(t *testing.T) {
	nw := probetest.New(t)
	a := probetest.Addr
	silent := probetest.Silent(nw.Listen(t, a(7)+":5555"))
	scope, _ := probe.ParseScope("10.231.0.0/24")
	in := intel.New(nil, nil, nil, intel.Config{})
	var got events
	s, err := probe.NewScheduler(probe.SchedulerConfig{Scope: scope, Intel: in, Emit: got.add,
		Probe: probe.Config{Timeout: 400 * time.Millisecond, Dial: nw.Dial}})
	if err != nil {
		t.Fatal(err)
	}
	s.Observe(modelAlert(7, a(7), 5555))
	s.Close(5 * time.Second)
	if len(got.all) != 1 {
		t.Fatalf("%d events, want 1", len(got.all))
	}
	ev := got.all[0]
	if ev.Probe.Result != alert.ProbeUnconfirmed || ev.Rule.Severity != 3 || ev.Confidence != 0.83 || ev.FlowID != 7 {
		js, _ := json.Marshal(ev)
		t.Errorf("event: %s", js)
	}
	if silent.Conns() == 0 {
		t.Error("the silent server was not probed")
	}
	if in.Learned().Len() != 0 {
		t.Error("an unconfirmed server was learned")
	}
	if s.ConfirmedHost(netip.MustParseAddr("10.231.0.1")) {
		t.Error("an unconfirmed flow's client counts as confirmed")
	}
}

// The rate limit holds over all workers: with four endpoints suspected at
// once, four workers and --probe-rate 5, probe starts are 200 ms apart
// (a lower bound, up to scheduling jitter: a loaded machine spreads them
// further).
func TestSchedulerRateLimitSpacesProbeStarts(t *testing.T) {
	nw := probetest.New(t)
	a := probetest.Addr
	ports := []uint16{4001, 4002, 4003, 4004}
	for _, p := range ports {
		probetest.Pool(nw.Listen(t, netip.AddrPortFrom(netip.MustParseAddr(a(2)), p).String()), stratum.DialectCryptoNote, nil, probetest.TLSOptions{})
	}
	scope, _ := probe.ParseScope(a(2))
	var got events
	const rate = 5.0
	s, err := probe.NewScheduler(probe.SchedulerConfig{Scope: scope, Rate: rate, Workers: 4, Emit: got.add,
		Probe: probe.Config{Timeout: 2 * time.Second, Dial: nw.Dial}})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ports {
		s.Observe(modelAlert(uint64(i+1), a(2), p))
	}
	st := s.Close(10 * time.Second)
	if st.Probes != 4 || len(got.all) != 4 {
		t.Fatalf("stats %+v, %d events: want 4 probes", st, len(got.all))
	}
	var starts []time.Time
	for _, ev := range got.all {
		var v probe.Result
		if err := json.Unmarshal(ev.Probe.Verdict, &v); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, v.Started)
	}
	slices.SortFunc(starts, func(x, y time.Time) int { return x.Compare(y) })
	// Each probe starts at its slot (1/rate after the previous slot) or
	// later when the machine is busy, so one late start can bring the
	// next one closer: allow 50 ms of that jitter between neighbours.
	// Without the limit all four start within a few milliseconds.
	interval := time.Duration(float64(time.Second) / rate)
	for i := 1; i < len(starts); i++ {
		if d := starts[i].Sub(starts[i-1]); d < interval-50*time.Millisecond {
			t.Errorf("probes %d and %d started %v apart, want about %v", i-1, i, d, interval)
		}
	}
	if span := starts[len(starts)-1].Sub(starts[0]); span < 3*interval-50*time.Millisecond {
		t.Errorf("4 probes started within %v, want ≥ %v at %v/s", span, 3*interval, rate)
	}
}

func TestParseScopeRefusesNothingAndGarbage(t *testing.T) {
	for _, c := range []struct {
		in   string
		ok   bool
		want string
	}{
		{"10.231.0.0/24", true, "[10.231.0.0/24]"},
		{"10.231.0.2, 192.0.2.0/25", true, "[10.231.0.2/32 192.0.2.0/25]"},
		{"10.231.0.7/24", true, "[10.231.0.0/24]"},
		{"fd00:231::/64,2001:db8::5", true, "[fd00:231::/64 2001:db8::5/128]"},
		{"", false, ""},
		{" , ", false, ""},
		{"pool.example", false, ""},
	} {
		p, err := probe.ParseScope(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseScope(%q) error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok {
			if got := fmtPrefixes(p); got != c.want {
				t.Errorf("ParseScope(%q) = %s, want %s", c.in, got, c.want)
			}
		}
	}
}

func fmtPrefixes(p []netip.Prefix) string {
	b, _ := json.Marshal(p)
	var s []string
	json.Unmarshal(b, &s)
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

// Observe never waits for the network: with one worker stuck on a silent
// server and a queue of two, ten suspected endpoints are taken or dropped
// at once (counted), and Close stops the rest without waiting them out.
func TestSchedulerQueueIsBoundedAndObserveNeverBlocks(t *testing.T) {
	nw := probetest.New(t)
	a := probetest.Addr
	for p := 5001; p <= 5010; p++ {
		probetest.Silent(nw.Listen(t, netip.AddrPortFrom(netip.MustParseAddr(a(7)), uint16(p)).String()))
	}
	scope, _ := probe.ParseScope(a(7))
	var got events
	const timeout = time.Second
	s, err := probe.NewScheduler(probe.SchedulerConfig{Scope: scope, Rate: 100, Workers: 1, Queue: 2, Emit: got.add,
		Probe: probe.Config{Timeout: timeout, Dial: nw.Dial}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for p := 5001; p <= 5010; p++ {
		s.Observe(modelAlert(uint64(p), a(7), uint16(p)))
	}
	if took := time.Since(start); took >= timeout {
		t.Errorf("10 Observe calls took %v: they waited for a probe (timeout %v)", took, timeout)
	}
	st := s.Stats()
	if st.Dropped < 7 || st.Dropped > 8 {
		t.Errorf("dropped %d of 10 with one worker and a queue of 2, want 7 or 8", st.Dropped)
	}
	start = time.Now()
	st = s.Close(0)
	if took := time.Since(start); took >= timeout {
		t.Errorf("Close(0) took %v: it waited for the probes", took)
	}
	if st.Probes != 0 || len(got.all) != 0 {
		t.Errorf("stopped probes were reported: %+v, %d events", st, len(got.all))
	}
}
