package engine

import (
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/stratum"
	"github.com/minerwatch/minerwatch/features/flows"
)

// TestFlowKeepsTheCaptureItBeganIn: a flow names the input it began in
// after the engine moved on to the next file, and the flows of one file
// share one copy of its name (FlowInfo holds a pointer, not a string).
func TestFlowKeepsTheCaptureItBeganIn(t *testing.T) {
	name := "a.pcap"
	cfg := DefaultConfig()
	cfg.Capture = func() string { return name }
	e := New(cfg, func(*alert.Alert) {})
	var fa1, fa2, fb flows.Flow
	e.flowStarted(&fa1)
	e.flowStarted(&fa2)
	name = "b.pcap"
	e.flowStarted(&fb)
	a1, a2, b := fa1.Data.(*FlowInfo), fa2.Data.(*FlowInfo), fb.Data.(*FlowInfo)
	if a1.Capture() != "a.pcap" || a2.Capture() != "a.pcap" || b.Capture() != "b.pcap" {
		t.Errorf("captures %q %q %q, want a.pcap a.pcap b.pcap", a1.Capture(), a2.Capture(), b.Capture())
	}
	if a1.capture != a2.capture {
		t.Error("two flows of one capture hold two copies of its name")
	}

	cfg.Capture = nil
	var fn flows.Flow
	New(cfg, func(*alert.Alert) {}).flowStarted(&fn)
	if got := fn.Data.(*FlowInfo).Capture(); got != "" {
		t.Errorf("capture %q without a name, want empty", got)
	}
}

// TestFlowsOfOneCaptureAllocateNoName: the capture's name is copied to the
// heap when it changes, not for every flow (taking the address of the
// string Capture returns had moved it to the heap at each call: 16 B of
// garbage per flow).
func TestFlowsOfOneCaptureAllocateNoName(t *testing.T) {
	name := string([]byte("a.pcap")) // built at run time, like a flag's value
	cfg := DefaultConfig()
	cfg.Capture = func() string { return name }
	e := New(cfg, func(*alert.Alert) {})
	var warm flows.Flow
	e.flowStarted(&warm) // the first flow copies the name
	fi := warm.Data.(*FlowInfo)
	n := testing.AllocsPerRun(100, func() {
		if e.captureRef() != fi.capture {
			t.Fatal("a second copy of an unchanged name")
		}
	})
	if n != 0 {
		t.Errorf("%.1f allocations per flow for an unchanged capture name, want 0", n)
	}
}

// TestEveryDialectSurvivesTheFlowsByte: the one-byte dialect index gives
// back every name a verdict can carry, and none for a flow without one.
func TestEveryDialectSurvivesTheFlowsByte(t *testing.T) {
	var fi FlowInfo
	if fi.Dialect() != "" {
		t.Errorf("dialect %q before any verdict, want empty", fi.Dialect())
	}
	for _, d := range stratum.Dialects() {
		fi.dialect = dialectIndex(d)
		if fi.Dialect() != d {
			t.Errorf("dialect %q stored and read back as %q", d, fi.Dialect())
		}
	}
}

// TestAlertedKeepsEachDetectorApart: the byte that replaced the Alerted
// map answers for each detector on its own, and an alert by a detector it
// has no bit for still counts as an alert (the feature rows of an alerted
// flow are skipped) without passing for one of the named four.
func TestAlertedKeepsEachDetectorApart(t *testing.T) {
	for _, d := range detectorBits {
		var fi FlowInfo
		fi.alerted |= detectorBit(d)
		for _, o := range detectorBits {
			if got := fi.AlertedBy(o); got != (o == d) {
				t.Errorf("alerted by %s: AlertedBy(%s) = %v", d, o, got)
			}
		}
	}
	var fi FlowInfo
	fi.alerted |= detectorBit("future")
	if fi.alerted == 0 || !fi.AlertedBy("future") {
		t.Error("an alert by an unnamed detector was lost")
	}
	for _, o := range detectorBits {
		if fi.AlertedBy(o) {
			t.Errorf("an alert by an unnamed detector reads as one by %s", o)
		}
	}
}
