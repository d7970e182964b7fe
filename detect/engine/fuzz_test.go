package engine_test

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/score"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/defrag"
	"github.com/minerwatch/minerwatch/features/defrag/defragtest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
)

// The flows a FuzzEnginePackets input plays on: a plaintext pool port on a
// listed address, a TLS port, DNS, and a pool port over IPv6.
var fuzzFlows = [4]struct {
	client, server netip.AddrPort
	udp            bool
}{
	{netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("198.51.100.7:3333"), false},
	{netip.MustParseAddrPort("10.0.0.2:40001"), netip.MustParseAddrPort("203.0.113.9:443"), false},
	{netip.MustParseAddrPort("10.0.0.3:5353"), netip.MustParseAddrPort("10.0.0.53:53"), true},
	{netip.MustParseAddrPort("[2001:db8::2]:40002"), netip.MustParseAddrPort("[2001:db8::7]:3333"), false},
}

// Record control bits of a FuzzEnginePackets input. Each record is a
// control byte, a length byte and that many bytes of payload (or, with
// ctlRaw, of a whole Ethernet frame).
const (
	ctlFlow    = 3 // low bits: which of fuzzFlows
	ctlDown    = 1 << 2
	ctlSYN     = 1 << 3
	ctlFIN     = 1 << 4
	ctlFrag    = 1 << 5 // send as IP fragments of 24 bytes
	ctlRaw     = 1 << 6 // the bytes are a frame, not a payload
	ctlAdvance = 1 << 7 // ten minutes pass, then Advance
)

func rec(ctl byte, b string) []byte {
	if len(b) > 255 {
		panic("record over 255 bytes")
	}
	return append([]byte{ctl, byte(len(b))}, b...)
}

// XMRig message shapes (lab/mining/xmrig-plain-3333.pcap), cut to fit one
// record each.
const (
	fzLogin    = `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4FASi45ub7Qe4ZE36UT5G6cU4ud8Fhhe4deS4F3c","pass":"x","agent":"XMRig/6.26.0 (Linux x86_64)","algo":["rx/0"]}}` + "\n"
	fzLoginOK  = `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"eb2a","job":{"blob":"1010e0","job_id":"QK","target":"0d74da00","algo":"rx/0"},"status":"OK"}}` + "\n"
	fzSubmit   = `{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"eb2a","job_id":"QK","nonce":"ae000000","result":"55d0"}}` + "\n"
	fzSubmitOK = `{"id":2,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}` + "\n"
)

// dnsQuery is a DNS query for name (id 0x1234, type A).
func dnsQuery(name string) string {
	b := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for l := range strings.SplitSeq(name, ".") {
		b = append(append(b, byte(len(l))), l...)
	}
	return string(append(b, 0, 0, 1, 0, 1))
}

func session(extra byte) []byte {
	var b []byte
	for _, r := range [][]byte{
		rec(ctlSYN|extra, ""), rec(ctlDown|ctlSYN|extra, ""), rec(extra, ""),
		rec(extra, fzLogin), rec(ctlDown|extra, fzLoginOK), rec(extra, fzSubmit), rec(ctlDown|extra, fzSubmitOK),
	} {
		b = append(b, r...)
	}
	return b
}

// fuzzTCP builds the frame of one record: Ethernet, IPv4 or IPv6, then TCP
// (sequence numbers tracked per direction) or UDP.
type fuzzTCP struct {
	seq [4][2]uint32
	id  uint16
}

