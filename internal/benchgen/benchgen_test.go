package main

import (
	"bytes"
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

	"github.com/minerwatch/minerwatch/features/capture"
)

// frameWith serialises Ethernet (optionally VLAN-tagged) / IP / TCP or UDP
// with correct checksums.
func frameWith(t *testing.T, vlan bool, ip gopacket.NetworkLayer, udp bool) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	var ls []gopacket.SerializableLayer
	ls = append(ls, eth)
	var ipType layers.EthernetType = layers.EthernetTypeIPv4
	if _, v6 := ip.(*layers.IPv6); v6 {
		ipType = layers.EthernetTypeIPv6
	}
	if vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: 7, Type: ipType})
	} else {
		eth.EthernetType = ipType
	}
	ls = append(ls, ip.(gopacket.SerializableLayer))
	payload := gopacket.Payload("mining.subscribe")
	if udp {
		u := &layers.UDP{SrcPort: 5000, DstPort: 6000}
		u.SetNetworkLayerForChecksum(ip)
		ls = append(ls, u, payload)
	} else {
		tc := &layers.TCP{SrcPort: 40000, DstPort: 3333, Seq: 7, Ack: 9, PSH: true, ACK: true, Window: 512}
		tc.SetNetworkLayerForChecksum(ip)
		ls = append(ls, tc, payload)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checksumsValid re-serialises the decoded frame with fresh checksums and
// compares: equal bytes mean the frame's own checksums were right.
func checksumsValid(t *testing.T, b []byte) bool {
	t.Helper()
	p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	if p.ErrorLayer() != nil {
		t.Fatalf("decode: %v", p.ErrorLayer().Error())
	}
	var ls []gopacket.SerializableLayer
	for _, l := range p.Layers() {
		switch l := l.(type) {
		case *layers.TCP:
			l.SetNetworkLayerForChecksum(p.NetworkLayer())
		case *layers.UDP:
			l.SetNetworkLayerForChecksum(p.NetworkLayer())
		}
		ls = append(ls, l.(gopacket.SerializableLayer))
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	// Ethernet pads short frames to 60 bytes when serialising.
	return bytes.HasPrefix(buf.Bytes(), b)
}

func TestCopiesShiftPrivateAddressesAndKeepChecksumsValid(t *testing.T) {
	v4 := func(src, dst string) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
	}
	udp4 := v4("192.168.1.20", "8.8.8.8")
	udp4.Protocol = layers.IPProtocolUDP
	cases := []struct {
		name             string
		vlan, udp        bool
		ip               gopacket.NetworkLayer
		wantSrc, wantDst string
	}{
		{"10/8 client to a public pool", false, false, v4("10.250.3.4", "49.12.80.43"), "10.253.3.4", "49.12.80.43"},
		{"172.16/12 wraps within its /12", false, false, v4("172.31.0.9", "172.16.5.5"), "172.18.0.9", "172.19.5.5"},
		{"192.168/16 over UDP behind a VLAN tag", true, true, udp4, "192.168.4.20", "8.8.8.8"},
		{"public to public is unchanged", false, false, v4("1.2.3.4", "5.6.7.8"), "1.2.3.4", "5.6.7.8"},
		{"IPv6 unique-local client", false, false,
			&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: net.ParseIP("fd00:1:2::5"), DstIP: net.ParseIP("2001:db8::1")},
			"fd00:301:2::5", "2001:db8::1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := frameWith(t, c.vlan, c.ip, c.udp)
			if !checksumsValid(t, b) {
				t.Fatal("fixture's checksums are wrong")
			}
			shiftAddresses(b, 3)
			if !checksumsValid(t, b) {
				t.Error("checksums wrong after the shift")
			}
			p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
			src, dst := p.NetworkLayer().NetworkFlow().Endpoints()
			if src.String() != c.wantSrc || dst.String() != c.wantDst {
				t.Errorf("shifted to %v → %v, want %s → %s", src, dst, c.wantSrc, c.wantDst)
			}
		})
	}
}

// readAll returns every record of a capture file.
func readAll(t *testing.T, path string) []capture.Record {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []capture.Record
	for {
		var rec capture.Record
		err := r.Next(&rec)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		rec.Data = append([]byte(nil), rec.Data...)
		out = append(out, rec)
	}
}

