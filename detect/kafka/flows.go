package kafka

import (
	"context"
	"math"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/features/flowfeat"
)

// DefaultFlowTopic is the topic of flow records (Config.FlowTopic).
const DefaultFlowTopic = "minerwatch.flows"

// featureNames are the JSON names of a row's features, in Vector order.
var featureNames = flowfeat.Names(flowfeat.Sets())

// Row queues one feature row (a checkpoint, window or end record of a
// flow) for the flow topic, keyed by flow id like the flow's alerts.
//
// The flow topic is JSON, one object per record, not Arrow IPC: a Kafka
// record is the unit a consumer starts at and a key is one flow, so an
// Arrow stream per record would repeat its schema (about 100 columns)
// in every message and batch nothing, and the consumers that read these
// topics (Logstash, Vector, Splunk, Elastic, ksqlDB) parse JSON natively.
// For columnar files, --rows-out writes Arrow IPC with the same columns.
func (s *Sink) Row(r *flowfeat.Row, fi *engine.FlowInfo) {
	if s == nil || s.cfg.FlowTopic == "" {
		return
	}
	f := r.Flow
	b := make([]byte, 0, 4096)
	b = append(b, `{"timestamp":"`...)
	b = append(b, alert.FormatTime(r.End)...)
	b = append(b, `","event_type":"flow_features","flow_id":`...)
	b = strconv.AppendUint(b, f.ID, 10)
	b = appendStr(b, "host", s.cfg.Sensor)
	b = appendStr(b, "src_ip", f.Client.Addr().String())
	b = append(b, `,"src_port":`...)
	b = strconv.AppendUint(b, uint64(f.Client.Port()), 10)
	b = appendStr(b, "dest_ip", f.Server.Addr().String())
	b = append(b, `,"dest_port":`...)
	b = strconv.AppendUint(b, uint64(f.Server.Port()), 10)
	b = appendStr(b, "proto", protoName(f.Proto))
	b = appendStr(b, "row", r.Kind)
	switch r.Kind {
	case flowfeat.KindCheckpoint:
		b = append(b, `,"checkpoint_s":`...)
		b = strconv.AppendFloat(b, r.Checkpoint.Seconds(), 'g', -1, 64)
	case flowfeat.KindWindow:
		b = append(b, `,"window":`...)
		b = strconv.AppendInt(b, int64(r.Window), 10)
	}
	b = appendStr(b, "start", alert.FormatTime(r.Start))
	b = appendStr(b, "end", alert.FormatTime(r.End))
	b = append(b, `,"pkts_toserver":`...)
	b = strconv.AppendUint(b, uint64(r.UpPkts), 10)
	b = append(b, `,"pkts_toclient":`...)
	b = strconv.AppendUint(b, uint64(r.DownPkts), 10)
	b = append(b, `,"bytes_toserver":`...)
	b = strconv.AppendUint(b, r.UpBytes, 10)
	b = append(b, `,"bytes_toclient":`...)
	b = strconv.AppendUint(b, r.DownBytes, 10)
	if fi != nil {
		if lab, src := rowLabel(fi); lab != "" {
			b = appendStr(b, "label", lab)
			b = appendStr(b, "label_source", src)
		}
		if c := fi.Capture(); c != "" {
			b = appendStr(b, "capture", c)
		}
	}
	if r.Values != nil {
		b = append(b, `,"features":{`...)
		for i, v := range r.Values {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, featureNames[i])
			b = append(b, ':')
			if math.IsNaN(v) || math.IsInf(v, 0) {
				b = append(b, "null"...) // JSON has no NaN; null = undefined for this flow
			} else {
				b = strconv.AppendFloat(b, v, 'g', -1, 64)
			}
		}
		b = append(b, '}')
	}
	b = append(b, '}')
	rec := &kgo.Record{Topic: s.cfg.FlowTopic, Key: strconv.AppendUint(nil, f.ID, 10), Value: b,
		Headers: []kgo.RecordHeader{{Key: "sensor", Value: []byte(s.cfg.Sensor)}, {Key: "event_type", Value: []byte("flow_features")}}}
	s.cl.TryProduce(context.Background(), rec, s.deliveredRow)
}

func (s *Sink) deliveredRow(r *kgo.Record, err error) {
	s.delivered(r, err)
	if err == nil {
		s.rows.Add(1)
	}
}

// rowLabel labels a row by what the detectors said of its flow (there is
// no manifest on a sensor): mining when the signature stage or intel
// alerted, else unlabelled.
func rowLabel(fi *engine.FlowInfo) (label, source string) {
	switch {
	case fi.AlertedBy(alert.DetectorSignature):
		return "mining", alert.DetectorSignature
	case fi.AlertedBy(alert.DetectorIntel):
		return "mining", alert.DetectorIntel
	}
	return "", ""
}

func appendStr(b []byte, key, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendQuote(b, v)
}

func protoName(p uint8) string {
	switch p {
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 1:
		return "ICMP"
	case 58:
		return "IPv6-ICMP"
	}
	return strconv.Itoa(int(p))
}
