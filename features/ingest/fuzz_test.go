package ingest_test

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
)

// fuzzLinks maps the first byte of each fuzz record to a link type.
var fuzzLinks = []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL,
	layers.LinkTypeLinuxSLL2, layers.LinkTypeNull, layers.LinkTypeLoop}

// fuzzRecord encodes one frame of a FuzzFlowPath input: link index, time
// step (signed, in 100 ms units, so time can go backwards), frame length
// (big endian) and the frame.
func fuzzRecord(link byte, step int8, frame []byte) []byte {
	b := []byte{link, byte(step), 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(len(frame)))
	return append(b, frame...)
}

// tcpFrame is an Ethernet/IPv4/TCP frame made with gopacket.
func tcpFrame(tb testing.TB, src, dst net.IP, sport, dport uint16, flags uint8, payload int) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1, Ack: 1, Window: 512,
		FIN: flags&packet.FlagFIN != 0, SYN: flags&packet.FlagSYN != 0, RST: flags&packet.FlagRST != 0,
		PSH: flags&packet.FlagPSH != 0, ACK: flags&packet.FlagACK != 0}
	tcp.SetNetworkLayerForChecksum(ip)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	return serializeFrame(tb, eth, ip, tcp, gopacket.Payload(make([]byte, payload)))
}

// udp6Raw is a raw IPv6/UDP packet (DLT 101).
func udp6Raw(tb testing.TB, sport uint16, payload int) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
		SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::53")}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	return serializeFrame(tb, ip, udp, gopacket.Payload(make([]byte, payload)))
}

func serializeFrame(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// checkingObserver does nothing with the flows but checks the table's
// promises: FlowStarted before any Packet, FlowEnded once, nothing after.
// It tracks flows by pointer: the table recycles an ended flow's record,
// so one pointer may start again, but only after it ended.
type checkingObserver struct {
	t      *testing.T
	alive  map[*flows.Flow]bool
	starts int64
	ends   int64
}

func (o *checkingObserver) FlowStarted(f *flows.Flow) {
	if o.alive[f] {
		o.t.Fatalf("flow %d started twice", f.ID)
	}
	o.alive[f] = true
	o.starts++
}
func (o *checkingObserver) Packet(f *flows.Flow, _ *packet.Packet, _ packet.Direction) {
	if !o.alive[f] {
		o.t.Fatalf("packet for flow %d that is not in the table", f.ID)
	}
}
func (o *checkingObserver) ActiveRecord(r *flows.Record) {
	if !o.alive[r.Flow] {
		o.t.Fatalf("active record for flow %d that is not in the table", r.Flow.ID)
	}
}
func (o *checkingObserver) FlowEnded(f *flows.Flow, _ flows.EndReason) {
	if !o.alive[f] {
		o.t.Fatalf("flow %d ended twice or never started", f.ID)
	}
	delete(o.alive, f)
	o.ends++
}

// FuzzFlowPath runs fuzzed frames through decode and a flow table capped
// at 3 flows with short timeouts: nothing may panic, the table never holds
// more than MaxFlows, and the observer's view matches the table's.
func FuzzFlowPath(f *testing.F) {
	client, pool, other := net.IP{10, 0, 0, 2}, net.IP{198, 51, 100, 7}, net.IP{203, 0, 113, 9}
	syn, synack, ack := packet.FlagSYN, packet.FlagSYN|packet.FlagACK, packet.FlagACK
	var session []byte
	for i, fr := range [][]byte{
		tcpFrame(f, client, pool, 40000, 3333, syn, 0),
		tcpFrame(f, pool, client, 3333, 40000, synack, 0),
		tcpFrame(f, client, pool, 40000, 3333, ack|packet.FlagPSH, 120),
		tcpFrame(f, client, other, 40001, 443, syn, 0),
		tcpFrame(f, client, other, 40002, 443, syn, 0),
		tcpFrame(f, client, other, 40003, 443, syn, 0), // fourth flow: evicts
		tcpFrame(f, pool, client, 3333, 40000, ack|packet.FlagFIN, 0),
		tcpFrame(f, client, pool, 40000, 3333, ack|packet.FlagFIN, 0),
		tcpFrame(f, client, pool, 40000, 3333, syn, 0), // port reuse after close
		tcpFrame(f, client, pool, 40000, 3333, packet.FlagRST, 0),
	} {
		session = append(session, fuzzRecord(0, int8(i%3), fr)...)
	}
	f.Add(session)
	f.Add(append(fuzzRecord(1, 1, udp6Raw(f, 5353, 30)), fuzzRecord(1, -5, udp6Raw(f, 5354, 0))...))
	f.Add(append(fuzzRecord(0, 127, tcpFrame(f, client, pool, 1, 2, ack, 10)), fuzzRecord(0, -128, tcpFrame(f, pool, client, 2, 1, ack, 0))...))

	cfg := flows.Config{IdleTCP: 10 * time.Second, IdleUDP: 5 * time.Second, IdleHalfOpen: 3 * time.Second,
		CloseLinger: time.Second, ActiveTimeout: 20 * time.Second, MaxFlows: 3}
	start := time.Unix(1714564800, 0)
	f.Fuzz(func(t *testing.T, in []byte) {
		obs := &checkingObserver{t: t, alive: map[*flows.Flow]bool{}}
		tab := flows.NewTable(cfg, obs)
		var (
			d  decode.Decoder
			p  packet.Packet
			ts = start
		)
		for len(in) >= 4 {
			link := fuzzLinks[int(in[0])%len(fuzzLinks)]
			ts = ts.Add(time.Duration(int8(in[1])) * 100 * time.Millisecond)
			n := int(binary.BigEndian.Uint16(in[2:4]))
			in = in[4:]
			if n > len(in) {
				n = len(in)
			}
			frame := in[:n]
			in = in[n:]
			if d.Decode(link, frame, ts, &p) != decode.OK {
				continue
			}
			tab.Add(&p)
			if tab.Len() > cfg.MaxFlows {
				t.Fatalf("table holds %d flows, MaxFlows %d", tab.Len(), cfg.MaxFlows)
			}
			if tab.Len() != len(obs.alive) {
				t.Fatalf("table holds %d flows, observer saw %d alive", tab.Len(), len(obs.alive))
			}
		}
		tab.Flush()
		st := tab.Stats()
		var ended int64
		for _, n := range st.FlowsEnded {
			ended += n
		}
		if tab.Len() != 0 || len(obs.alive) != 0 || ended != st.FlowsCreated || st.MaxActive > cfg.MaxFlows ||
			obs.starts != st.FlowsCreated || obs.ends != ended {
			t.Fatalf("after flush: len %d, alive %d, created %d (observer %d), ended %d (observer %d), max active %d",
				tab.Len(), len(obs.alive), st.FlowsCreated, obs.starts, ended, obs.ends, st.MaxActive)
		}
	})
}
