package tlshello

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// build serialises a ClientHello handshake message (not yet in records).
func build(version uint16, ciphers []uint16, exts [][2][]byte) []byte {
	var body []byte
	body = append(body, byte(version>>8), byte(version))
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	body = append(body, byte(len(ciphers)*2>>8), byte(len(ciphers)*2))
	for _, c := range ciphers {
		body = append(body, byte(c>>8), byte(c))
	}
	body = append(body, 1, 0) // null compression
	var eb []byte
	for _, e := range exts {
		eb = append(eb, e[0]...)
		eb = append(eb, byte(len(e[1])>>8), byte(len(e[1])))
		eb = append(eb, e[1]...)
	}
	body = append(body, byte(len(eb)>>8), byte(len(eb)))
	body = append(body, eb...)
	return append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

// records splits a handshake message into TLS records of at most n bytes.
func records(hs []byte, n int) []byte {
	var out []byte
	for len(hs) > 0 {
		k := min(n, len(hs))
		out = append(out, 22, 3, 1, byte(k>>8), byte(k))
		out = append(out, hs[:k]...)
		hs = hs[k:]
	}
	return out
}

func u16s(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, byte(v>>8), byte(v))
	}
	return b
}

func ext(typ uint16, body []byte) [2][]byte { return [2][]byte{u16s(typ), body} }

func list16(b []byte) []byte { return append(u16s(uint16(len(b))), b...) }

// foxioHello has the cipher, extension and signature-algorithm lists of
// the example in FoxIO's JA4 specification (technical_details/JA4.md),
// whose fingerprint is t13d1516h2_8daaf6152771_e5627efa2ab1, plus GREASE
// values that both fingerprints must ignore.
func foxioHello() []byte {
	ciphers := []uint16{0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	sni := list16(append([]byte{0, 0, 16}, "pool.example.org"...))
	alpn := list16([]byte("\x02h2\x08http/1.1"))
	sig := list16(u16s(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601))
	exts := [][2][]byte{
		ext(0x3a3a, nil), ext(0x0000, sni), ext(0x0017, nil), ext(0xff01, []byte{0}),
		ext(0x000a, list16(u16s(0x4a4a, 0x001d, 0x0017, 0x0018))), ext(0x000b, []byte{1, 0}),
		ext(0x0023, nil), ext(0x0010, alpn), ext(0x0005, []byte{1, 0, 0, 0, 0}), ext(0x000d, sig),
		ext(0x0012, nil), ext(0x0033, list16(nil)), ext(0x002d, []byte{1, 1}),
		ext(0x002b, append([]byte{6}, u16s(0x5a5a, 0x0304, 0x0303)...)), ext(0x001b, []byte{2, 0, 2}),
		ext(0x4469, []byte{0, 3, 2, 'h', '2'}), ext(0x0015, make([]byte, 10)), ext(0x1a1a, []byte{0}),
	}
	return build(0x0303, ciphers, exts)
}

func TestJA4MatchesTheSpecificationExample(t *testing.T) {
	var h ClientHello
	if err := Parse(records(foxioHello(), 1<<14), &h); err != nil {
		t.Fatal(err)
	}
	if got, want := h.JA4(), "t13d1516h2_8daaf6152771_e5627efa2ab1"; got != want {
		t.Fatalf("JA4 = %s, want %s\nraw %s", got, want, h.JA4R())
	}
	if string(h.SNI) != "pool.example.org" || len(h.ALPN) != 2 || string(h.ALPN[1]) != "http/1.1" {
		t.Fatalf("SNI %q ALPN %q", h.SNI, h.ALPN)
	}
	// JA3 keeps wire order and drops GREASE.
	want := "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53," +
		"0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513-21,29-23-24,0"
	if got := h.JA3(); got != want {
		t.Fatalf("JA3 = %s\nwant  %s", got, want)
	}
	if VersionName(h.MaxVersion()) != "TLS 1.3" {
		t.Fatalf("version %s", VersionName(h.MaxVersion()))
	}
}

func TestJA4EdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name string
		exts [][2][]byte
		want string
	}{
		{"no SNI no ALPN no extensions", nil, "t12i010000_"},
		{"non-alphanumeric ALPN uses hex", [][2][]byte{ext(0x0010, list16([]byte("\x03\xab\x00\xcd")))}, "t12i0101ad_"},
		{"one-character ALPN", [][2][]byte{ext(0x0010, list16([]byte("\x01h")))}, "t12i0101hh_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h ClientHello
			if err := Parse(records(build(0x0303, []uint16{0x1301}, tc.exts), 1<<14), &h); err != nil {
				t.Fatal(err)
			}
			if got := h.JA4(); got[:len(tc.want)] != tc.want {
				t.Fatalf("JA4 = %s, want prefix %s", got, tc.want)
			}
		})
	}
	var h ClientHello
	Parse(records(build(0x0303, []uint16{0x1301}, nil), 100), &h)
	if got := h.JA4(); got != "t12i010000_"+hash12("1301")+"_000000000000" {
		t.Fatalf("empty extension list: %s", got)
	}
}

