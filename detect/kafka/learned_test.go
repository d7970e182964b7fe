package kafka

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/minerwatch/minerwatch/detect/intel"
)

// TestLearnedRecordsAreAppliedOrSkipped: what a sensor does with each
// learned-topic record it reads: another sensor's entry is added with the
// sender in its source, its own entry keeps its source, a tombstone
// removes the endpoint, and records whose key is no endpoint, whose value
// is no entry or names another endpoint than its key are skipped (the
// topic is shared: one bad writer must not break the others).
func TestLearnedRecordsAreAppliedOrSkipped(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	entry := func(ep, sensor string) []byte {
		a, p, err := intel.ParseEndpoint(ep)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := json.Marshal(LearnedMessage{LearnedEntry: intel.LearnedEntry{Addr: a, Port: p, Reason: intel.ReasonConfirmed,
			Source: "signature:cryptonote", Evidence: "handshake+answer", Added: t0, Expires: t0.Add(time.Hour)}, Sensor: sensor})
		return v
	}
	for _, tc := range []struct {
		name       string
		key        string
		value      []byte
		wantSource string // "" = no entry for 192.0.2.1:3333 afterwards
	}{
		{"another sensor's entry", "192.0.2.1:3333", entry("192.0.2.1:3333", "edge-2"), "kafka:edge-2:signature:cryptonote"},
		{"own entry", "192.0.2.1:3333", entry("192.0.2.1:3333", "edge-1"), "signature:cryptonote"},
		{"tombstone", "192.0.2.1:3333", nil, ""},
		{"key is no endpoint", "pool.example", entry("192.0.2.1:3333", "edge-2"), "seed"},
		{"value is no entry", "192.0.2.1:3333", []byte(`{"ip":`), "seed"},
		{"value for another endpoint", "192.0.2.1:3333", entry("192.0.2.9:3333", "edge-2"), "seed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := intel.NewLearned()
			// A seed entry, so that removals and skips are visible.
			l.Add(intel.LearnedEntry{Addr: netip.MustParseAddr("192.0.2.1"), Port: 3333, Reason: intel.ReasonManual, Source: "seed", Added: t0, Expires: t0.Add(time.Hour)})
			s := &Sink{cfg: Config{Sensor: "edge-1"}, learned: l}
			s.apply(&kgo.Record{Key: []byte(tc.key), Value: tc.value})
			e, ok := l.Match(netip.MustParseAddr("192.0.2.1"), 3333, t0.Add(time.Minute))
			got := ""
			if ok {
				got = e.Source
			}
			if got != tc.wantSource {
				t.Errorf("source after the record: %q, want %q", got, tc.wantSource)
			}
			if l.Len() > 1 {
				t.Errorf("entries %v: a skipped record added one", l.Entries())
			}
		})
	}
}
