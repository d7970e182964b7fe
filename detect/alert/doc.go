// Package alert defines minerwatch's events and writes them as Suricata
// EVE JSON lines, so a pipeline built for EVE (Elastic's Suricata
// integration, Splunk, Graylog, Kafka consumers) takes them unchanged:
//
//   - "alert" events: timestamp in EVE's format, flow_id, community_id,
//     the 5-tuple, app_proto, host, pcap_filename or in_iface, a "flow"
//     object with the counters so far, EVE's "tls" object, and an "alert"
//     object (action, gid, signature_id, rev, signature, category,
//     severity, metadata) from the rules table (Rules, `minerwatch rules`);
//   - "flow" events: the end of a flow the signature stage alerted on,
//     with flow{end, age, state, reason, alerted} and the final mining
//     counts.
//
// Everything that is minerwatch's own (detector, confidence, reason,
// mining, intel, model, proxy) is under one "minerwatch" key: a strict EVE
// consumer drops or maps that one key.
//
//	w := alert.NewWriter(os.Stdout, nil)
//	w.Write(&alert.Alert{EventType: alert.EventAlert, Detector: alert.DetectorIntel, …})
package alert
