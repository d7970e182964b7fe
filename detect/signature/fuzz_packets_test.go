package signature_test

import (
	"encoding/binary"
	"testing"

	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/signature"
	"github.com/minerwatch/minerwatch/features/packet"
)

// fuzzPkt is one packet of a FuzzFlowPackets script.
type fuzzPkt struct {
	dir      packet.Direction
	flags    uint8
	seq, ack uint16
	data     string
}

// fuzzScript encodes packets for FuzzFlowPackets: per packet one byte
// (bit 0 direction, bits 1-5 TCP flags FIN SYN RST PSH ACK), a 16-bit
// sequence offset from the direction's base, a 16-bit ack offset from
// the other direction's base, a length byte and that many payload bytes.
func fuzzScript(pkts ...fuzzPkt) []byte {
	var b []byte
	for _, p := range pkts {
		var hdr byte
		for i, fl := range fuzzFlags {
			if p.flags&fl != 0 {
				hdr |= 2 << i
			}
		}
		b = append(b, byte(p.dir)|hdr)
		b = binary.BigEndian.AppendUint16(b, p.seq)
		b = binary.BigEndian.AppendUint16(b, p.ack)
		n := min(len(p.data), 255)
		b = append(b, byte(n))
		b = append(b, p.data[:n]...)
	}
	return b
}

var fuzzFlags = [...]uint8{packet.FlagFIN, packet.FlagSYN, packet.FlagRST, packet.FlagPSH, packet.FlagACK}

// FuzzFlowPackets drives the whole signature stage (reassembly with
// conflicts and padding, proxy preambles, line/HTTP/SV2 reading, both
// machines, evidence) with arbitrary packets: it must not panic, must
// keep within its budget and must return it all on Close.
func FuzzFlowPackets(f *testing.F) {
	const syn, ack, psh = packet.FlagSYN, packet.FlagACK, packet.FlagPSH
	login, reply := xmrigLogin[:200], xmrigLoginOK[:200]
	f.Add(fuzzScript(
		fuzzPkt{up, syn, 0, 0, ""}, fuzzPkt{down, syn | ack, 0, 1, ""}, fuzzPkt{up, ack, 1, 1, ""},
		fuzzPkt{up, ack | psh, 1, 1, login}, fuzzPkt{down, ack | psh, 1, 201, reply}))
	f.Add(fuzzScript( // decoy first, then the real bytes
		fuzzPkt{up, ack, 1, 1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}, fuzzPkt{up, ack, 1, 1, cpuSubscribe[:45]},
		fuzzPkt{down, ack, 1, 46, cpuSubscribeOK[:100]}))
	f.Add(fuzzScript(fuzzPkt{up, ack, 1, 1, "                                        "}, fuzzPkt{up, ack, 41, 1, login}))
	f.Add(fuzzScript(fuzzPkt{up, ack, 1, 1, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"id\":1}\n"}))
	f.Add(fuzzScript(fuzzPkt{up, ack, 1, 1, "\x05\x01\x00"}, fuzzPkt{down, ack, 1, 4, "\x05\x00"}))
	f.Fuzz(func(t *testing.T, script []byte) {
		const limit = 64 << 10
		budget := reassembly.NewBudget(limit)
		fl := signature.New(signature.DefaultConfig(), budget)
		base := [2]uint32{1000, 4_000_000_000}
		for len(script) >= 6 {
			hdr := script[0]
			seq := binary.BigEndian.Uint16(script[1:])
			ackOff := binary.BigEndian.Uint16(script[3:])
			n := min(int(script[5]), len(script)-6)
			payload := script[6 : 6+n]
			script = script[6+n:]
			dir := packet.Direction(hdr & 1)
			var flags uint8
			for i, fl := range fuzzFlags {
				if hdr&(2<<i) != 0 {
					flags |= fl
				}
			}
			p := packet.Packet{Proto: packet.ProtoTCP, HasTCP: true, HasPorts: true, TCPFlags: flags,
				Seq: base[dir] + uint32(seq), Ack: base[1-dir] + uint32(ackOff), Payload: payload, PayloadLen: n}
			fl.Packet(&p, dir)
			if in := budget.Stats().InUse; in > limit {
				t.Fatalf("budget %d > %d", in, limit)
			}
		}
		fl.Finish()
		v := fl.Verdict()
		if v.Mining && (v.Dialect == "" || v.Confidence <= 0) {
			t.Fatalf("verdict without dialect: %+v", v)
		}
		_ = fl.Stats()
		fl.Close()
		if in := budget.Stats().InUse; in != 0 {
			t.Fatalf("budget holds %d after Close", in)
		}
	})
}
