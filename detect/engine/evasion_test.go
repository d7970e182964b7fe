package engine_test

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
)

// xmrigSample is the repository's own copy of the lab XMRig capture: one
// plaintext session 10.200.1.1:35016 → 10.200.1.2:3333 (login, jobs,
// shares), handshake included (tcpdump -nn).
const xmrigSample = "../../datasets/samples/xmrig-plain-3333.pcap"

var (
	sampleClient = netip.MustParseAddr("10.200.1.1")
	samplePool   = netip.AddrPortFrom(netip.MustParseAddr("10.200.1.2"), 3333)
)

// samplePackets reads the sample's TCP packets, payloads copied.
func samplePackets(t *testing.T) []packet.Packet {
	t.Helper()
	r, err := capture.Open(xmrigSample)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []packet.Packet
	if _, err := ingest.Run(context.Background(), r, nil, ingest.Options{Sink: func(p *packet.Packet) {
		if p.Proto != packet.ProtoTCP || !p.HasTCP {
			return
		}
		c := *p
		c.Payload = bytes.Clone(p.Payload)
		out = append(out, c)
	}}); err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("%d TCP packets in the sample", len(out))
	}
	return out
}

// fromClient reports whether p was sent by the sample's client.
func fromClient(p *packet.Packet) bool { return p.SrcIP == sampleClient }

// padded inserts n bytes of spaces, in 1400-byte segments, before the
// client's first payload and shifts the client's later sequence numbers
// and the server's acknowledgements to match: what a pool sees when a
// miner pads its login (JSON parsers skip the whitespace).
func padded(pkts []packet.Packet, n int) []packet.Packet {
	var out []packet.Packet
	var start uint32
	inserted := false
	for _, p := range pkts {
		switch {
		case fromClient(&p) && len(p.Payload) > 0 && !inserted:
			inserted, start = true, p.Seq
			for off := 0; off < n; off += 1400 {
				q := p
				q.Payload = bytes.Repeat([]byte{' '}, min(1400, n-off))
				q.PayloadLen, q.IPLen = len(q.Payload), len(q.Payload)+52
				q.Seq = start + uint32(off)
				out = append(out, q)
			}
			p.Seq += uint32(n)
		case inserted && fromClient(&p) && int32(p.Seq-start) >= 0:
			p.Seq += uint32(n)
		case inserted && !fromClient(&p) && p.Has(packet.FlagACK) && int32(p.Ack-start) > 0:
			p.Ack += uint32(n)
		}
		out = append(out, p)
	}
	return out
}

// decoyed sends, before every payload packet, a decoy of the same length
// at the same sequence numbers (Ptacek & Newsham insertion: a decoy with
// a TTL that expires before the pool, or a bad checksum, reaches the
// sensor only).
func decoyed(pkts []packet.Packet) []packet.Packet {
	var out []packet.Packet
	for _, p := range pkts {
		if len(p.Payload) > 0 {
			d := p
			d.Payload = bytes.Repeat([]byte("x"), len(p.Payload))
			out = append(out, d)
		}
		out = append(out, p)
	}
	return out
}

// decoyedSpanning sends, before every other client payload packet, one
// decoy covering it and the client's next payload packet: the decoy is
// cut differently from the real segments.
func decoyedSpanning(pkts []packet.Packet) []packet.Packet {
	var out []packet.Packet
	pending := -1 // index of the next client payload packet to decoy
	for i, p := range pkts {
		if fromClient(&p) && len(p.Payload) > 0 && pending < 0 {
			n := len(p.Payload)
			for _, q := range pkts[i+1:] {
				if fromClient(&q) && len(q.Payload) > 0 {
					n += len(q.Payload)
					break
				}
			}
			d := p
			d.Payload = bytes.Repeat([]byte("x"), n)
			out = append(out, d)
			pending = 1
		} else if fromClient(&p) && len(p.Payload) > 0 {
			pending = -1
		}
		out = append(out, p)
	}
	return out
}

// spoofed drops the handshake and the acknowledgement numbers, and moves
// the session to client: one forged exchange, as an attacker on the link
// could inject it to teach the sensor a "pool".
func spoofed(pkts []packet.Packet, client netip.Addr, port uint16) []packet.Packet {
	var out []packet.Packet
	for _, p := range pkts {
		if p.Has(packet.FlagSYN) || len(p.Payload) == 0 {
			continue
		}
		p.Ack = 0
		if fromClient(&p) {
			p.SrcIP, p.SrcPort = client, port
		} else {
			p.DstIP, p.DstPort = client, port
		}
		out = append(out, p)
	}
	return out
}

func newEngine(in *intel.Intel) (*engine.Engine, *[]*alert.Alert) {
	cfg := engine.DefaultConfig()
	cfg.Intel = in
	var alerts []*alert.Alert
	return engine.New(cfg, func(a *alert.Alert) { alerts = append(alerts, a) }), &alerts
}

func feed(e *engine.Engine, pkts []packet.Packet) {
	for i := range pkts {
		e.Packet(&pkts[i])
	}
}

func signatureAlert(alerts []*alert.Alert) *alert.Alert {
	for _, a := range alerts {
		if a.Detector == alert.DetectorSignature && a.EventType == alert.EventAlert {
			return a
		}
	}
	return nil
}

