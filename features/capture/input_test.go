package capture

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// TestResyncOverHostileBytesIsLinear feeds the pcapng resync scan 2 MB in
// which every other 4-byte step looks like the start of an Enhanced Packet
// Block of almost maxPeek bytes (type 6 and a plausible length; only its
// trailer, maxPeek bytes on, does not match). Each candidate makes the
// scan peek maxPeek bytes ahead; a buffer that moved its unread bytes to the front on every
// such peek would copy ~320 KiB per step (80 GB here). The bytes moved
// inside the buffer must stay a small multiple of the stream's length, and
// the file must fail with an error giving the offset.
func TestResyncOverHostileBytesIsLinear(t *testing.T) {
	le := binary.LittleEndian
	var b []byte
	// Section header and one interface.
	b = le.AppendUint32(b, ngSHB)
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, ngBOM)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, ^uint64(0))
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, ngIDB)
	b = le.AppendUint32(b, 20)
	b = le.AppendUint32(b, 1) // Ethernet, reserved
	b = le.AppendUint32(b, 0) // snaplen
	b = le.AppendUint32(b, 20)
	var unit []byte
	unit = le.AppendUint32(unit, ngEPB)
	unit = le.AppendUint32(unit, maxPeek-12) // ≡ 4 mod 8: the trailer reads a type word
	b = append(b, bytes.Repeat(unit, 2<<20/len(unit))...)

	r, err := readerOf(b)
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	err = r.Next(&rec)
	if err == nil || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("Next: %v, want an error giving the offset", err)
	}
	f := r.files[0]
	if moved := f.in.moved; moved > 4*int64(len(b)) {
		t.Errorf("the buffer moved %d bytes for a %d-byte stream", moved, len(b))
	}
	t.Logf("%d-byte stream, %d bytes moved; %v", len(b), f.in.moved, err)
}
