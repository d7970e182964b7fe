package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/minerwatch/minerwatch/features/capture"
)

// frame is one record to write: its time, link type (pcapng only picks
// the interface by it), captured bytes and wire length (0 = len(data)).
type frame struct {
	at      time.Time
	link    layers.LinkType
	data    []byte
	wireLen int
}

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// payloadOf makes distinguishable frame contents: n bytes of value b.
func payloadOf(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

func ci(f frame) gopacket.CaptureInfo {
	wire := f.wireLen
	if wire == 0 {
		wire = len(f.data)
	}
	return gopacket.CaptureInfo{Timestamp: f.at, CaptureLength: len(f.data), Length: wire}
}

// pcapBytes encodes frames as a classic little-endian pcap (µs, or ns when
// nanos is set) with pcapgo's writer.
func pcapBytes(t testing.TB, link layers.LinkType, nanos bool, frames ...frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WritePacket(ci(f), f.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// pcapngBytes encodes frames as pcapng with one interface per distinct link
// type, in order of first use.
func pcapngBytes(t testing.TB, frames ...frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	ifaces := map[layers.LinkType]int{}
	var w *pcapgo.NgWriter
	for _, f := range frames {
		id, ok := ifaces[f.link]
		if !ok {
			intf := pcapgo.DefaultNgInterface
			intf.LinkType = f.link
			intf.Name = "if-" + f.link.String()
			var err error
			if w == nil {
				w, err = pcapgo.NewNgWriterInterface(&buf, intf, pcapgo.DefaultNgWriterOptions)
			} else {
				id, err = w.AddInterface(intf)
			}
			if err != nil {
				t.Fatal(err)
			}
			ifaces[f.link] = id
		}
		c := ci(f)
		c.InterfaceIndex = id
		if err := w.WritePacket(c, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// got is what a record looked like when read; Data is copied because the
// reader reuses its buffer.
type got struct {
	at      time.Time
	link    layers.LinkType
	data    []byte
	wireLen int
	file    int
}

func readAll(t *testing.T, r *capture.Reader) []got {
	t.Helper()
	var out []got
	var rec capture.Record
	for {
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(out), err)
		}
		out = append(out, got{rec.Time, rec.LinkType, append([]byte(nil), rec.Data...), rec.OrigLen, rec.File})
	}
}

func openAll(t *testing.T, paths ...string) ([]got, *capture.Reader) {
	t.Helper()
	r, err := capture.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return readAll(t, r), r
}

// checkRecords compares what was read with what was written (all from
// file index fileIdx).
func checkRecords(t *testing.T, read []got, want []frame, fileIdx int) {
	t.Helper()
	if len(read) != len(want) {
		t.Fatalf("read %d records, wrote %d", len(read), len(want))
	}
	for i, w := range want {
		g := read[i]
		wire := w.wireLen
		if wire == 0 {
			wire = len(w.data)
		}
		if !g.at.Equal(w.at) || g.link != w.link || !bytes.Equal(g.data, w.data) || g.wireLen != wire || g.file != fileIdx {
			t.Errorf("record %d: got time %v link %v %d bytes (wire %d) file %d; want %v %v %d bytes (wire %d) file %d",
				i, g.at, g.link, len(g.data), g.wireLen, g.file, w.at, w.link, len(w.data), wire, fileIdx)
		}
	}
}

func threeEthernetFrames() []frame {
	return []frame{
		{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(1, 60)},
		{at: t0.Add(1500 * time.Microsecond), link: layers.LinkTypeEthernet, data: payloadOf(2, 1514)},
		// Cut by a 96-byte snaplen on a 1514-byte frame.
		{at: t0.Add(2 * time.Second), link: layers.LinkTypeEthernet, data: payloadOf(3, 96), wireLen: 1514},
	}
}

func TestPcapRecordsComeBackWithTimeLinkTypeAndLengths(t *testing.T) {
	want := threeEthernetFrames()
	path := writeFile(t, "three.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, want...))
	read, r := openAll(t, path)
	checkRecords(t, read, want, 0)
	st := r.Stats()
	if st.Records != 3 || st.Bytes != 60+1514+96 || st.CutShort != 0 || st.OutOfOrder != 0 {
		t.Errorf("stats %+v, want 3 records, %d bytes", st, 60+1514+96)
	}
	if r.Path(0) != path {
		t.Errorf("Path(0) = %q, want %q", r.Path(0), path)
	}
}

func TestPcapLinkTypeOtherThanEthernetIsKept(t *testing.T) {
	for _, link := range []layers.LinkType{layers.LinkTypeRaw, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeNull} {
		want := []frame{{at: t0, link: link, data: payloadOf(4, 40)}}
		path := writeFile(t, "one.pcap", pcapBytes(t, link, false, want...))
		read, _ := openAll(t, path)
		checkRecords(t, read, want, 0)
	}
}

// TestBigEndianPcapIsRead builds a big-endian (0xa1b2c3d4 written MSB
// first, as a SPARC or a big-endian router writes it) pcap by hand.
func TestBigEndianPcapIsRead(t *testing.T) {
	for _, c := range []struct {
		name  string
		magic uint32
		frac  uint32 // fraction field of the record
		want  time.Duration
	}{
		{"microseconds", 0xa1b2c3d4, 250_000, 250 * time.Millisecond},
		{"nanoseconds", 0xa1b23c4d, 123_456_789, 123_456_789},
	} {
		t.Run(c.name, func(t *testing.T) {
			be := binary.BigEndian
			var b []byte
			b = be.AppendUint32(b, c.magic)
			b = be.AppendUint16(b, 2)
			b = be.AppendUint16(b, 4)
			b = be.AppendUint32(b, 0)    // thiszone
			b = be.AppendUint32(b, 0)    // sigfigs
			b = be.AppendUint32(b, 9000) // snaplen
			b = be.AppendUint32(b, uint32(layers.LinkTypeRaw))
			data := payloadOf(0x45, 28)
			b = be.AppendUint32(b, uint32(t0.Unix()))
			b = be.AppendUint32(b, c.frac)
			b = be.AppendUint32(b, uint32(len(data)))
			b = be.AppendUint32(b, 1500)
			b = append(b, data...)
			read, _ := openAll(t, writeFile(t, "be.pcap", b))
			checkRecords(t, read, []frame{{at: t0.Add(c.want), link: layers.LinkTypeRaw, data: data, wireLen: 1500}}, 0)
		})
	}
}

func TestNanosecondPcapKeepsNanoseconds(t *testing.T) {
	want := []frame{
		{at: t0.Add(1), link: layers.LinkTypeEthernet, data: payloadOf(1, 60)},
		{at: t0.Add(999_999_999), link: layers.LinkTypeEthernet, data: payloadOf(2, 60)},
	}
	read, _ := openAll(t, writeFile(t, "ns.pcap", pcapBytes(t, layers.LinkTypeEthernet, true, want...)))
	checkRecords(t, read, want, 0)
	if read[0].at.Nanosecond() != 1 {
		t.Errorf("first record at %d ns past the second, want 1", read[0].at.Nanosecond())
	}
}

func TestPcapngInterfacesKeepTheirOwnLinkTypes(t *testing.T) {
	// Interface 0 is Ethernet, interface 1 raw IP (a tun device), as
	// `dumpcap -i eth0 -i tun0` writes.
	want := []frame{
		{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(1, 60)},
		{at: t0.Add(time.Millisecond), link: layers.LinkTypeRaw, data: payloadOf(0x45, 40)},
		{at: t0.Add(2 * time.Millisecond), link: layers.LinkTypeEthernet, data: payloadOf(2, 1514)},
		{at: t0.Add(3 * time.Millisecond), link: layers.LinkTypeRaw, data: payloadOf(0x60, 60), wireLen: 1280},
	}
	read, _ := openAll(t, writeFile(t, "two-if.pcapng", pcapngBytes(t, want...)))
	checkRecords(t, read, want, 0)
}

func TestGzipCompressedCapturesAreRead(t *testing.T) {
	pcapFrames := threeEthernetFrames()
	ngFrames := []frame{
		{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(1, 60)},
		{at: t0.Add(time.Second), link: layers.LinkTypeRaw, data: payloadOf(0x45, 40)},
	}
	t.Run("pcap.gz", func(t *testing.T) {
		read, _ := openAll(t, writeFile(t, "a.pcap.gz", gzipped(t, pcapBytes(t, layers.LinkTypeEthernet, false, pcapFrames...))))
		checkRecords(t, read, pcapFrames, 0)
	})
	t.Run("ns-pcap.gz", func(t *testing.T) {
		read, _ := openAll(t, writeFile(t, "a.pcap.gz", gzipped(t, pcapBytes(t, layers.LinkTypeEthernet, true, pcapFrames...))))
		checkRecords(t, read, pcapFrames, 0)
	})
	t.Run("pcapng.gz", func(t *testing.T) {
		read, _ := openAll(t, writeFile(t, "a.pcapng.gz", gzipped(t, pcapngBytes(t, ngFrames...))))
		checkRecords(t, read, ngFrames, 0)
	})
	t.Run("gzip-detected-by-content-not-name", func(t *testing.T) {
		read, _ := openAll(t, writeFile(t, "no-suffix.pcap", gzipped(t, pcapBytes(t, layers.LinkTypeEthernet, false, pcapFrames...))))
		checkRecords(t, read, pcapFrames, 0)
	})
}

func TestFilesAreMergedInTimeOrder(t *testing.T) {
	// File 0 has records at 0, 2, 4 ms, file 1 (pcapng, raw IP) at 1, 3 ms
	// and 10 ms, file 2 (gzip) at 2.5 ms: the merge interleaves all three.
	ms := func(f float64) time.Time { return t0.Add(time.Duration(f * float64(time.Millisecond))) }
	a := []frame{
		{at: ms(0), link: layers.LinkTypeEthernet, data: payloadOf(0xa0, 60)},
		{at: ms(2), link: layers.LinkTypeEthernet, data: payloadOf(0xa2, 60)},
		{at: ms(4), link: layers.LinkTypeEthernet, data: payloadOf(0xa4, 60)},
	}
	b := []frame{
		{at: ms(1), link: layers.LinkTypeRaw, data: payloadOf(0xb1, 40)},
		{at: ms(3), link: layers.LinkTypeRaw, data: payloadOf(0xb3, 40)},
		{at: ms(10), link: layers.LinkTypeRaw, data: payloadOf(0xba, 40)},
	}
	c := []frame{{at: ms(2.5), link: layers.LinkTypeEthernet, data: payloadOf(0xc2, 70)}}
	pa := writeFile(t, "a.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, a...))
	pb := writeFile(t, "b.pcapng", pcapngBytes(t, b...))
	pc := writeFile(t, "c.pcap.gz", gzipped(t, pcapBytes(t, layers.LinkTypeEthernet, true, c...)))
	read, r := openAll(t, pa, pb, pc)

	wantOrder := []struct {
		first byte
		file  int
	}{{0xa0, 0}, {0xb1, 1}, {0xa2, 0}, {0xc2, 2}, {0xb3, 1}, {0xa4, 0}, {0xba, 1}}
	if len(read) != len(wantOrder) {
		t.Fatalf("read %d records, want %d", len(read), len(wantOrder))
	}
	for i, w := range wantOrder {
		if read[i].data[0] != w.first || read[i].file != w.file {
			t.Errorf("record %d: %#x from file %d, want %#x from file %d", i, read[i].data[0], read[i].file, w.first, w.file)
		}
		if i > 0 && read[i].at.Before(read[i-1].at) {
			t.Errorf("record %d at %v is before record %d at %v", i, read[i].at, i-1, read[i-1].at)
		}
	}
	for i, p := range []string{pa, pb, pc} {
		if r.Path(i) != p {
			t.Errorf("Path(%d) = %q, want %q", i, r.Path(i), p)
		}
	}
	if st := r.Stats(); st.Records != 7 || st.OutOfOrder != 0 {
		t.Errorf("stats %+v, want 7 records, none out of order", st)
	}
}

func TestOutOfOrderRecordsWithinAFileAreCounted(t *testing.T) {
	fr := []frame{
		{at: t0.Add(time.Second), link: layers.LinkTypeEthernet, data: payloadOf(1, 60)},
		{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(2, 60)},
	}
	read, r := openAll(t, writeFile(t, "ooo.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, fr...)))
	// Within one file the reader keeps file order; it only counts.
	checkRecords(t, read, fr, 0)
	if st := r.Stats(); st.OutOfOrder != 1 {
		t.Errorf("OutOfOrder = %d, want 1", st.OutOfOrder)
	}
}

func TestNonCaptureFilesAreRejectedNamingTheFile(t *testing.T) {
	goodFrames := threeEthernetFrames()
	good := writeFile(t, "good.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, goodFrames...))
	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		content []byte
	}{
		{"notes.txt", []byte("pool: pool.example.org:3333\nthis is not a capture\n")},
		{"empty.pcap", nil},
		{"three-bytes.pcap", []byte{0xd4, 0xc3, 0xb2}},
		{"gzipped-text.pcap.gz", gzipped(t, []byte("hello, not a capture"))},
		{"gzipped-empty.pcap.gz", gzipped(t, nil)},
		{"pcap-header-cut.pcap", pcapBytes(t, layers.LinkTypeEthernet, false)[:20]},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := writeFile(t, c.name, c.content)
			// Alone, the bad file fails Open.
			r, err := capture.Open(bad)
			if err == nil {
				r.Close()
				t.Fatalf("Open(%s) succeeded", bad)
			}
			if !errors.Is(err, capture.ErrNotCapture) || !strings.Contains(err.Error(), bad) {
				t.Errorf("error %q does not wrap ErrNotCapture or does not name %s", err, bad)
			}
			// Among good files (before, between, after them), it is left
			// out and reported; the good files are read whole.
			for _, paths := range [][]string{{bad, good}, {good, bad, good}, {good, bad}} {
				r, err := capture.Open(paths...)
				if err != nil {
					t.Fatalf("Open(%v): %v", paths, err)
				}
				read := readAll(t, r)
				r.Close()
				if want := len(goodFrames) * (len(paths) - 1); len(read) != want {
					t.Errorf("Open(%v) read %d records, want %d", paths, len(read), want)
				}
				errs := r.Errs()
				var fe *capture.FileError
				if len(errs) != 1 || !errors.As(errs[0], &fe) || fe.Path != bad || paths[fe.Index] != bad ||
					!errors.Is(errs[0], capture.ErrNotCapture) || !strings.Contains(errs[0].Error(), bad) {
					t.Errorf("Open(%v): Errs() = %v, want one FileError naming %s", paths, errs, bad)
				}
				if r.Stats().Failed != 1 {
					t.Errorf("Stats().Failed = %d, want 1", r.Stats().Failed)
				}
			}
		})
	}
	// Every file bad: Open fails naming each.
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	os.WriteFile(a, []byte("not a capture"), 0o644)
	os.WriteFile(b, []byte("nor this"), 0o644)
	if r, err := capture.Open(a, b); err == nil {
		r.Close()
		t.Error("Open of two text files succeeded")
	} else if !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Errorf("error %q does not name both files", err)
	}
}

func TestMissingFileFails(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such.pcap")
	r, err := capture.Open(missing)
	if err == nil {
		r.Close()
		t.Fatal("Open of a missing file succeeded")
	}
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, capture.ErrNotCapture) {
		t.Errorf("error %q: want fs.ErrNotExist, not ErrNotCapture", err)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Errorf("error %q does not name %s", err, missing)
	}
	if _, err := capture.Open(); err == nil {
		t.Error("Open() with no paths succeeded")
	}
}

func TestCutShortCaptureKeepsEarlierRecords(t *testing.T) {
	fr := threeEthernetFrames()
	whole := pcapBytes(t, layers.LinkTypeEthernet, false, fr...)
	// The last record is a 16-byte header + 96 bytes of data.
	ng := pcapngBytes(t, fr...)
	for _, c := range []struct {
		name  string
		bytes []byte
	}{
		{"pcap-mid-record-data", whole[:len(whole)-40]},
		{"pcap-mid-record-header", whole[:len(whole)-96-8]},
		{"pcap.gz-mid-record-data", gzipped(t, whole[:len(whole)-40])},
		// A gzip stream cut short, as a killed `tcpdump -w - | gzip` leaves.
		{"gzip-stream-cut", func() []byte { z := gzipped(t, whole); return z[:len(z)-20] }()},
		// pcapng Enhanced Packet Block: 28-byte header, data padded to 4, 4-byte trailer.
		{"pcapng-mid-block", ng[:len(ng)-50]},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "cut.pcap", c.bytes)
			read, r := openAll(t, path)
			if len(read) < 2 {
				t.Fatalf("read %d records, want the 2 before the cut", len(read))
			}
			checkRecords(t, read[:2], fr[:2], 0)
			st := r.Stats()
			if st.CutShort != 1 || len(r.Warnings) != 1 {
				t.Fatalf("CutShort %d, warnings %q; want 1 and 1", st.CutShort, r.Warnings)
			}
			if !strings.Contains(r.Warnings[0], path) {
				t.Errorf("warning %q does not name %s", r.Warnings[0], path)
			}
		})
	}
}

func TestCutShortFileDoesNotStopTheOthers(t *testing.T) {
	fr := threeEthernetFrames()
	whole := pcapBytes(t, layers.LinkTypeEthernet, false, fr...)
	cutPath := writeFile(t, "cut.pcap", whole[:len(whole)-40])
	later := []frame{{at: t0.Add(time.Hour), link: layers.LinkTypeEthernet, data: payloadOf(9, 60)}}
	okPath := writeFile(t, "later.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, later...))
	read, r := openAll(t, cutPath, okPath)
	if len(read) != 3 || read[2].file != 1 || read[2].data[0] != 9 {
		t.Fatalf("read %d records; want 2 from the cut file then 1 from the other", len(read))
	}
	if r.Stats().CutShort != 1 {
		t.Errorf("CutShort = %d, want 1", r.Stats().CutShort)
	}
}

// TestEveryCutPointEndsCleanly cuts a three-record capture at every byte
// past its magic and requires Next to end in io.EOF, never in an error
// (Open may fail for a cut inside the file header; that error is the
// report). A cut anywhere but on a record (pcapng: block) boundary must be
// reported (CutShort 1), and every cut of a gzip stream must be (it lacks
// its trailer, even when no record is lost). pcapgo, the reader this package used
// before, read a pcap cut right after a record header as complete, and
// reported pcapng-in-gzip cuts as "could not discard N bytes" errors.
func TestEveryCutPointEndsCleanly(t *testing.T) {
	// Small frames keep the number of cut points (and the test) small.
	fr := []frame{
		{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(1, 60)},
		{at: t0.Add(time.Millisecond), link: layers.LinkTypeEthernet, data: payloadOf(2, 78)},
		{at: t0.Add(time.Second), link: layers.LinkTypeEthernet, data: payloadOf(3, 42), wireLen: 1514},
	}
	pc, ng := pcapBytes(t, layers.LinkTypeEthernet, false, fr...), pcapngBytes(t, fr...)
	// Record boundaries: after the 24-byte pcap header and each 16-byte
	// record header + data; after each pcapng block.
	pcBounds := map[int]bool{24: true}
	for off, i := 24, 0; i < len(fr); i++ {
		off += 16 + len(fr[i].data)
		pcBounds[off] = true
	}
	ngBounds := map[int]bool{}
	for _, off := range ngBlocks(ng) {
		ngBounds[off] = true
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		whole  []byte
		gz     bool
		bounds map[int]bool
	}{
		{"pcap", pc, false, pcBounds},
		{"pcapng", ng, false, ngBounds},
		{"pcap.gz", gzipped(t, pc), true, nil},
		{"pcapng.gz", gzipped(t, ng), true, nil},
	} {
		path := filepath.Join(dir, c.name)
		opened, silent := 0, 0
		for n := 4; n < len(c.whole); n++ {
			if err := os.WriteFile(path, c.whole[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := capture.Open(path)
			if err != nil {
				continue
			}
			opened++
			var rec capture.Record
			k := 0
			for err = r.Next(&rec); err == nil; err = r.Next(&rec) {
				k++
			}
			cutShort := r.Stats().CutShort
			r.Close()
			mustKnow := c.gz || !c.bounds[n] // a gzip stream cut anywhere lacks its trailer
			switch {
			case !errors.Is(err, io.EOF):
				t.Errorf("%s cut at %d of %d bytes: Next after %d records: %v", c.name, n, len(c.whole), k, err)
			case mustKnow && cutShort != 1:
				t.Errorf("%s cut at %d of %d bytes: %d records and CutShort %d, want 1", c.name, n, len(c.whole), k, cutShort)
			case !mustKnow && cutShort != 0:
				t.Errorf("%s cut on a boundary at %d of %d bytes: CutShort %d, want 0", c.name, n, len(c.whole), cutShort)
			case cutShort == 0 && k < len(fr):
				silent++
			}
		}
		if opened == 0 {
			t.Errorf("%s: no cut point opened", c.name)
		}
		t.Logf("%s: %d cut points opened, %d read as complete", c.name, opened, silent)
	}
}
