package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
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

// topicEvents reads the alert topic from its start until want events
// arrived (and half a second more, to catch duplicates beyond want).
func topicEvents(t *testing.T, addr string, want int) []eveLine {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(kafka.DefaultAlertTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []eveLine
	add := func(r *kgo.Record) {
		var e eveLine
		if err := json.Unmarshal(r.Value, &e); err != nil {
			t.Errorf("record %s: %v", r.Key, err)
		}
		if string(r.Key) != fmt.Sprint(e.FlowID) {
			t.Errorf("record key %q, want the flow id %d", r.Key, e.FlowID)
		}
		out = append(out, e)
	}
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
	if code, _, stderr := runCmd("detect", "-r", sample, "--no-model", "--sensor-name", "sensor-a", "--kafka", b.Addr, "-o", logA, "--stats"); code != 0 || !strings.Contains(stderr, "learned pools published 1") {
		t.Fatalf("sensor A: exit %d: %s", code, stderr)
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
