package tlshello

import (
	"encoding/hex"
	"errors"
	"testing"
)

// TestQUICInitialKeysMatchRFC9001 checks the key schedule against the
// client keys of RFC 9001 Appendix A.1 (DCID 0x8394c8f03e515708).
func TestQUICInitialKeysMatchRFC9001(t *testing.T) {
	var q QUICParser
	dcid, _ := hex.DecodeString("8394c8f03e515708")
	if err := q.keys(dcid); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(q.iv[:]); got != "fa044b2f42a3fd3b46fb255c" {
		t.Fatalf("iv %s", got)
	}
	var mask [16]byte
	sample, _ := hex.DecodeString("d1b1c98dd7689fb8ec11d242b123dc9b") // RFC 9001 A.2 sample
	q.hp.Encrypt(mask[:], sample)
	if got := hex.EncodeToString(mask[:5]); got != "437b9aec36" { // RFC 9001 A.2 mask
		t.Fatalf("mask %s", got)
	}
}

func TestQUICParserRejectsNonQUICAndTruncation(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"dns over udp", []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, ErrNotTLS},
		{"quic v2", []byte{0xc0, 0x6b, 0x33, 0x43, 0xcf, 0, 0}, ErrQUICVersion},
		{"initial shorter than its length", []byte{0xc0, 0, 0, 0, 1, 1, 9, 0, 0, 0x40, 0x50, 1, 2}, ErrMalformed},
	} {
		var q QUICParser
		if err := q.Feed(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func FuzzQUICParser(f *testing.F) {
	f.Add([]byte{0xc0, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08, 0, 0, 0x44, 0x9e})
	f.Add([]byte{0xc0, 0, 0, 0, 1, 0, 0, 0, 0x40, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32})
	f.Fuzz(func(t *testing.T, b []byte) {
		var q QUICParser
		q.Feed(b)
		// Frames parsing on arbitrary plaintext, as if decrypted.
		q.frames(b)
		q.tryHello()
	})
}
