package defrag_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/defrag"
	"github.com/minerwatch/minerwatch/features/packet"
)

// fuzzInput encodes raw IP packets as a FuzzDefrag input: per packet a
// time step in seconds (signed), a big-endian length and the bytes.
func fuzzInput(steps []int8, pkts [][]byte) []byte {
	var b []byte
	for i, p := range pkts {
		b = append(b, byte(steps[i%len(steps)]), 0, 0)
		binary.BigEndian.PutUint16(b[len(b)-2:], uint16(len(p)))
		b = append(b, p...)
	}
	return b
}

// FuzzDefrag feeds arbitrary raw IP packets (fragments or not) to a small
// table. Invariants: no panic; held bytes never exceed the memory cap and
// datagrams never exceed their cap after any Add; a reassembled packet is
// an unfragmented packet whose payload fits its length; Flush frees all.
func FuzzDefrag(f *testing.F) {
	v4 := split(f, tcpPacket(f, false, 1, login), 64)
	v6 := split(f, tcpPacket(f, true, 2, login), 64)
	f.Add(fuzzInput([]int8{0}, v4))
	f.Add(fuzzInput([]int8{1, 0, -1}, append(append([][]byte{}, v6...), v4...)))
	rev := make([][]byte, len(v4))
	for i := range v4 {
		rev[len(v4)-1-i] = v4[i]
	}
	f.Add(fuzzInput([]int8{0}, append(rev, v4[1], v4[0])))
	f.Add(fuzzInput([]int8{40}, v6))
	hbh := make([][]byte, len(v6))
	for i := range v6 {
		hbh[i] = withHopByHop(v6[i])
	}
	f.Add(fuzzInput([]int8{0, 2}, hbh))
	f.Add(fuzzInput([]int8{0}, split(f, tcpPacket(f, true, 0, login), 4096))) // atomic fragment
	decoy := append([]byte(nil), v4[1]...)
	decoy[len(decoy)-1] ^= 0xff
	f.Add(fuzzInput([]int8{0}, append([][]byte{decoy}, v4...)))
	cfg := defrag.Config{MemCap: defrag.MinMemCap, MaxDatagrams: 4, MaxFragments: 8, Timeout: 5 * time.Second}
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl := defrag.New(cfg)
		var (
			dec decode.Decoder
			p   packet.Packet
			now = t0
		)
		for len(data) >= 3 {
			now = now.Add(time.Duration(int8(data[0])) * time.Second)
			n := int(binary.BigEndian.Uint16(data[1:3]))
			data = data[3:]
			n = min(n, len(data))
			raw := data[:n]
			data = data[n:]
			if dec.Decode(layers.LinkTypeRaw, raw, now, &p) != decode.OK {
				continue
			}
			p.FrameLen = len(raw)
			out := tbl.Add(&p, dec.IPPacket())
			st := tbl.Stats()
			if st.HeldBytes > int64(cfg.MemCap) || st.HeldBytes < 0 {
				t.Fatalf("held %d bytes, cap %d", st.HeldBytes, cfg.MemCap)
			}
			if st.HeldDgrams > int64(cfg.MaxDatagrams) {
				t.Fatalf("%d datagrams held, cap %d", st.HeldDgrams, cfg.MaxDatagrams)
			}
			if out != nil && out != &p {
				if out.Fragment || len(out.Payload) > out.PayloadLen || out.IPLen > 65535+40 {
					t.Fatalf("bad reassembled packet: %+v", out)
				}
				if len(tbl.Datagram()) != out.IPLen {
					t.Fatalf("datagram of %d bytes, IP length %d", len(tbl.Datagram()), out.IPLen)
				}
			}
		}
		tbl.Flush()
		if st := tbl.Stats(); st.HeldBytes != 0 || st.HeldDgrams != 0 {
			t.Fatalf("after Flush: %+v", st)
		}
	})
}
