package online

import (
	"strconv"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
)

// The /hosts view is bounded: past its cap the host that alerted least
// recently goes, and the eviction is counted; summary events name no host
// and take no slot.
func TestHostViewEvictsLeastRecentlyAlertingHost(t *testing.T) {
	v := newHostView(3)
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 5 {
		v.Add(&alert.Alert{Timestamp: t0.Add(time.Duration(i) * time.Second), EventType: alert.EventAlert,
			SrcIP: "10.0.0." + strconv.Itoa(i), DestIP: "192.0.2.1", DestPort: 3333, Detector: alert.DetectorIntel})
	}
	v.Add(&alert.Alert{Timestamp: t0, EventType: alert.EventIntelSummary, DestIP: "192.0.2.1", DestPort: 3333,
		Detector: alert.DetectorIntel, Summary: &alert.Summary{Suppressed: 900}})
	got := v.Snapshot()
	if len(got) != 3 || v.Evicted() != 2 {
		t.Fatalf("%d hosts, %d evicted; want 3 and 2", len(got), v.Evicted())
	}
	for i, want := range []string{"10.0.0.4", "10.0.0.3", "10.0.0.2"} {
		if got[i].Host != want {
			t.Errorf("host %d = %s, want %s (most recent first)", i, got[i].Host, want)
		}
	}
}