func TestConcurrentCaptureHoldsEveryFlowOpenWithDataBothWays(t *testing.T) {
	const n = 300
	path := filepath.Join(t.TempDir(), "c.pcap")
	if err := writeConcurrentFile(path, n); err != nil {
		t.Fatal(err)
	}
	type state struct{ syn, synack, ack, up, down int }
	flows := map[gopacket.Flow]*state{} // keyed by the client→server transport flow
	var lastHandshake, firstData int
	for i, rec := range readAll(t, path) {
		if i < 3 && !checksumsValid(t, rec.Data) {
			t.Fatalf("packet %d: bad checksums", i)
		}
		p := gopacket.NewPacket(rec.Data, layers.LayerTypeEthernet, gopacket.Default)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil {
			t.Fatalf("packet %d is not TCP", i)
		}
		if tcp.FIN || tcp.RST {
			t.Fatalf("packet %d closes its flow", i)
		}
		up := tcp.DstPort == 443
		key := gopacket.NewFlow(layers.EndpointIPv4, p.NetworkLayer().NetworkFlow().Src().Raw(), p.NetworkLayer().NetworkFlow().Dst().Raw())
		if !up {
			key = key.Reverse()
		}
		s := flows[key]
		if s == nil {
			s = &state{}
			flows[key] = s
		}
		switch {
		case tcp.SYN && !tcp.ACK:
			s.syn++
		case tcp.SYN:
			s.synack++
		case len(tcp.Payload) == 0:
			s.ack++
		case up && len(tcp.Payload) == upPayload:
			s.up++
		case !up && len(tcp.Payload) == downPayload:
			s.down++
		default:
			t.Fatalf("packet %d: unexpected %d-byte segment", i, len(tcp.Payload))
		}
		if len(tcp.Payload) == 0 {
			lastHandshake = i
		} else if firstData == 0 {
			firstData = i
		}
	}
	if len(flows) != n {
		t.Fatalf("%d flows, want %d", len(flows), n)
	}
	for k, s := range flows {
		if *s != (state{1, 1, 1, 1, 1}) {
			t.Fatalf("flow %v: %+v, want one of each", k, *s)
		}
	}
	// Every handshake before any data: all n flows are open at once.
	if lastHandshake >= firstData {
		t.Errorf("handshake at packet %d after data at %d", lastHandshake, firstData)
	}
	w, err := walkFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(n * packetsPerFlow); w.packets != want || w.wireBytes != w.bytes || w.bytes != int64(n*(3*54+2*54+upPayload+downPayload)) {
		t.Errorf("walk: %+v, want %d packets of %d bytes", w, want, n*(5*54+upPayload+downPayload))
	}
}

// writeTestCapture writes an Ethernet (or other link type) pcap of frames
// at the given offsets from start.
func writeTestCapture(t *testing.T, path string, link layers.LinkType, start time.Time, offsets []time.Duration, frame []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(snaplen, link); err != nil {
		t.Fatal(err)
	}
	for _, o := range offsets {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: start.Add(o), CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMergedCopiesAreTimeOrderedDisjointAndSkipOtherLinkTypes(t *testing.T) {
	dir := t.TempDir()
	frame := frameWith(t, false, &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{49, 12, 80, 43}}, false)
	old := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	writeTestCapture(t, filepath.Join(dir, "a.pcap"), layers.LinkTypeEthernet, old, []time.Duration{0, time.Second, 2 * time.Second}, frame)
	writeTestCapture(t, filepath.Join(dir, "b.pcap"), layers.LinkTypeEthernet, recent, []time.Duration{0, 500 * time.Millisecond}, frame)
	writeTestCapture(t, filepath.Join(dir, "sll.pcap"), layers.LinkTypeLinuxSLL, recent, []time.Duration{0}, frame)
	if err := os.WriteFile(filepath.Join(dir, "notes.tsv"), []byte("not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "m.pcap")
	var log bytes.Buffer
	st, err := writeMerged(dir, out, 3, &log)
	if err != nil {
		t.Fatal(err)
	}
	if st.used != 2 || st.packets != 5 || len(st.skipped) != 1 || !strings.Contains(st.skipped[0], "sll.pcap") {
		t.Fatalf("stats %+v, want 2 captures, 5 packets, sll.pcap skipped", st)
	}
	recs := readAll(t, out)
	if len(recs) != 15 {
		t.Fatalf("%d records, want 15 (5 × 3 copies)", len(recs))
	}
	// Within a copy: 0, 1, 2 s, then the 5-year silence cut to maxGap,
	// then +0.5 s; span = maxGap + 2.5 s, and copies are maxGap apart.
	span := maxGap + 2500*time.Millisecond
	want := []time.Duration{0, time.Second, 2 * time.Second, 2*time.Second + maxGap, span}
	for i, rec := range recs {
		c := i / 5
		at := mergedStart.Add(time.Duration(c)*(span+maxGap) + want[i%5])
		if !rec.Time.Equal(at) {
			t.Errorf("record %d at %v, want %v", i, rec.Time, at)
		}
		p := gopacket.NewPacket(rec.Data, layers.LayerTypeEthernet, gopacket.Default)
		if src := p.NetworkLayer().NetworkFlow().Src().String(); src != (net.IP{10, byte(c), 0, 1}).String() {
			t.Errorf("record %d (copy %d) from %s", i, c, src)
		}
	}
}
