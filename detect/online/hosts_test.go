package online

import (
	"strconv"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
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

// A host's share total survives its flows' end (their entries are folded
// away at the flow event), and its pool set is bounded.
func TestHostViewFoldsEndedFlowsAndBoundsPools(t *testing.T) {
	v := newHostView(8)
	t0 := time.Unix(1_800_000_000, 0)
	mining := func(id uint64, shares int, ev string) *alert.Alert {
		return &alert.Alert{Timestamp: t0, EventType: ev, FlowID: id, SrcIP: "10.0.0.1", DestIP: "192.0.2.1", DestPort: 3333,
			Detector: alert.DetectorSignature, Mining: &alert.Mining{Dialect: "cryptonote", SharesAccepted: shares, HashrateHs: 100}}
	}
	v.Add(mining(1, 0, alert.EventAlert))
	v.Add(mining(1, 5, alert.EventFlow))  // flow 1 ends with 5 shares
	v.Add(mining(2, 3, alert.EventAlert)) // flow 2 still open, 3 shares so far
	for i := range engine.MaxPoolsPerHost + 10 {
		v.Add(&alert.Alert{Timestamp: t0, EventType: alert.EventAlert, SrcIP: "10.0.0.1", DestIP: "198.51.100.1",
			DestPort: uint16(1000 + i), Detector: alert.DetectorIntel})
	}
	got := v.Snapshot()
	if len(got) != 1 {
		t.Fatalf("%d hosts, want 1", len(got))
	}
	h := got[0]
	if h.Shares != 8 || h.HashrateHs != 200 {
		t.Errorf("shares %d hashrate %g, want 8 and 200 (5 from the ended flow, 3 from the open one)", h.Shares, h.HashrateHs)
	}
	if len(h.Pools) != engine.MaxPoolsPerHost || h.MorePools != 11 {
		t.Errorf("%d pools kept, %d more; want %d and 11", len(h.Pools), h.MorePools, engine.MaxPoolsPerHost)
	}
	e, _ := v.hosts.Peek("10.0.0.1")
	if len(e.flowShares) != 1 {
		t.Errorf("%d per-flow entries kept, want 1 (the open flow)", len(e.flowShares))
	}
}
