package seqfeat

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzSeq feeds arbitrary packets (network bytes: the TLS record walk
// reads lengths from them) and checks that Add never panics, records at
// most N messages with lengths in range, and that Fill fills every
// column without an infinity.
//
// Input: repeated [flags][len hi][len lo][cut][payload…]; flags bit 0 =
// down, bit 1 = TCP; the payload is the next len bytes, cut to cut bytes
// as a snap length would.
func FuzzSeq(f *testing.F) {
	tlsHello := append([]byte{2, 0, 40, 40, 0x16, 3, 1, 0, 35}, make([]byte, 35)...)
	appData := append([]byte{3, 0, 30, 30, 0x17, 3, 3, 0, 25}, make([]byte, 25)...)
	f.Add(append(append([]byte{}, tlsHello...), appData...))
	f.Add([]byte{2, 0, 10, 10, '{', '"', 'i', 'd', '"', ':', '1', '}', '\n', ' '})
	f.Add([]byte{3, 0xff, 0xff, 5, 0x17, 3, 3, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Seq
		var seqs [2]uint32
		now := int64(1e9)
		for len(data) >= 4 {
			flags, n, cut := data[0], int(binary.BigEndian.Uint16(data[1:3])), int(data[3])
			data = data[4:]
			body := data
			if len(body) > n {
				body = body[:n]
			}
			data = data[len(body):]
			if len(body) > cut {
				body = body[:cut]
			}
			d := int(flags & 1)
			s.Add(now, d == 1, body, n, seqs[d], flags&2 != 0, int(flags>>4))
			seqs[d] += uint32(n)
			now += int64(flags) * 1e6
		}
		if s.Len() > N {
			t.Fatalf("%d messages recorded, at most %d", s.Len(), N)
		}
		for i := 0; i < s.Len(); i++ {
			if length, _, _ := s.Message(i); length < 0 {
				t.Fatalf("message %d has length %d", i, length)
			}
		}
		out := make([]float64, len(Defs()))
		Fill(out, &s, float64(now)/1e9, now)
		for i, v := range out {
			if math.IsInf(v, 0) {
				t.Fatalf("column %s is %v", Defs()[i].Name, v)
			}
		}
	})
}
