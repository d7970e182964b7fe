package kafka

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/kafka/kafkatest"
)

// deadAddr is a loopback address where nothing listens: a broker outage.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func testAlert(flow uint64, sensor string) *alert.Alert {
	return &alert.Alert{Timestamp: time.Unix(1700000000, 0), EventType: alert.EventAlert, FlowID: flow,
		SrcIP: "10.0.0.1", SrcPort: 40000, DestIP: "192.0.2.1", DestPort: 3333, Proto: "TCP", Host: sensor,
		Rule: &alert.Rule{Signature: "test"}, Detector: alert.DetectorSignature}
}

// TestUnreachableBrokersBoundTheBufferAndCountDrops: with no broker, the
// sensor goes on (Start succeeds with a warning, Alert never blocks), at
// most MaxBufferedRecords wait in memory, the rest are counted as
// dropped, and Close says how many were not delivered.
func TestUnreachableBrokersBoundTheBufferAndCountDrops(t *testing.T) {
	s, warns, err := Start(context.Background(), Config{Brokers: []string{deadAddr(t)}, Sensor: "a",
		MaxBufferedRecords: 10, SyncTimeout: 300 * time.Millisecond}, intel.NewLearned())
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) == 0 {
		t.Error("no warning about the unreachable brokers")
	}
	start := time.Now()
	for i := range 25 {
		s.Alert(testAlert(uint64(i+1), "a"))
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("25 alerts took %v: Alert blocked on the outage", el)
	}
	// Refusals reach the promise asynchronously: wait for all 15.
	st := s.Stats()
	for deadline := time.Now().Add(2 * time.Second); st.Dropped < 15 && time.Now().Before(deadline); st = s.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	if st.Buffered != 10 || st.Dropped != 15 || st.Produced != 0 {
		t.Errorf("stats %+v, want 10 buffered, 15 dropped, 0 produced", st)
	}
	err = s.Close(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "25 records not delivered") {
		t.Errorf("Close: %v, want 25 records not delivered", err)
	}
}

// TestNilSinkIsTheDefaultPath: without --kafka the sink is nil and every
// method is a no-op.
func TestNilSinkIsTheDefaultPath(t *testing.T) {
	var s *Sink
	s.Only(nil)
	s.Alert(testAlert(1, "a"))
	if s.Stats() != (Stats{}) || s.Close(time.Second) != nil {
		t.Error("nil sink did something")
	}
}

// consumeAll reads topic from its start until want records arrived, and
// half a second more to catch duplicates beyond want.
func consumeAll(t *testing.T, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	// A short extra poll catches duplicates beyond want.
	extra, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	cl.PollFetches(extra).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	return out
}

// TestAgainstARealBroker starts one single-node Kafka broker (KRaft) for
// the tests that need one; the outage test stops and restarts it, so it
// runs last.
func TestAgainstARealBroker(t *testing.T) {
	b := kafkatest.Start(t)
	t.Run("LearnedPoolCrossesSensors", func(t *testing.T) { learnedPoolCrossesSensors(t, b) })
	t.Run("PublisherTombstonesItsExpiredEntries", func(t *testing.T) { publisherTombstonesItsExpiredEntries(t, b) })
	t.Run("BrokerOutageDeliversTheBacklogInOrder", func(t *testing.T) { brokerOutageDeliversTheBacklogInOrder(t, b) })
}

