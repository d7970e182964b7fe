package defrag_test

import (
	"bytes"
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

// refDatagram is the reference model of FuzzDefragOps: a byte map where
// the first byte received at an offset wins, the first end seen wins, and
// a fragment that adds no new byte is not kept.
type refDatagram struct {
	known [2048 + 256]bool
	b     [2048 + 256]byte
	end   int
	kept  int
}

func (r *refDatagram) reset() { *r = refDatagram{end: -1} }

// FuzzDefragOps builds well-formed fragments of eight datagrams (four IPv4,
// four IPv6) from 3-byte ops — datagram and more-fragments flag, offset/8,
// length/8 — with bytes that depend on the op, so overlaps conflict, and
// checks the table against refDatagram: a datagram is handed on exactly
// when the model has all its bytes, with exactly the model's bytes.
func FuzzDefragOps(f *testing.F) {
	f.Add([]byte{0x10, 0, 2, 0x00, 2, 2})                         // two in order
	f.Add([]byte{0x00, 2, 2, 0x10, 0, 2, 0x14, 1, 1})             // last first, then an overlap
	f.Add([]byte{0x15, 0, 4, 0x15, 0, 4, 0x05, 4, 1, 0x03, 9, 1}) // duplicate, ipv6, a stray
	f.Add([]byte{0x02, 0, 3, 0x06, 0, 3})                         // whole IPv4 packet; IPv6 atomic fragment
	f.Fuzz(func(t *testing.T, ops []byte) {
		tbl := defrag.New(defrag.Config{})
		var (
			ref [8]refDatagram
			dec decode.Decoder
			p   packet.Packet
		)
		for i := range ref {
			ref[i].reset()
		}
		for n := 0; len(ops) >= 3; n++ {
			k, more := int(ops[0]&7), ops[0]&0x10 != 0
			off, size := int(ops[1])*8, (int(ops[2]&31)+1)*8
			ops = ops[3:]
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(n*7 + (off+i)/8) // differs between ops at the same offset
			}
			raw := fragment(k, off, more, data)
			if dec.Decode(layers.LinkTypeRaw, raw, t0, &p) != decode.OK {
				t.Fatalf("op %d: fragment does not decode", n)
			}
			out := tbl.Add(&p, dec.IPPacket())
			if k < 4 && off == 0 && !more {
				// Not a fragment at all in IPv4 (IPv6 keeps the header:
				// an atomic fragment): passed through, the model untouched.
				if out != &p {
					t.Fatalf("op %d: a whole IPv4 packet was not passed through", n)
				}
				continue
			}

			r := &ref[k]
			if !more && r.end < 0 {
				r.end = off + size
			}
			added := false
			for i := range data {
				added = added || !r.known[off+i]
			}
			if added {
				if r.kept >= defrag.DefaultMaxFragments {
					r.reset()
					if out != nil {
						t.Fatalf("op %d: a refused datagram was handed on", n)
					}
					continue
				}
				for i, c := range data {
					if !r.known[off+i] {
						r.known[off+i], r.b[off+i] = true, c
					}
				}
				r.kept++
			}
			whole := r.end >= 0
			for i := 0; whole && i < r.end; i++ {
				whole = r.known[i]
			}
			if !whole {
				if out != nil {
					t.Fatalf("op %d: handed on a datagram the model lacks bytes of", n)
				}
				continue
			}
			if out == nil || out == &p {
				t.Fatalf("op %d: datagram %d complete in the model, not handed on (%v)", n, k, tbl.Stats())
			}
			hlen := 20
			if k >= 4 {
				hlen = 40
			}
			if got := tbl.Datagram()[hlen:]; !bytes.Equal(got, r.b[:r.end]) {
				t.Fatalf("op %d: datagram %d bytes differ from the first-wins model", n, k)
			}
			r.reset()
		}
	})
}

// fragment is a raw IPv4 (k < 4) or IPv6 fragment of datagram k carrying
// data at byte offset off, protocol 253 (experimental: no transport header
// to parse).
func fragment(k, off int, more bool, data []byte) []byte {
	if k < 4 {
		ip := make([]byte, 20+len(data))
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		binary.BigEndian.PutUint16(ip[4:], uint16(k))
		ff := uint16(off / 8)
		if more {
			ff |= 0x2000
		}
		binary.BigEndian.PutUint16(ip[6:], ff)
		ip[8], ip[9] = 64, 253
		copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
		copy(ip[20:], data)
		return ip
	}
	ip := make([]byte, 48+len(data))
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(8+len(data)))
	ip[6], ip[7] = 44, 64
	ip[8], ip[23] = 0x20, 1
	ip[24], ip[39] = 0x20, 2
	ip[40] = 253
	fo := uint16(off/8) << 3
	if more {
		fo |= 1
	}
	binary.BigEndian.PutUint16(ip[42:], fo)
	binary.BigEndian.PutUint32(ip[44:], uint32(k))
	copy(ip[48:], data)
	return ip
}
