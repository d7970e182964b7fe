package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/minerwatch/minerwatch/detect/kafka"
	"github.com/minerwatch/minerwatch/detect/kafka/kafkatest"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flowfeat"
)

// endpoint rewrites of rewriteCapture: address and port, either side.
type endpoint struct {
	ip   net.IP
	port uint16
}

// rewriteCapture copies the capture in to out (pcap), replacing the IPv4
// addresses and TCP ports of every packet as the map from→to says (each
// side looked up by "ip:port", then "ip" for the address alone), with
// the checksums recomputed. Other frames (ARP) are copied as they are.
func rewriteCapture(t *testing.T, in, out string, m map[string]endpoint) {
	t.Helper()
	r, err := capture.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	swap := func(ip *net.IP, port *layers.TCPPort) {
		if e, ok := m[fmt.Sprintf("%s:%d", *ip, *port)]; ok {
			*ip, *port = e.ip, layers.TCPPort(e.port)
		} else if e, ok := m[ip.String()]; ok {
			*ip = e.ip
		}
	}
	var rec capture.Record
	for {
		if err := r.Next(&rec); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		data := rec.Data
		p := gopacket.NewPacket(rec.Data, rec.LinkType, gopacket.Default)
		eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip4, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if eth != nil && ip4 != nil && tcp != nil {
			swap(&ip4.SrcIP, &tcp.SrcPort)
			swap(&ip4.DstIP, &tcp.DstPort)
			tcp.SetNetworkLayerForChecksum(ip4)
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
				eth, ip4, tcp, gopacket.Payload(tcp.Payload)); err != nil {
				t.Fatal(err)
			}
			data = buf.Bytes()
		}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: rec.Time, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
}

// eveLine is what the tests read of an event.
type eveLine struct {
	EventType string `json:"event_type"`
	FlowID    uint64 `json:"flow_id"`
	Host      string `json:"host"`
	DestIP    string `json:"dest_ip"`
	DestPort  uint16 `json:"dest_port"`
	MW        struct {
		Detector string `json:"detector"`
		Intel    *struct {
			Match  string `json:"match"`
			Source string `json:"source"`
		} `json:"intel"`
	} `json:"minerwatch"`
}

func (e eveLine) key() string { return fmt.Sprintf("%s/%d/%s", e.Host, e.FlowID, e.EventType) }

func readEVE(t *testing.T, path string) []eveLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []eveLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e eveLine
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, e)
	}
	return out
}

// topicRecords reads topic from its start until want records arrived
// (and half a second more, to catch duplicates beyond want).
func topicRecords(t *testing.T, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	add := func(r *kgo.Record) { out = append(out, r) }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(out) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(add)
	}
	extra, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	cl.PollFetches(extra).EachRecord(add)
	return out
}

// topicEvents reads the alert topic's events; each record's key must be
// its event's flow id.
func topicEvents(t *testing.T, addr string, want int) []eveLine {
	t.Helper()
	var out []eveLine
	for _, r := range topicRecords(t, addr, kafka.DefaultAlertTopic, want) {
		var e eveLine
		if err := json.Unmarshal(r.Value, &e); err != nil {
			t.Errorf("record %s: %v", r.Key, err)
		}
		if string(r.Key) != fmt.Sprint(e.FlowID) {
			t.Errorf("record key %q, want the flow id %d", r.Key, e.FlowID)
		}
		out = append(out, e)
	}
	return out
}