// brokerOutageDeliversTheBacklogInOrder: alerts produced while the broker is down wait in the buffer and reach
// the topic after it restarts, every one exactly once (idempotent
// producer), a flow's events in the order produced.
func brokerOutageDeliversTheBacklogInOrder(t *testing.T, b *kafkatest.Broker) {
	s, warns, err := Start(context.Background(), Config{Brokers: []string{b.Addr}, Sensor: "a", LearnedTopic: "-"}, nil)
	if err != nil || len(warns) > 0 {
		t.Fatalf("start: %v %v", err, warns)
	}
	const flows, perFlow = 20, 5
	produce := func(round int) {
		for f := range flows {
			a := testAlert(uint64(f+1), "a")
			a.Reason = fmt.Sprint(round)
			s.Alert(a)
		}
	}
	produce(0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	if err := s.cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	b.Stop()
	for round := 1; round < perFlow-1; round++ {
		produce(round)
	}
	if st := s.Stats(); st.Buffered == 0 || st.Dropped != 0 {
		t.Fatalf("during the outage: %+v, want records buffered and none dropped", st)
	}
	b.Restart()
	produce(perFlow - 1)
	if err := s.Close(30 * time.Second); err != nil {
		t.Fatalf("close: %v\nbroker log:\n%s", err, b.Log())
	}
	recs := consumeAll(t, b.Addr, DefaultAlertTopic, flows*perFlow)
	seen := map[string][]string{}
	for _, r := range recs {
		var reason string
		if i := strings.Index(string(r.Value), `"reason":"`); i >= 0 {
			reason = string(r.Value[i+10 : i+11])
		}
		seen[string(r.Key)] = append(seen[string(r.Key)], reason)
	}
	if len(recs) != flows*perFlow {
		t.Errorf("%d records in the topic, want %d", len(recs), flows*perFlow)
	}
	for f := 1; f <= flows; f++ {
		if got := strings.Join(seen[fmt.Sprint(f)], ""); got != "01234" {
			t.Errorf("flow %d: events %q in the topic, want 01234 (each once, in order)", f, got)
		}
	}
}

// learnedPoolCrossesSensors: a pool sensor A trusts (handshake and
// answer) reaches sensor B's learned list through the compacted topic,
// with A's name in its source; B, started later, reads it at boot before
// it sees a packet. An operator's tombstone removes it from B while B runs.
func learnedPoolCrossesSensors(t *testing.T, b *kafkatest.Broker) {
	cfg := Config{Brokers: []string{b.Addr}}
	inA := intel.New(nil, nil, nil, intel.Config{ConfirmedTTL: time.Hour})
	cfg.Sensor = "a"
	sa, _, err := Start(context.Background(), cfg, inA.Learned())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	pool := netip.MustParseAddrPort("198.51.100.9:4444")
	if _, ok := inA.Confirm(pool, netip.MustParseAddr("10.0.0.1"), "pool.example", "signature:cryptonote", "handshake+answer", now); !ok {
		t.Fatal("A did not trust the confirmation")
	}
	if err := sa.Close(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if st := sa.Stats(); st.LearnedPublished != 1 {
		t.Fatalf("A published %d entries, want 1", st.LearnedPublished)
	}

	inB := intel.New(nil, nil, nil, intel.Config{})
	cfg.Sensor = "b"
	sb, warns, err := Start(context.Background(), cfg, inB.Learned())
	if err != nil || len(warns) > 0 {
		t.Fatalf("start B: %v %v", err, warns)
	}
	defer sb.Close(5 * time.Second)
	if st := sb.Stats(); st.LearnedApplied != 1 || st.LearnedLag != 0 {
		t.Errorf("B after boot: %+v, want 1 entry applied and no lag", st)
	}
	hit, ok := inB.CheckFlow(netip.MustParseAddrPort("10.9.9.9:50000"), pool, now.Add(time.Minute))
	if !ok || hit.Kind != intel.MatchLearned || hit.Source != "kafka:a:signature:cryptonote" || hit.Domain != "pool.example" {
		t.Fatalf("B's match at boot: %v %+v", ok, hit)
	}
	if err := RemoveLearned(context.Background(), cfg, pool.String()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for inB.Learned().Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if inB.Learned().Len() != 0 {
		t.Errorf("tombstone not applied by the running sensor B: %v", inB.Learned().Entries())
	}
	left, err := ReadLearned(context.Background(), cfg)
	if err != nil || len(left) != 0 {
		t.Errorf("ReadLearned after removal: %v %v", left, err)
	}
}

// publisherTombstonesItsExpiredEntries: a live sensor (ExpireEvery set)
// writes a tombstone for an entry it published once the wall clock passes
// its expiry, and leaves another sensor's expired entry to its publisher
// (or to `intel expire --kafka`).
func publisherTombstonesItsExpiredEntries(t *testing.T, b *kafkatest.Broker) {
	cfg := Config{Brokers: []string{b.Addr}, LearnedTopic: "expiry.learned", Sensor: "live", ExpireEvery: 100 * time.Millisecond}
	now := time.Now()
	other := intel.LearnedEntry{Addr: netip.MustParseAddr("192.0.2.8"), Port: 3333, Reason: intel.ReasonConfirmed,
		Evidence: "handshake+answer", Added: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}
	if err := PublishLearned(context.Background(), cfg, "elsewhere", other); err != nil {
		t.Fatal(err)
	}
	in := intel.New(nil, nil, nil, intel.Config{ConfirmedTTL: 300 * time.Millisecond})
	s, warns, err := Start(context.Background(), cfg, in.Learned())
	if err != nil || len(warns) > 0 {
		t.Fatalf("start: %v %v", err, warns)
	}
	defer s.Close(5 * time.Second)
	in.Confirm(netip.MustParseAddrPort("198.51.100.7:5555"), netip.MustParseAddr("10.0.0.1"), "", "signature:stratum-v1", "handshake+answer", now)
	// First the entry is in the topic (acknowledged), then the sweep's
	// tombstone takes it out.
	for deadline := time.Now().Add(10 * time.Second); s.Stats().LearnedPublished == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if s.Stats().LearnedPublished != 1 {
		t.Fatalf("the entry was not published: %+v", s.Stats())
	}
	var left []LearnedMessage
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if left, err = ReadLearned(context.Background(), cfg); err == nil && len(left) == 1 {
			break
		}
	}
	if len(left) != 1 || left[0].Key() != "192.0.2.8:3333" {
		t.Errorf("learned topic after the sweep: %+v (%v), want only the other sensor's entry", left, err)
	}
}
