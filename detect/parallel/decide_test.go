package parallel_test

import (
	"context"
	"net"
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

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/parallel"
	"github.com/minerwatch/minerwatch/features/capture"
)

// frame is one synthetic or copied packet of a test capture.
type frame struct {
	t    time.Time
	data []byte
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(buf.Bytes())
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

var eth = &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}

// syn is a client's first packet to server:port.
func syn(t testing.TB, at time.Time, client, server string, port uint16) frame {
	ip := ip4(client, server, layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: 40000, DstPort: layers.TCPPort(port), SYN: true, Seq: 1, Window: 64240}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return frame{at, serialize(t, eth, ip, tcp)}
}

// dnsAnswer is a resolver's answer to host: name has address addr; with
// addr "" it is host's query for name.
func dnsAnswer(t testing.TB, at time.Time, host, name, addr string) frame {
	q := []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}
	d := &layers.DNS{ID: 7, RD: true, Questions: q}
	ip, udp := ip4(host, "10.0.0.53", layers.IPProtocolUDP), &layers.UDP{SrcPort: 5353, DstPort: 53}
	if addr != "" {
		d.QR, d.RA = true, true
		d.Answers = []layers.DNSResourceRecord{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 300, IP: net.ParseIP(addr).To4()}}
		ip, udp = ip4("10.0.0.53", host, layers.IPProtocolUDP), &layers.UDP{SrcPort: 53, DstPort: 5353}
	}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return frame{at, serialize(t, eth, ip, udp, d)}
}

func writePcap(t testing.TB, frames []frame) string {
	p := filepath.Join(t.TempDir(), "decide.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: fr.t, CaptureLength: len(fr.data), Length: len(fr.data)}
		if err := w.WritePacket(ci, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func readPcap(t testing.TB, path string) []frame {
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []frame
	var rec capture.Record
	for r.Next(&rec) == nil {
		out = append(out, frame{rec.Time, slices.Clone(rec.Data)})
	}
	return out
}

func host(prefix string, i int) string { return prefix + "." + strconv.Itoa(i+1) }

// TestWorkersDecideAcrossWorkersAsOneEngine: the decisions one worker's
// packets make for another's flows, packets apart. A DNS answer naming a
// listed pool, then connections to its address from 16 hosts (so that,
// whatever the flow hash's seed, some are on another worker than the
// answer) one packet after another, and one connection just before the
// answer; a pool the signature stage confirms, with connections from
// other hosts starting around the confirming packet; a listed address
// whose rate limit (2 alerts a minute) folds connections across interval
// boundaries, with repeated DNS queries of a listed name. 1, 2 and 3
// workers, epochs of 3 packets (a merge point every few packets) and of
// the default size, three runs each: the lines one engine writes, in its
// order. Each case says how many intel alerts of which match one engine
// must raise, so that it tests the boundary it is about.
func TestWorkersDecideAcrossWorkersAsOneEngine(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	us := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Microsecond) }
	dnsCase := func() []frame {
		fr := []frame{dnsAnswer(t, us(0), "10.1.0.1", "pool.test", ""), syn(t, us(1), "10.3.0.1", "198.51.100.7", 443),
			dnsAnswer(t, us(2), "10.1.0.1", "pool.test", "198.51.100.7")}
		for i := range 16 {
			fr = append(fr, syn(t, us(3+i), host("10.2.0", i), "198.51.100.7", 443))
		}
		return fr
	}
	confirmCase := func() []frame {
		sample := readPcap(t, "../../datasets/samples/xmrig-plain-3333.pcap")
		// The signature verdict comes at the sample's 8th packet:
		// a connection after each of its first 40 packets, a microsecond
		// later.
		var fr []frame
		for i, f := range sample {
			fr = append(fr, f)
			if i < 40 {
				fr = append(fr, syn(t, f.t.Add(time.Microsecond), host("10.9.0", i), "10.200.1.2", 3333))
			}
		}
		return fr
	}
	rateCase := func() []frame {
		ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
		var fr []frame
		for i, at := range []int{0, 1, 2, 3, 59_999, 60_000, 60_001, 60_002, 60_003, 119_999, 120_000, 190_000, 190_001, 190_002} {
			fr = append(fr, syn(t, ms(at), host("10.4.0", i), "192.0.2.50", 3333))
			// The same host, then others, resolving a listed name: one
			// alert per host and name an hour, within the name's rate.
			fr = append(fr, dnsAnswer(t, ms(at).Add(time.Microsecond), host("10.5.0", i%3), "xmr.pool.test", ""))
		}
		return fr
	}
	tight := engine.Caps{IntelAlerts: 2, IntelInterval: time.Minute}
	cases := []struct {
		name   string
		frames []frame
		list   string
		caps   engine.Caps
		want   map[string]int // intel alerts (by match) or events (by type) one engine raises
	}{
		{"DNS answer, then connections on every worker", dnsCase(), "pool.test\n", engine.Caps{},
			map[string]int{"dns-query": 1, "dns-answer": 16}},
		{"pool confirmed, connections around the confirming packet", confirmCase(), "", engine.Caps{},
			map[string]int{"learned": 33}},
		{"rate limit intervals and DNS repeats", rateCase(), "192.0.2.50\npool.test\n", tight,
			map[string]int{"ip": 7, "dns-query": 2, alert.EventIntelSummary: 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writePcap(t, c.frames)
			oneEvs := runOne(t, []string{path}, intelConfig(t, c.list, c.caps))
			var one []string
			got := map[string]int{}
			for _, e := range oneEvs {
				one = append(one, e.line)
				for k := range c.want {
					if strings.Contains(e.line, `"match":"`+k+`"`) && strings.Contains(e.line, `"event_type":"alert"`) ||
						strings.Contains(e.line, `"event_type":"`+k+`"`) {
						got[k]++
					}
				}
			}
			for k, n := range c.want {
				if got[k] != n {
					t.Fatalf("one engine raised %d %s events, want %d: the case does not test its boundary\n%s", got[k], k, n, strings.Join(one, "\n"))
				}
			}
			for _, w := range []int{1, 2, 3} {
				for _, epoch := range []int{3, 0} {
					for run := range 3 {
						r, err := capture.Open(path)
						if err != nil {
							t.Fatal(err)
						}
						var lines []string
						_, _, err = parallel.Run(context.Background(), r, parallel.Config{Engine: intelConfig(t, c.list, c.caps), Workers: w,
							Names: names([]string{path}), EpochPackets: epoch}, func(a *alert.Alert) error { lines = append(lines, encode(t, a)); return nil })
						r.Close()
						if err != nil {
							t.Fatal(err)
						}
						if !slices.Equal(lines, one) {
							t.Fatalf("%d workers, epoch %d, run %d: not one engine's lines (%d vs %d)\n%s", w, epoch, run+1, len(lines), len(one), firstDiff(lines, one))
						}
					}
				}
			}
		})
	}
}