// TestEvasionsOfTheSampleSessionAreAlerted: the sample session padded
// with 70 KB of spaces before the login, or with a decoy copy before
// every segment, is still alerted by the signature stage, and the decoys
// are counted on the alert.
func TestEvasionsOfTheSampleSessionAreAlerted(t *testing.T) {
	pkts := samplePackets(t)
	cases := []struct {
		name      string
		pkts      []packet.Packet
		conflicts bool
	}{
		{"as captured", pkts, false},
		{"70 KB of spaces before the login", padded(pkts, 70_000), false},
		{"1 MB of spaces before the login", padded(pkts, 1_000_000), false},
		{"a decoy before every segment", decoyed(pkts), true},
		{"client decoys spanning two segments each", decoyedSpanning(pkts), true},
		{"padded and decoyed", decoyed(padded(pkts, 70_000)), true},
	}
	for _, tc := range cases {
		e, alerts := newEngine(intel.New(nil, nil, intel.NewLearned(), intel.Config{}))
		feed(e, tc.pkts)
		e.Flush()
		a := signatureAlert(*alerts)
		if a == nil || a.Mining == nil || a.Mining.Dialect != "cryptonote" || a.SrcIP != sampleClient.String() {
			for _, x := range *alerts {
				t.Logf("%s: %s %s %+v", tc.name, x.Detector, x.Reason, x.Mining)
			}
			t.Errorf("%s: no cryptonote signature alert (%d alerts)", tc.name, len(*alerts))
			continue
		}
		if got := a.Mining.OverlapConflicts > 0; got != tc.conflicts {
			t.Errorf("%s: overlap_conflicts %d", tc.name, a.Mining.OverlapConflicts)
		}
		// The alert comes with the pool's answer to the login, 0.109 s
		// into the capture (tcpdump -nn), not at the end of its 20 minutes:
		// the second reading takes the bytes the other side acknowledged.
		if at := a.Timestamp.Sub(pkts[0].Time); at > time.Second {
			t.Errorf("%s: alert %v into the session", tc.name, at)
		}
	}
}

// TestLearnedPoolsNeedEvidence: the sample session (handshake, request
// acknowledged and answered) teaches its pool at once; one forged
// exchange teaches nothing that flags another host; a second client
// confirming the same endpoint does.
func TestLearnedPoolsNeedEvidence(t *testing.T) {
	pkts := samplePackets(t)
	probe := func(e *engine.Engine, at time.Time) {
		syn := packet.Packet{Time: at, SrcIP: netip.MustParseAddr("10.99.0.7"), DstIP: samplePool.Addr(),
			SrcPort: 50000, DstPort: samplePool.Port(), Proto: packet.ProtoTCP, HasPorts: true, HasTCP: true,
			TCPFlags: packet.FlagSYN, IPLen: 60}
		e.Packet(&syn)
	}
	learnedAlert := func(alerts []*alert.Alert) bool {
		for _, a := range alerts {
			if a.Detector == alert.DetectorIntel && a.SrcIP == "10.99.0.7" && a.Intel.Match == "learned" {
				return true
			}
		}
		return false
	}
	last := pkts[len(pkts)-1].Time
	cases := []struct {
		name         string
		sessions     [][]packet.Packet
		wantTrusted  bool
		wantEvidence string
	}{
		{"the captured session", [][]packet.Packet{pkts}, true, "handshake+answer"},
		{"one forged exchange", [][]packet.Packet{spoofed(pkts, netip.MustParseAddr("10.66.0.1"), 41000)}, false, ""},
		{"the same forger twice", [][]packet.Packet{spoofed(pkts, netip.MustParseAddr("10.66.0.1"), 41000),
			spoofed(pkts, netip.MustParseAddr("10.66.0.1"), 41001)}, false, ""},
		{"two clients", [][]packet.Packet{spoofed(pkts, netip.MustParseAddr("10.66.0.1"), 41000),
			spoofed(pkts, netip.MustParseAddr("10.66.0.2"), 41000)}, true, intel.EvidenceTwoClients},
	}
	for _, tc := range cases {
		in := intel.New(nil, nil, intel.NewLearned(), intel.Config{})
		e, alerts := newEngine(in)
		for _, s := range tc.sessions {
			feed(e, s)
		}
		if signatureAlert(*alerts) == nil {
			t.Errorf("%s: the session itself was not alerted", tc.name)
		}
		probe(e, last.Add(time.Second))
		e.Flush()
		if got := learnedAlert(*alerts); got != tc.wantTrusted {
			t.Errorf("%s: another host flagged by the learned list: %v, want %v", tc.name, got, tc.wantTrusted)
		}
		ents := in.Learned().Entries()
		switch {
		case tc.wantTrusted && (len(ents) != 1 || ents[0].Evidence != tc.wantEvidence || ents[0].Key() != samplePool.String()):
			t.Errorf("%s: learned %+v, want %s with evidence %q", tc.name, ents, samplePool, tc.wantEvidence)
		case !tc.wantTrusted && len(ents) != 0:
			t.Errorf("%s: learned %+v from a forged exchange", tc.name, ents)
		}
		if n, _ := in.Learned().Pending(); !tc.wantTrusted && n != 1 {
			t.Errorf("%s: %d pending, want 1", tc.name, n)
		}
	}
}
