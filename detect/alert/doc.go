// Package alert defines minerwatch's alert record and writes it as JSON
// lines with EVE-like field names (timestamp, flow_id, src_ip, src_port,
// dest_ip, dest_port, proto, event_type, …), one object per event, so SIEMs
// that already parse Suricata's EVE can take it.
//
// Every stage (intel, signature, model) fills the common fields plus its
// own sub-object; the common fields never change shape.
package alert