func (g *fuzzTCP) frames(tb testing.TB, ctl byte, payload []byte) [][]byte {
	fl := fuzzFlows[ctl&ctlFlow]
	dir := 0
	src, dst := fl.client, fl.server
	if ctl&ctlDown != 0 {
		dir, src, dst = 1, fl.server, fl.client
	}
	var l4 []byte
	if fl.udp {
		l4 = make([]byte, 8+len(payload))
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
	} else {
		l4 = make([]byte, 20+len(payload))
		s := &g.seq[ctl&ctlFlow][dir]
		binary.BigEndian.PutUint32(l4[4:], *s)
		binary.BigEndian.PutUint32(l4[8:], g.seq[ctl&ctlFlow][1-dir])
		l4[12] = 5 << 4
		flags := packet.FlagACK | packet.FlagPSH
		if ctl&ctlSYN != 0 {
			flags = packet.FlagSYN | packet.FlagACK*byte(dir)
			*s++
		}
		if ctl&ctlFIN != 0 {
			flags |= packet.FlagFIN
			*s++
		}
		l4[13] = flags
		binary.BigEndian.PutUint16(l4[14:], 512)
		*s += uint32(len(payload))
	}
	binary.BigEndian.PutUint16(l4[0:], src.Port())
	binary.BigEndian.PutUint16(l4[2:], dst.Port())
	copy(l4[len(l4)-len(payload):], payload)
	proto := byte(packet.ProtoTCP)
	if fl.udp {
		proto = packet.ProtoUDP
	}
	var ip []byte
	if src.Addr().Is4() {
		ip = make([]byte, 20+len(l4))
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		g.id++
		binary.BigEndian.PutUint16(ip[4:], g.id)
		ip[8], ip[9] = 64, proto
		s, d := src.Addr().As4(), dst.Addr().As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
	} else {
		ip = make([]byte, 40+len(l4))
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
		ip[6], ip[7] = proto, 64
		s, d := src.Addr().As16(), dst.Addr().As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
	}
	copy(ip[len(ip)-len(l4):], l4)
	pkts := [][]byte{ip}
	if ctl&ctlFrag != 0 {
		g.id++
		var err error
		if pkts, err = defragtest.Split(ip, 24, uint32(g.id)); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range pkts {
		pkts[i] = defragtest.Ether(pkts[i])
	}
	return pkts
}

// FuzzEnginePackets runs records through the whole packet path — decode,
// fragment reassembly, engine with every stage on (intel list, signature,
// default model) — with small caps, the clock jumping ahead at times.
// Invariants: no panic; flows never exceed MaxFlows; the reassembly budget
// and the fragment memcap are never exceeded; every alert is EVE-shaped
// JSON; after Flush nothing is held.
func FuzzEnginePackets(f *testing.F) {
	f.Add(session(0))
	f.Add(session(ctlFrag))
	f.Add(append(session(ctlFrag|1), session(3)...))
	f.Add(append(rec(2, dnsQuery("pool.example-mining.test")), rec(ctlDown|2|ctlAdvance, dnsQuery("pool.example-mining.test"))...))
	f.Add(append(session(0), rec(ctlAdvance|ctlFIN, "")...))
	f.Add(rec(ctlRaw, string(defragtest.Ether([]byte{0x45, 0, 0, 20, 0, 1, 0x20, 0, 64, 6}))))
	m, err := defaultmodel.Load()
	if err != nil {
		f.Fatal(err)
	}
	sc, err := score.New(m, "default")
	if err != nil {
		f.Fatal(err)
	}
	const maxFlows, budget = 3, 16 << 10
	fcfg := defrag.Config{MemCap: defrag.MinMemCap, MaxDatagrams: 4}
	f.Fuzz(func(t *testing.T, data []byte) {
		set := intel.NewSet()
		if _, err := set.Load(strings.NewReader("198.51.100.7\nexample-mining.test\n"), "fuzz", intel.LoadOptions{}); err != nil {
			t.Fatal(err)
		}
		cfg := engine.DefaultConfig()
		cfg.Intel = intel.New([]*intel.Set{set}, nil, intel.NewLearned(), intel.Config{})
		cfg.Model = sc
		cfg.Flows.MaxFlows = maxFlows
		cfg.ReassemblyBudget = budget
		cfg.Signature.Stream = reassembly.Config{MaxBytes: 8 << 10, MaxBuffered: 2 << 10, MaxSegments: 8}
		cfg.Signature.MaxLine = 4 << 10
		e := engine.New(cfg, func(a *alert.Alert) {
			if a.Detector == "" || a.EventType == "" {
				t.Fatalf("alert without detector or event type: %+v", a)
			}
			if _, err := json.Marshal(a); err != nil {
				t.Fatalf("alert does not marshal: %v", err)
			}
		})
		var (
			g   fuzzTCP
			dec decode.Decoder
			p   packet.Packet
			frg = defrag.New(fcfg)
			now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		)
		for len(data) >= 2 {
			ctl, n := data[0], int(data[1])
			data = data[2:]
			n = min(n, len(data))
			b := data[:n]
			data = data[n:]
			now = now.Add(50 * time.Millisecond)
			if ctl&ctlAdvance != 0 {
				now = now.Add(10 * time.Minute)
				e.Advance(now)
			}
			frames := [][]byte{b}
			if ctl&ctlRaw == 0 {
				frames = g.frames(t, ctl, b)
			}
			for _, fr := range frames {
				if dec.Decode(layers.LinkTypeEthernet, fr, now, &p) != decode.OK {
					continue
				}
				p.FrameLen = len(fr)
				if q := frg.Add(&p, dec.IPPacket()); q != nil {
					e.Packet(q)
				}
			}
			st := e.Stats()
			if st.Flows.Active > maxFlows {
				t.Fatalf("%d flows active, cap %d", st.Flows.Active, maxFlows)
			}
			if st.Budget.InUse > budget {
				t.Fatalf("reassembly budget %d over %d", st.Budget.InUse, budget)
			}
			if h := frg.Stats().HeldBytes; h > int64(fcfg.MemCap) {
				t.Fatalf("fragments hold %d bytes", h)
			}
		}
		frg.Flush()
		e.Flush()
		st := e.Stats()
		if st.Flows.Active != 0 || st.Budget.InUse != 0 {
			t.Fatalf("after Flush: %d flows, %d budget bytes", st.Flows.Active, st.Budget.InUse)
		}
	})
}

// The seeds reach the stages they were written for: the plain and the
// fragmented session raise the signature alert, the listed address the
// intel alert, so the fuzzer starts deep in the pipeline.
func TestEngineFuzzSeedsAlert(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want []string
	}{
		{"session", session(0), []string{alert.DetectorSignature, alert.DetectorIntel}},
		{"fragmented session", session(ctlFrag), []string{alert.DetectorSignature, alert.DetectorIntel}},
		{"ipv6 session", session(3), []string{alert.DetectorSignature}},
	} {
		set := intel.NewSet()
		set.Load(strings.NewReader("198.51.100.7\n"), "fuzz", intel.LoadOptions{})
		cfg := engine.DefaultConfig()
		cfg.Intel = intel.New([]*intel.Set{set}, nil, intel.NewLearned(), intel.Config{})
		got := map[string]bool{}
		e := engine.New(cfg, func(a *alert.Alert) { got[a.Detector] = true })
		var (
			g   fuzzTCP
			dec decode.Decoder
			p   packet.Packet
			frg = defrag.New(defrag.Config{})
		)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for in := tc.in; len(in) >= 2; {
			ctl, n := in[0], int(in[1])
			b := in[2 : 2+n]
			in = in[2+n:]
			for _, fr := range g.frames(t, ctl, b) {
				if dec.Decode(layers.LinkTypeEthernet, fr, now, &p) == decode.OK {
					p.FrameLen = len(fr)
					if q := frg.Add(&p, dec.IPPacket()); q != nil {
						e.Packet(q)
					}
				}
			}
		}
		e.Flush()
		for _, d := range tc.want {
			if !got[d] {
				t.Errorf("%s: no %s alert (got %v)", tc.name, d, got)
			}
		}
	}
}
