package alert

import (
	"encoding/json"
	"time"
)

// The wire types give the JSON its EVE shape and field order. Like EVE,
// an event without a flow (intel_summary) or without ports (ICMP) omits
// those fields rather than writing zeros.
type (
	wireEvent struct {
		Timestamp    string    `json:"timestamp"`
		FlowID       uint64    `json:"flow_id,omitempty"`
		InIface      string    `json:"in_iface,omitempty"`
		PcapFilename string    `json:"pcap_filename,omitempty"`
		EventType    string    `json:"event_type"`
		VLAN         []uint16  `json:"vlan,omitempty"`
		SrcIP        string    `json:"src_ip,omitempty"`
		SrcPort      uint16    `json:"src_port,omitempty"`
		DestIP       string    `json:"dest_ip,omitempty"`
		DestPort     uint16    `json:"dest_port,omitempty"`
		Proto        string    `json:"proto,omitempty"`
		CommunityID  string    `json:"community_id,omitempty"`
		AppProto     string    `json:"app_proto,omitempty"`
		Host         string    `json:"host,omitempty"`
		Rule         *Rule     `json:"alert,omitempty"`
		Flow         *wireFlow `json:"flow,omitempty"`
		TLS          *wireTLS  `json:"tls,omitempty"`
		Ours         wireOurs  `json:"minerwatch"`
	}
	wireFlow struct {
		PktsToServer  uint64 `json:"pkts_toserver"`
		PktsToClient  uint64 `json:"pkts_toclient"`
		BytesToServer uint64 `json:"bytes_toserver"`
		BytesToClient uint64 `json:"bytes_toclient"`
		Start         string `json:"start"`
		End           string `json:"end,omitempty"`
		Age           *int64 `json:"age,omitempty"`
		State         string `json:"state,omitempty"`
		Reason        string `json:"reason,omitempty"`
		Alerted       *bool  `json:"alerted,omitempty"`
	}
	wireJA3 struct {
		Hash   string `json:"hash"`
		String string `json:"string"`
	}
	wireTLS struct {
		SNI         string   `json:"sni,omitempty"`
		Version     string   `json:"version,omitempty"`
		JA3         *wireJA3 `json:"ja3,omitempty"`
		JA4         string   `json:"ja4,omitempty"`
		ClientALPNs []string `json:"client_alpns,omitempty"`
	}
	wireOurs struct {
		Detector    string   `json:"detector"`
		Confidence  float64  `json:"confidence"`
		Reason      string   `json:"reason"`
		NoSNINon443 bool     `json:"tls_no_sni_non_443,omitempty"`
		Mining      *Mining  `json:"mining,omitempty"`
		Intel       *Intel   `json:"intel,omitempty"`
		Model       *Model   `json:"model,omitempty"`
		Proxy       *Proxy   `json:"proxy,omitempty"`
		Probe       *Probe   `json:"probe,omitempty"`
		Summary     *Summary `json:"summary,omitempty"`
	}
)

// wireMarshal is how MarshalJSON encoded events before encode.go: with
// encoding/json on the wire structs. The tests hold the hand-written
// encoder to it byte for byte.
func wireMarshal(a Alert) ([]byte, error) {
	w := wireEvent{
		Timestamp: FormatTime(a.Timestamp), FlowID: a.FlowID, EventType: a.EventType, VLAN: a.VLAN,
		SrcIP: a.SrcIP, SrcPort: a.SrcPort, DestIP: a.DestIP, DestPort: a.DestPort, Proto: a.Proto,
		CommunityID: a.CommunityID, AppProto: a.AppProto, Host: a.Host, Rule: a.Rule,
		Ours: wireOurs{Detector: a.Detector, Confidence: a.Confidence, Reason: a.Reason,
			Mining: a.Mining, Intel: a.Intel, Model: a.Model, Proxy: a.Proxy, Probe: a.Probe, Summary: a.Summary},
	}
	if a.Live {
		w.InIface = a.Capture
	} else {
		w.PcapFilename = a.Capture
	}
	if f := a.Flow; f != nil {
		wf := &wireFlow{PktsToServer: f.PktsToServer, PktsToClient: f.PktsToClient,
			BytesToServer: f.BytesToServer, BytesToClient: f.BytesToClient,
			Start: FormatTime(f.Start), State: f.State, Reason: f.Reason}
		if !f.End.IsZero() {
			wf.End = FormatTime(f.End)
			age := int64(f.End.Sub(f.Start) / time.Second)
			wf.Age = &age
			wf.Alerted = &f.Alerted
		}
		w.Flow = wf
	}
	if t := a.TLS; t != nil {
		wt := &wireTLS{SNI: t.SNI, Version: t.Version, JA4: t.JA4, ClientALPNs: t.ALPN}
		if t.JA3 != "" || t.JA3Hash != "" {
			wt.JA3 = &wireJA3{Hash: t.JA3Hash, String: t.JA3}
		}
		w.TLS = wt
		w.Ours.NoSNINon443 = t.NoSNINon443
	}
	return json.Marshal(w)
}
