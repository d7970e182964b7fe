package main

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
)

// readSYNs decodes every record of a generated capture.
func readSYNs(t *testing.T, path string) []packet.Packet {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []packet.Packet
	var rec capture.Record
	var d decode.Decoder
	for {
		if err := r.Next(&rec); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var p packet.Packet
		if d.Decode(rec.LinkType, rec.Data, rec.Time, &p) != decode.OK {
			t.Fatalf("record %d does not decode", len(out))
		}
		p.Payload = nil
		out = append(out, p)
	}
	return out
}

// The flood is n SYNs, each its own 5-tuple; the spoofed flood is n SYNs
// from n distinct sources to the one address its intel list names.
func TestFloodsAreDistinctSYNs(t *testing.T) {
	const n = 120_000 // more than one client address's 50,000 ports
	dir := t.TempDir()
	flood, spoof, list := filepath.Join(dir, "flood.pcap"), filepath.Join(dir, "spoof.pcap"), filepath.Join(dir, "list.txt")
	if err := run("synflood", n, flood, ""); err != nil {
		t.Fatal(err)
	}
	if err := run("spoofed", n, spoof, list); err != nil {
		t.Fatal(err)
	}
	tuples := map[[2]netip.AddrPort]bool{}
	for _, p := range readSYNs(t, flood) {
		if p.TCPFlags != packet.FlagSYN {
			t.Fatalf("flags %#x, want a bare SYN", p.TCPFlags)
		}
		tuples[[2]netip.AddrPort{netip.AddrPortFrom(p.SrcIP, p.SrcPort), netip.AddrPortFrom(p.DstIP, p.DstPort)}] = true
	}
	if len(tuples) != n {
		t.Errorf("flood: %d distinct 5-tuples, want %d", len(tuples), n)
	}
	srcs := map[netip.Addr]bool{}
	for _, p := range readSYNs(t, spoof) {
		if p.DstIP.String() != spoofTarget || p.DstPort != 3333 {
			t.Fatalf("spoofed SYN to %s:%d, want %s:3333", p.DstIP, p.DstPort, spoofTarget)
		}
		srcs[p.SrcIP] = true
	}
	if len(srcs) != n {
		t.Errorf("spoofed: %d distinct sources, want %d", len(srcs), n)
	}
	b, err := os.ReadFile(list)
	if err != nil || !strings.Contains(string(b), "\n"+spoofTarget+"\n") {
		t.Errorf("intel list %q (%v) does not name %s", b, err, spoofTarget)
	}
}

// The bomb's one record claims 0xFFFFFFF0 bytes and carries the n zeros
// given, compressed.
func TestGzipBombClaimsFourGigabytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bomb.pcap.gz")
	if err := run("gzbomb", 1<<20, path, ""); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var hdr [40]byte
	if _, err := io.ReadFull(zr, hdr[:]); err != nil {
		t.Fatal(err)
	}
	if caplen := binary.LittleEndian.Uint32(hdr[24+8:]); caplen != 0xFFFFFFF0 {
		t.Errorf("caplen %#x, want 0xFFFFFFF0", caplen)
	}
	rest, _ := io.Copy(io.Discard, zr)
	if rest != 1<<20 {
		t.Errorf("%d bytes after the record header, want %d", rest, 1<<20)
	}
}
