package online

import (
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
)

// Flows that never get an end event (intel and model alerts) must not
// fill the evidence tracker for good: past its cap the least recently
// active alerted flow makes room for the newest.
func TestEvidenceTrackerMakesRoomForNewAlertedFlows(t *testing.T) {
	tr := newEvidenceTracker(&Evidence{cfg: EvidenceConfig{PerFlow: 10}})
	for i := range maxEvidenceFlows + 5 {
		tr.mark(&alert.Alert{EventType: alert.EventAlert, SrcIP: "10.0.0.1", SrcPort: uint16(1000 + i),
			DestIP: "192.0.2.1", DestPort: 3333, Proto: "TCP", Detector: alert.DetectorIntel})
	}
	if tr.flows.Len() != maxEvidenceFlows || tr.flows.Evicted() != 5 {
		t.Fatalf("%d flows tracked, %d evicted; want %d and 5", tr.flows.Len(), tr.flows.Evicted(), maxEvidenceFlows)
	}
	last := &alert.Alert{EventType: alert.EventAlert, SrcIP: "10.0.0.1", SrcPort: uint16(1000 + maxEvidenceFlows + 4),
		DestIP: "192.0.2.1", DestPort: 3333, Proto: "TCP"}
	k, _ := alertKey(last)
	if _, ok := tr.flows.Peek(k); !ok {
		t.Error("the newest alerted flow is not tracked")
	}
	tr.forget(last)
	if _, ok := tr.flows.Peek(k); ok {
		t.Error("an ended flow is still tracked")
	}
}