// TestSensorsShareLearnedPoolsThroughKafka is the done-when test
// against a real single-node broker: sensor A reads a plaintext XMRig
// capture and confirms the pool 10.200.1.2:3333; sensor B reads the TLS
// capture of another host (10.200.2.1 → 10.200.2.2:443 in the sample,
// rewritten to 10.200.1.77 → 10.200.1.2:3333; its timestamps are kept: its
// flow starts 3 s after A's confirmation, inside the 7-day TTL) with the
// model off, and raises a learned intel alert only Kafka can have told it
// of (the same run without --kafka raises none). Every event of both
// sensors' alert logs is in the alert topic exactly once.
func TestSensorsShareLearnedPoolsThroughKafka(t *testing.T) {
	b := kafkatest.Start(t)
	dir := t.TempDir()
	tlsB := filepath.Join(dir, "b-tls.pcap")
	rewriteCapture(t, sampleTLS, tlsB, map[string]endpoint{
		"10.200.2.2:443": {net.ParseIP("10.200.1.2").To4(), 3333},
		"10.200.2.1":     {ip: net.ParseIP("10.200.1.77").To4()},
	})
	if code, _, stderr := runCmd("detect", "-r", tlsB, "--no-model", "--sensor-name", "sensor-b", "-o", filepath.Join(dir, "control.jsonl")); code != 0 {
		t.Fatalf("control run: exit %d: %s", code, stderr)
	}
	if n := len(readEVE(t, filepath.Join(dir, "control.jsonl"))); n != 0 {
		t.Fatalf("sensor B alone raised %d events: the test would not show what Kafka brought", n)
	}

	logA, logB := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	code, _, stderr := runCmd("detect", "-r", sample, "--no-model", "--sensor-name", "sensor-a", "--kafka", b.Addr, "--kafka-flows", "-o", logA, "--stats")
	var rows int
	if code != 0 || !strings.Contains(stderr, "learned pools published 1") {
		t.Fatalf("sensor A: exit %d: %s", code, stderr)
	} else if i := strings.Index(stderr, "flow records "); i < 0 {
		t.Fatalf("sensor A --stats says nothing of flow records: %s", stderr)
	} else if fmt.Sscanf(stderr[i:], "flow records %d", &rows); rows == 0 {
		t.Errorf("sensor A produced no flow record with --kafka-flows: %s", stderr)
	}
	if code, _, stderr := runCmd("detect", "-r", tlsB, "--no-model", "--sensor-name", "sensor-b", "--kafka", b.Addr, "-o", logB); code != 0 || stderr != "" {
		t.Fatalf("sensor B: exit %d: %s", code, stderr)
	}
	evA, evB := readEVE(t, logA), readEVE(t, logB)
	learned := 0
	for _, e := range evB {
		if e.EventType == "alert" && e.MW.Intel != nil && e.MW.Intel.Match == "learned" {
			learned++
			if e.DestIP != "10.200.1.2" || e.DestPort != 3333 || !strings.HasPrefix(e.MW.Intel.Source, "kafka:sensor-a:signature") {
				t.Errorf("learned alert %+v: want 10.200.1.2:3333 from kafka:sensor-a", e)
			}
		}
	}
	if learned != 1 {
		t.Errorf("sensor B raised %d learned alerts, want 1: %+v", learned, evB)
	}

	// The operator's view of the learned topic: list, add, remove, expire.
	// A's entry expired by the wall clock (its capture is older than the
	// TTL), so it shows with --all only.
	intel := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runCmd(append([]string{"intel"}, append(args, "--kafka", b.Addr)...)...)
		if code != 0 {
			t.Fatalf("intel %v: exit %d: %s", args, code, stderr)
		}
		return stdout
	}
	if out := intel("list", "--all"); !strings.Contains(out, "10.200.1.2:3333") || !strings.Contains(out, "sensor-a") {
		t.Errorf("intel list --kafka --all:\n%s", out)
	}
	intel("add", "192.0.2.5:4444", "--ttl", "1d")
	if out := intel("list"); !strings.Contains(out, "192.0.2.5:4444") || strings.Contains(out, "10.200.1.2:3333") {
		t.Errorf("intel list --kafka after add:\n%s", out)
	}
	intel("remove", "192.0.2.5:4444")
	if out := intel("expire"); !strings.Contains(out, "expired 1, 0 left") {
		t.Errorf("intel expire --kafka: %s (want A's entry expired, the removed one gone)", out)
	}
	if out := intel("list", "--all"); strings.Count(out, "\n") != 1 {
		t.Errorf("learned topic not empty after remove and expire:\n%s", out)
	}

	// A's flow records: the checkpoint rows of its one mining flow, keyed
	// by the flow id of its alert, labelled by the signature stage, with
	// every feature (null where undefined).
	recs := topicRecords(t, b.Addr, kafka.DefaultFlowTopic, rows)
	if len(recs) != rows {
		t.Errorf("%d flow records in the topic, sensor A says %d", len(recs), rows)
	}
	for _, r := range recs {
		var row struct {
			FlowID   uint64              `json:"flow_id"`
			Host     string              `json:"host"`
			Label    string              `json:"label"`
			Features map[string]*float64 `json:"features"`
		}
		if err := json.Unmarshal(r.Value, &row); err != nil {
			t.Fatalf("flow record: %v: %s", err, r.Value)
		}
		if row.FlowID != evA[0].FlowID || string(r.Key) != fmt.Sprint(row.FlowID) || row.Host != "sensor-a" || row.Label != "mining" || len(row.Features) != flowfeat.NumAll {
			t.Errorf("flow record %+v (key %s, %d features), want flow %d of sensor-a labelled mining with %d features", row, r.Key, len(row.Features), evA[0].FlowID, flowfeat.NumAll)
		}
	}

	want := map[string]int{}
	for _, e := range append(evA, evB...) {
		want[e.key()]++
	}
	got := map[string]int{}
	for _, e := range topicEvents(t, b.Addr, len(evA)+len(evB)) {
		got[e.key()]++
	}
	if len(evA) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alert topic holds %v, the alert logs %v (want each once)", got, want)
	}
}