func TestHelloAcrossRecordsAndChunksNeedsMoreUntilComplete(t *testing.T) {
	stream := records(foxioHello(), 50) // many small records
	for _, chunk := range []int{1, 3, 64, 1448} {
		var p Parser
		var err error
		for off := 0; off < len(stream); off += chunk {
			err = p.Feed(stream[off:min(off+chunk, len(stream))])
			if off+chunk < len(stream) && err != ErrNeedMore {
				t.Fatalf("chunk %d at %d: %v before the end", chunk, off, err)
			}
		}
		if err != nil || string(p.Hello.SNI) != "pool.example.org" {
			t.Fatalf("chunk %d: %v %q", chunk, err, p.Hello.SNI)
		}
	}
}

func TestNonHelloStreamsAreRejectedEarly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream []byte
		want   error
	}{
		{"stratum json", []byte(`{"id":1,"method":"login"}`), ErrNotTLS},
		{"ssh banner", []byte("SSH-2.0-OpenSSH_9.2\r\n"), ErrNotTLS},
		{"server hello", records([]byte{2, 0, 0, 4, 3, 3, 0, 0}, 100), ErrNotTLS},
		{"one byte of a record", []byte{22}, ErrNeedMore},
		{"huge declared hello", records([]byte{1, 0xff, 0xff, 0xff}, 100), ErrTooLarge},
		{"alert record in the middle", append(records(foxioHello()[:40], 100), 21, 3, 3, 0, 2, 2, 40), ErrMalformed},
		{"ALPN list longer than its extension", records(build(0x0303, []uint16{1}, [][2][]byte{ext(0x0010, u16s(0x00ff))}), 1000), ErrMalformed},
		{"cut in the middle of the hello", records(foxioHello(), 1<<14)[:100], ErrNeedMore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h ClientHello
			if err := Parse(tc.stream, &h); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// A stream that never completes stops at MaxStream.
	var p Parser
	rec := []byte{22, 3, 1, 0x40, 0, 1, 0, 0x40, 0}
	err := p.Feed(rec)
	for i := 0; err == ErrNeedMore && i < 100; i++ {
		err = p.Feed(bytes.Repeat([]byte{0}, 1000))
	}
	if err != ErrTooLarge {
		t.Fatalf("endless hello: %v", err)
	}
}

func TestGREASEValues(t *testing.T) {
	n := 0
	for v := 0; v < 1<<16; v++ {
		if IsGREASE(uint16(v)) {
			n++
		}
	}
	if n != 16 || !IsGREASE(0x0a0a) || !IsGREASE(0xfafa) || IsGREASE(0x0a1a) {
		t.Fatalf("%d GREASE values", n)
	}
}

func TestFindLocatesHelloAfterPreamble(t *testing.T) {
	s := append([]byte("CONNECT pool:443 HTTP/1.1\r\n\r\n"), records(foxioHello(), 1<<14)...)
	if i := Find(s); i != 29 {
		t.Fatalf("Find = %d", i)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(records(foxioHello(), 1<<14))
	f.Add(records(foxioHello(), 37))
	f.Add(records(build(0x0301, nil, nil), 100))
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h ClientHello
		if Parse(b, &h) == nil {
			h.JA3Hash()
			h.JA4()
		}
		var p Parser
		for len(b) > 0 && p.Feed(b[:min(len(b), 7)]) == ErrNeedMore {
			b = b[min(len(b), 7):]
		}
	})
}

func BenchmarkParseAndFingerprint(b *testing.B) {
	s := records(foxioHello(), 1<<14)
	var h ClientHello
	b.ReportAllocs()
	for b.Loop() {
		Parse(s, &h)
		h.JA4()
		h.JA3Hash()
	}
}

// Find answers as a byte-by-byte scan does, on random bytes rich in the
// record header's values (22, 3, 1) and at every cut of a real record.
func TestFindAgreesWithAPlainScan(t *testing.T) {
	plain := func(b []byte) int {
		for i := 0; i+6 <= len(b); i++ {
			if b[i] == 22 && b[i+1] == 3 && b[i+2] <= 4 && b[i+5] == 1 {
				if n := int(be16(b[i+3:])); n > 0 && n <= 16384+2048 {
					return i
				}
			}
		}
		return -1
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{22, 3, 1, 0, 4, 5, 0x40, 'a'}
	for k := 0; k < 20000; k++ {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if got, want := Find(b), plain(b); got != want {
			t.Fatalf("Find(%v) = %d, a plain scan %d", b, got, want)
		}
	}
	rec := append([]byte("CONNECT pool:443 HTTP/1.1\r\n\r\n"), records(foxioHello(), 1<<14)...)
	for i := 0; i <= len(rec); i++ {
		for _, b := range [][]byte{rec[:i], rec[i:]} {
			if got, want := Find(b), plain(b); got != want {
				t.Fatalf("cut at %d: Find = %d, a plain scan %d", i, got, want)
			}
		}
	}
}
