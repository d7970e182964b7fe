package engine_test

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// TestEveryEventOfAFlowSharesItsIDs: the alert, the flow event and the
// feature rows of the lab's plaintext XMRig session carry one flow_id
// (what a SIEM joins on), the alert and flow event one Community ID and
// one sensor name, and the events carry their rule and counters.
func TestEveryEventOfAFlowSharesItsIDs(t *testing.T) {
	root := shareddata.Require(t)
	cfg := engine.DefaultConfig()
	cfg.Sensor = alert.Sensor{Host: "sensor-7", CommunityIDSeed: 0}
	rows := map[uint64]int{}
	cfg.OnRow = func(r *flowfeat.Row, _ *engine.FlowInfo) { rows[r.Flow.ID]++ }
	alerts, _ := run(t, filepath.Join(root, "lab/mining/xmrig-plain-3333.pcap"), cfg)
	var sig, end *alert.Alert
	for _, a := range alerts {
		switch {
		case a.Detector == alert.DetectorSignature && a.EventType == alert.EventAlert:
			sig = a
		case a.EventType == alert.EventFlow:
			end = a
		}
	}
	if sig == nil || end == nil {
		t.Fatalf("want a signature alert and a flow event, got %+v", alerts)
	}
	if sig.FlowID != end.FlowID || rows[sig.FlowID] == 0 {
		t.Errorf("flow_id: alert %d, flow event %d, feature rows %v", sig.FlowID, end.FlowID, rows)
	}
	// 1:APF5… is the Community ID of 10.200.1.1:35016 → 10.200.1.2:3333
	// TCP, seed 0, from PyPI communityid 1.5 (tests/python/test_eve.py
	// recomputes it for every event).
	if sig.CommunityID != "1:APF5Fn+gTgjUzgXWetkLebYir4U=" || end.CommunityID != sig.CommunityID {
		t.Errorf("community_id: alert %q, flow event %q", sig.CommunityID, end.CommunityID)
	}
	if sig.Host != "sensor-7" || sig.AppProto != "stratum" {
		t.Errorf("host %q, app_proto %q", sig.Host, sig.AppProto)
	}
	if sig.Rule == nil || sig.Rule.SignatureID != 1496023 || sig.Rule.Severity != 1 {
		t.Errorf("rule = %+v, want 1496023 (CryptoNote login answered with a job), severity 1", sig.Rule)
	}
	if end.Rule != nil {
		t.Errorf("flow event has an alert object: %+v", end.Rule)
	}
	// The alert came at the job (3 packets each way, tshark); the flow
	// event has the whole session and its end.
	if sig.Flow.PktsToServer == 0 || sig.Flow.PktsToServer >= end.Flow.PktsToServer || end.Flow.End.IsZero() || !end.Flow.Alerted {
		t.Errorf("flow: alert %+v, end %+v", sig.Flow, end.Flow)
	}
	if end.Mining == nil || end.Mining.SharesAccepted == 0 {
		t.Errorf("flow event lacks the final share count: %+v", end.Mining)
	}
}

// TestICMPAlertHasNoCommunityID: an ICMP flow to a listed pool address is
// alerted, but its Community ID needs the ICMP type and code, which the
// flow key does not keep: the field is left out rather than wrong, and
// proto is written as Suricata writes it.
func TestICMPAlertHasNoCommunityID(t *testing.T) {
	set := intel.NewSet()
	if _, err := set.Load(strings.NewReader("192.0.2.9\n"), "test-list", intel.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Intel = intel.New([]*intel.Set{set}, nil, intel.NewLearned(), intel.Config{})
	var got []*alert.Alert
	e := engine.New(cfg, func(a *alert.Alert) { got = append(got, a) })
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, proto := range []uint8{1, packet.ProtoUDP} {
		e.Packet(&packet.Packet{Time: at, SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("192.0.2.9"),
			Proto: proto, HasPorts: proto == packet.ProtoUDP, SrcPort: 5000, DstPort: 3333, IPLen: 84})
	}
	e.Flush()
	if len(got) != 2 {
		t.Fatalf("want an ICMP and a UDP alert, got %d", len(got))
	}
	for _, a := range got {
		switch a.Proto {
		case "ICMP":
			if a.CommunityID != "" {
				t.Errorf("ICMP alert has community_id %q", a.CommunityID)
			}
		case "UDP":
			if !strings.HasPrefix(a.CommunityID, "1:") {
				t.Errorf("UDP alert has community_id %q", a.CommunityID)
			}
		default:
			t.Errorf("proto %q", a.Proto)
		}
		if a.Rule == nil || a.Rule.SignatureID != 1496101 || a.FlowID == 0 {
			t.Errorf("%s alert: rule %+v, flow_id %d", a.Proto, a.Rule, a.FlowID)
		}
	}
}
