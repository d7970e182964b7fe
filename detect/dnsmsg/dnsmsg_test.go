package dnsmsg

import (
	"bytes"
	"errors"
	"testing"
)

// query builds a message by hand: header + one question "pool.x.com" A IN,
// then the given answer bytes.
func msg(flags uint16, qd, an uint16, body ...[]byte) []byte {
	b := []byte{0x12, 0x34, byte(flags >> 8), byte(flags), 0, byte(qd), 0, byte(an), 0, 0, 0, 0}
	for _, x := range body {
		b = append(b, x...)
	}
	return b
}

var qPool = []byte("\x04pool\x01x\x03com\x00\x00\x01\x00\x01") // at offset 12

func TestCompressedAnswersAndCNAMEChain(t *testing.T) {
	// pool.x.com CNAME lb.cdn.net; lb.cdn.net A 1.2.3.4 (TTL 300); AAAA 2001:db8::1
	an := []byte{0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 12}
	an = append(an, []byte("\x02lb\x03cdn\x03net\x00")...) // cname target at offset 12+16+12 = 40
	an = append(an, 0xc0, 40, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 1, 2, 3, 4)
	an = append(an, 0xc0, 40, 0, 28, 0, 1, 0, 0, 1, 44, 0, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)
	b := msg(0x8180, 1, 3, qPool, an)
	var m Message
	if err := Parse(b, &m); err != nil {
		t.Fatal(err)
	}
	if !m.Response || len(m.Questions) != 1 || string(m.Questions[0].Name) != "pool.x.com" {
		t.Fatalf("question: %+v", m.Questions)
	}
	if len(m.Answers) != 3 || string(m.Answers[0].Target) != "lb.cdn.net" ||
		string(m.Answers[1].Name) != "lb.cdn.net" || m.Answers[1].Addr.String() != "1.2.3.4" || m.Answers[1].TTL != 300 ||
		m.Answers[2].Addr.String() != "2001:db8::1" {
		t.Fatalf("answers: %+v", m.Answers)
	}
	// The names of a parsed message stay valid while the message is parsed
	// (they share one buffer that only grows).
	if string(m.Questions[0].Name) != "pool.x.com" {
		t.Fatal("question name overwritten")
	}
}

func TestMalformedMessagesAreRejectedNotFatal(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"short header", []byte{1, 2, 3}, ErrShort},
		{"pointer to itself", msg(0, 1, 0, []byte{0xc0, 12, 0, 1, 0, 1}), ErrPointerLoop},
		{"forward pointer", msg(0, 1, 0, []byte{0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0}), ErrPointerLoop},
		{"label past end", msg(0, 1, 0, []byte{9, 'a'}), ErrShort},
		{"reserved label type", msg(0, 1, 0, []byte{0x40, 0}), ErrName},
		{"name over 255 bytes", msg(0, 1, 0, bytes.Repeat([]byte("\x3f"+string(bytes.Repeat([]byte{'a'}, 63))), 5), []byte{0, 0, 1, 0, 1}), ErrNameTooLong},
		{"answer rdata past end", msg(0x8000, 1, 1, qPool, []byte{0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1}), ErrShort},
		{"counts larger than message", msg(0, 40, 0, qPool), ErrShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			err := Parse(tc.b, &m)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTruncatedResponseKeepsItsQuestion(t *testing.T) {
	b := msg(0x8180, 1, 2, qPool, []byte{0xc0, 12, 0, 1})
	var m Message
	if err := Parse(b, &m); err == nil {
		t.Fatal("want error")
	}
	if len(m.Questions) != 1 || string(m.Questions[0].Name) != "pool.x.com" {
		t.Fatalf("question lost: %+v", m.Questions)
	}
}

func TestTCPStreamSplitsMessagesAcrossChunks(t *testing.T) {
	one := msg(0x0100, 1, 0, qPool)
	var wire []byte
	for i := 0; i < 3; i++ {
		wire = append(wire, byte(len(one)>>8), byte(len(one)))
		wire = append(wire, one...)
	}
	for _, chunk := range []int{1, 2, 7, 29, len(wire)} {
		var s Stream
		n := 0
		for off := 0; off < len(wire); off += chunk {
			s.Write(wire[off:min(off+chunk, len(wire))])
			for {
				b, ok := s.Next()
				if !ok {
					break
				}
				var m Message
				if err := Parse(b, &m); err != nil || string(m.Questions[0].Name) != "pool.x.com" {
					t.Fatalf("chunk %d: %v %+v", chunk, err, m.Questions)
				}
				n++
			}
		}
		if n != 3 {
			t.Fatalf("chunk %d: %d messages, want 3", chunk, n)
		}
	}
}

func TestParseDoesNotAllocateOnceWarm(t *testing.T) {
	b := msg(0x8180, 1, 1, qPool, []byte{0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 1, 2, 3, 4})
	var m Message
	Parse(b, &m)
	if n := testing.AllocsPerRun(100, func() { Parse(b, &m) }); n != 0 {
		t.Fatalf("%v allocs per parse", n)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(msg(0x0100, 1, 0, qPool))
	f.Add(msg(0x8180, 1, 1, qPool, []byte{0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12}))
	f.Add(msg(0, 1, 0, []byte{0xc0, 12, 0, 1, 0, 1}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		Parse(b, &m)
		for _, q := range m.Questions {
			if len(q.Name) > 2*MaxNameLen {
				t.Fatalf("name of %d bytes", len(q.Name))
			}
		}
		var s Stream
		s.Write(b)
		for i := 0; i < 1000; i++ {
			if _, ok := s.Next(); !ok {
				break
			}
		}
	})
}

func BenchmarkParseResponse(b *testing.B) {
	p := msg(0x8180, 1, 1, qPool, []byte{0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 1, 2, 3, 4})
	var m Message
	b.ReportAllocs()
	for b.Loop() {
		Parse(p, &m)
	}
}