// replayCopies writes to out n copies of the first span of the capture
// in, copy i moved by i*gap and given client port 36000+i (its own flow),
// merged in time order: n mining sessions starting one after another, so
// a live-pace replay raises alerts all along.
func replayCopies(t *testing.T, in, out string, n int, span, gap time.Duration) {
	t.Helper()
	r, err := capture.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type pkt struct {
		at   time.Time
		data []byte
	}
	var pkts []pkt
	var rec capture.Record
	var first time.Time
	for {
		if err := r.Next(&rec); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if first.IsZero() {
			first = rec.Time
		}
		if rec.Time.Sub(first) > span {
			break
		}
		p := gopacket.NewPacket(rec.Data, rec.LinkType, gopacket.Default)
		eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip4, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if eth == nil || ip4 == nil || tcp == nil {
			continue
		}
		for i := range n {
			ip, tc := *ip4, *tcp
			if tc.DstPort == 3333 {
				tc.SrcPort = layers.TCPPort(36000 + i)
			} else {
				tc.DstPort = layers.TCPPort(36000 + i)
			}
			tc.SetNetworkLayerForChecksum(&ip)
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
				eth, &ip, &tc, gopacket.Payload(tcp.Payload)); err != nil {
				t.Fatal(err)
			}
			pkts = append(pkts, pkt{rec.Time.Add(time.Duration(i) * gap), buf.Bytes()})
		}
	}
	slices.SortStableFunc(pkts, func(a, b pkt) int { return a.at.Compare(b.at) })
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.at, CaptureLength: len(p.data), Length: len(p.data)}, p.data); err != nil {
			t.Fatal(err)
		}
	}
}

// metricValue reads one unlabelled metric from a /metrics page (-1 when
// the page or the metric is missing).
func metricValue(url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// TestBrokerOutageDuringLiveReplayLosesNoAlert: the broker is stopped
// while a --realtime replay runs (ten XMRig sessions starting 2 s apart,
// each an alert at its start) and started again; the sensor keeps
// detecting (its alert log has every alert), the metrics endpoint shows
// the alerts waiting in memory during the outage, and afterwards the
// topic holds every event of the log — duplicates only as at-least-once
// allows, removed by a consumer keyed on the event itself.
func TestBrokerOutageDuringLiveReplayLosesNoAlert(t *testing.T) {
	b := kafkatest.Start(t)
	dir := t.TempDir()
	pcap := filepath.Join(dir, "sessions.pcap")
	replayCopies(t, sample, pcap, 10, 3*time.Second, 2*time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(dir, "alerts.jsonl")
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, _, stderr := runCmd("detect", "-r", pcap, "--realtime", "--no-model", "--sensor-name", "s", "--kafka", b.Addr,
			"--kafka-learned-topic", "-", "--metrics", maddr, "-o", logPath, "--stats")
		done <- result{code, stderr}
	}()
	// Let the first sessions' alerts through, then take the broker away.
	time.Sleep(3 * time.Second)
	b.Stop()
	url := "http://" + maddr + "/metrics"
	buffered := 0.0
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline) && buffered <= 0; {
		buffered = metricValue(url, "minerwatch_kafka_buffered_records")
		time.Sleep(200 * time.Millisecond)
	}
	if buffered <= 0 {
		t.Errorf("no record buffered during the outage (minerwatch_kafka_buffered_records %v)", buffered)
	}
	b.Restart()
	res := <-done
	if res.code != 0 {
		t.Fatalf("detect: exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "dropped 0, failed 0") {
		t.Errorf("detect: %s", res.stderr)
	}
	logLines, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(logLines)), "\n") {
		want[l] = true
	}
	if len(want) < 10 {
		t.Fatalf("%d events in the log, want one per session at least", len(want))
	}
	got := map[string]int{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics(kafka.DefaultAlertTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(got) < len(want) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got[string(r.Value)]++ })
	}
	dups := 0
	for v, n := range got {
		if !want[v] {
			t.Errorf("topic event not in the log: %s", v)
		}
		dups += n - 1
	}
	for v := range want {
		if got[v] == 0 {
			t.Errorf("lost in the outage: %s", v)
		}
	}
	t.Logf("%d events, %d duplicates in the topic", len(want), dups)
}
