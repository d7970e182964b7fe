package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/capture"
)

// pcapHeader is a classic pcap file header written by hand, so versions
// and byte orders pcapgo cannot write are covered.
func pcapHeader(order binary.AppendByteOrder, magic uint32, major, minor uint16, link layers.LinkType) []byte {
	var b []byte
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, major)
	b = order.AppendUint16(b, minor)
	b = order.AppendUint32(b, 0)     // thiszone
	b = order.AppendUint32(b, 0)     // sigfigs
	b = order.AppendUint32(b, 65535) // snaplen
	return order.AppendUint32(b, uint32(link))
}

// pcapRecordHeader is a record header with the two lengths as given.
func pcapRecordHeader(order binary.AppendByteOrder, at time.Time, first, second uint32) []byte {
	var b []byte
	b = order.AppendUint32(b, uint32(at.Unix()))
	b = order.AppendUint32(b, uint32(at.Nanosecond()/1000))
	b = order.AppendUint32(b, first)
	return order.AppendUint32(b, second)
}

// allocatedBy returns how many heap bytes fn allocated.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestRecordBombsAllocateWhatTheFileHolds gives the reader headers that
// claim far more than the file holds (the 4 MB .pcap.gz whose one
// record claims a 4 GB caplen took 16.8 GB with pcapgo). The reader must
// stop at the end of the bytes, report the file as cut short, and
// allocate about what the file holds, not what it claims.
func TestRecordBombsAllocateWhatTheFileHolds(t *testing.T) {
	le := binary.LittleEndian
	good := payloadOf(7, 60)
	withGood := func(b []byte) []byte {
		return append(append(b, pcapRecordHeader(le, t0, uint32(len(good)), uint32(len(good)))...), good...)
	}
	// 4 MB of zeros after the header: the gzip file is a few KB.
	zeros := make([]byte, 4<<20)
	pcapBomb := withGood(pcapHeader(le, 0xa1b2c3d4, 2, 4, layers.LinkTypeEthernet))
	pcapBomb = append(append(pcapBomb, pcapRecordHeader(le, t0.Add(time.Second), 0xffffffff, 0xffffffff)...), zeros...)
	// The same in pcapng: an EPB whose block length and caplen agree on
	// almost 4 GB.
	ng := pcapngBytes(t, frame{at: t0, link: layers.LinkTypeEthernet, data: good})
	var epb []byte
	epb = le.AppendUint32(epb, 6)
	epb = le.AppendUint32(epb, 0xfffffff0)
	epb = le.AppendUint32(epb, 0) // interface
	epb = le.AppendUint32(epb, 0)
	epb = le.AppendUint32(epb, 0)
	epb = le.AppendUint32(epb, 0xfffffff0-32)
	epb = le.AppendUint32(epb, 0xfffffff0-32)
	ngBomb := append(append(ng, epb...), zeros...)
	// A record that claims 250 KiB (under the limit) in a file that holds
	// 100 bytes of it.
	short := withGood(pcapHeader(le, 0xa1b2c3d4, 2, 4, layers.LinkTypeEthernet))
	short = append(append(short, pcapRecordHeader(le, t0, 250<<10, 250<<10)...), payloadOf(1, 100)...)

	for _, c := range []struct {
		name     string
		content  []byte
		maxAlloc uint64
	}{
		// gzip's own state is ~100 KB; the two look-ahead buffers start
		// at 64 KiB each.
		{"pcap.gz 4 GB caplen", gzipped(t, pcapBomb), 1 << 20},
		{"pcapng.gz 4 GB block", gzipped(t, ngBomb), 1 << 20},
		{"pcap 4 GB caplen", pcapBomb, 256 << 10},
		{"pcap 250 KiB claimed, 100 bytes held", short, 128 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "bomb", c.content)
			var read []got
			var r *capture.Reader
			start := time.Now()
			alloc := allocatedBy(func() {
				var err error
				if r, err = capture.Open(path); err != nil {
					t.Fatal(err)
				}
				read = readAll(t, r)
				r.Close()
			})
			if len(read) != 1 || !bytes.Equal(read[0].data, good) {
				t.Errorf("read %d records, want the one good record before the bomb", len(read))
			}
			if st := r.Stats(); st.CutShort != 1 {
				t.Errorf("stats %+v, want CutShort 1 (the file ends inside the claimed record)", st)
			}
			if alloc > c.maxAlloc {
				t.Errorf("reading a %d-byte file allocated %d bytes, want at most %d", len(c.content), alloc, c.maxAlloc)
			}
			t.Logf("%d-byte file: %d bytes allocated, %v", len(c.content), alloc, time.Since(start))
		})
	}
}

// TestOversizeRecordsAreSkippedAndReadingGoesOn puts a 300 KiB record
// (over MaxRecordLen) between good ones, in pcap and pcapng.
func TestOversizeRecordsAreSkippedAndReadingGoesOn(t *testing.T) {
	big := payloadOf(0xbb, capture.MaxRecordLen+1)
	fr := []frame{
		{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(1, 60)},
		{at: t0.Add(time.Millisecond), link: layers.LinkTypeEthernet, data: big},
		{at: t0.Add(2 * time.Millisecond), link: layers.LinkTypeEthernet, data: payloadOf(2, 1514)},
		{at: t0.Add(3 * time.Millisecond), link: layers.LinkTypeEthernet, data: payloadOf(3, capture.MaxRecordLen)}, // at the limit: kept
		{at: t0.Add(4 * time.Millisecond), link: layers.LinkTypeEthernet, data: big},
		{at: t0.Add(5 * time.Millisecond), link: layers.LinkTypeEthernet, data: payloadOf(4, 60)},
	}
	want := []frame{fr[0], fr[2], fr[3], fr[5]}
	// pcapgo's writer refuses records over the snaplen; write pcap by hand.
	le := binary.LittleEndian
	pc := pcapHeader(le, 0xa1b2c3d4, 2, 4, layers.LinkTypeEthernet)
	for _, f := range fr {
		pc = append(append(pc, pcapRecordHeader(le, f.at, uint32(len(f.data)), uint32(len(f.data)))...), f.data...)
	}
	for _, c := range []struct {
		name    string
		content []byte
	}{
		{"pcap", pc},
		{"pcap.gz", gzipped(t, pc)},
		{"pcapng", pcapngBytes(t, fr...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "big", c.content)
			read, r := openAll(t, path)
			checkRecords(t, read, want, 0)
			st := r.Stats()
			if st.Oversize != 2 || st.CutShort != 0 || st.Corrupt != 0 {
				t.Errorf("stats %+v, want Oversize 2 and nothing else", st)
			}
			if len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0], path) || !strings.Contains(r.Warnings[0], "limit") {
				t.Errorf("warnings %q, want two naming %s and the limit", r.Warnings, path)
			}
		})
	}
}

// TestOldPcapVersionsAreRead covers what libpcap reads and pcapgo refused:
// versions 2.0 to 2.3, including nDPI's nfsv2.pcap shape (2.1,
// big-endian), and libpcap's rule that before 2.4 the two lengths may be
// swapped (2.3 always swapped them; earlier writers sometimes did, which
// shows as caplen > len).
func TestOldPcapVersionsAreRead(t *testing.T) {
	data := payloadOf(0x45, 40)
	for _, c := range []struct {
		name          string
		order         binary.AppendByteOrder
		minor         uint16
		first, second uint32 // the two length fields as written
	}{
		{"2.1 big-endian (nfsv2.pcap)", binary.BigEndian, 1, 40, 1500},
		{"2.0 little-endian", binary.LittleEndian, 0, 40, 1500},
		{"2.2 lengths swapped by the writer", binary.LittleEndian, 2, 1500, 40},
		{"2.3 lengths swapped by the format", binary.BigEndian, 3, 1500, 40},
		{"2.4", binary.BigEndian, 4, 40, 1500},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := pcapHeader(c.order, 0xa1b2c3d4, 2, c.minor, layers.LinkTypeRaw)
			b = append(append(b, pcapRecordHeader(c.order, t0, c.first, c.second)...), data...)
			b = append(append(b, pcapRecordHeader(c.order, t0.Add(time.Second), c.first, c.second)...), data...)
			read, _ := openAll(t, writeFile(t, "old.pcap", b))
			checkRecords(t, read, []frame{
				{at: t0, link: layers.LinkTypeRaw, data: data, wireLen: 1500},
				{at: t0.Add(time.Second), link: layers.LinkTypeRaw, data: data, wireLen: 1500},
			}, 0)
		})
	}
	for _, v := range [][2]uint16{{1, 0}, {2, 5}, {3, 0}} {
		b := pcapHeader(binary.LittleEndian, 0xa1b2c3d4, v[0], v[1], layers.LinkTypeRaw)
		path := writeFile(t, "future.pcap", b)
		if r, err := capture.Open(path); err == nil {
			r.Close()
			t.Errorf("version %d.%d accepted", v[0], v[1])
		} else if !strings.Contains(err.Error(), "version") || !strings.Contains(err.Error(), path) {
			t.Errorf("version %d.%d: error %q does not name the version and the file", v[0], v[1], err)
		}
	}
}

// ngBlocks returns the offsets of the blocks of a little-endian pcapng.
func ngBlocks(b []byte) (offs []int) {
	for off := 0; off+8 <= len(b); {
		offs = append(offs, off)
		off += int(binary.LittleEndian.Uint32(b[off+4:]))
	}
	return offs
}

// TestCorruptPcapngBlockLengthIsResynchronised corrupts one block length
// in a 100-record pcapng. pcapgo lost the 97 records behind it with a
// "cut short" warning; the reader must skip the one bad block, count it
// and go on.
func TestCorruptPcapngBlockLengthIsResynchronised(t *testing.T) {
	var fr []frame
	for i := range 100 {
		fr = append(fr, frame{at: t0.Add(time.Duration(i) * time.Millisecond), link: layers.LinkTypeEthernet, data: payloadOf(byte(i), 60+i)})
	}
	whole := pcapngBytes(t, fr...)
	offs := ngBlocks(whole)
	// Blocks: SHB, IDB, then one EPB per frame; corrupt the third EPB.
	bad := offs[2+2]
	for _, c := range []struct {
		name   string
		length uint32
	}{
		{"longer", 0x7ffffff0},
		{"a bit longer", binary.LittleEndian.Uint32(whole[bad+4:]) + 64},
		{"shorter", 16},
		{"not a multiple of 4", 0x95},
		{"zero", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(whole)
			binary.LittleEndian.PutUint32(b[bad+4:], c.length)
			for _, gz := range []bool{false, true} {
				content := b
				if gz {
					content = gzipped(t, b)
				}
				path := writeFile(t, "corrupt.pcapng", content)
				read, r := openAll(t, path)
				want := append(append([]frame(nil), fr[:2]...), fr[3:]...)
				checkRecords(t, read, want, 0)
				st := r.Stats()
				if st.Corrupt != 1 || st.CutShort != 0 || len(r.Errs()) != 0 {
					t.Errorf("gzip %v: stats %+v, errs %v; want Corrupt 1 only", gz, st, r.Errs())
				}
				if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "offset") || !strings.Contains(r.Warnings[0], path) {
					t.Errorf("gzip %v: warnings %q, want one naming the file and the offset", gz, r.Warnings)
				}
			}
		})
	}
	// The last block corrupt: nothing valid follows, and that is an
	// error saying where, not a clean end.
	t.Run("last block", func(t *testing.T) {
		b := bytes.Clone(whole)
		last := offs[len(offs)-1]
		binary.LittleEndian.PutUint32(b[last+4:], 0x40)
		path := writeFile(t, "corrupt-end.pcapng", b)
		r, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var rec capture.Record
		n := 0
		for err = r.Next(&rec); err == nil; err = r.Next(&rec) {
			n++
		}
		var fe *capture.FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "offset") || !strings.Contains(err.Error(), path) {
			t.Fatalf("after %d records: %v; want a FileError naming the file and the offset", n, err)
		}
		if n != 99 || fe.Records != 99 {
			t.Errorf("read %d records (error says %d), want the 99 before the bad block", n, fe.Records)
		}
		if err := r.Next(&rec); err != io.EOF {
			t.Errorf("Next after the file error: %v, want io.EOF", err)
		}
		if len(r.Errs()) != 1 || r.Stats().Failed != 1 {
			t.Errorf("Errs %v, Failed %d; want the one error", r.Errs(), r.Stats().Failed)
		}
	})
}

// ngBlock frames a pcapng block body (padded to 4 bytes).
func ngBlock(o binary.AppendByteOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	var b []byte
	b = o.AppendUint32(b, typ)
	b = o.AppendUint32(b, uint32(len(body)+12))
	b = append(b, body...)
	return o.AppendUint32(b, uint32(len(body)+12))
}

// ngSHB is a Section Header Block in byte order o.
func ngSHB(o binary.AppendByteOrder) []byte {
	var body []byte
	body = o.AppendUint32(body, 0x1a2b3c4d)
	body = o.AppendUint16(body, 1)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint64(body, ^uint64(0))
	return ngBlock(o, 0x0a0d0d0a, body)
}

// ngIDB is an Interface Description Block with if_tsresol (when not 0)
// and if_tsoffset (when not 0).
func ngIDB(o binary.AppendByteOrder, link layers.LinkType, tsresol byte, tsoffset int64) []byte {
	var body []byte
	body = o.AppendUint16(body, uint16(link))
	body = o.AppendUint16(body, 0)
	body = o.AppendUint32(body, 0)
	if tsresol != 0 {
		body = o.AppendUint16(body, 9)
		body = o.AppendUint16(body, 1)
		body = append(body, tsresol, 0, 0, 0)
	}
	if tsoffset != 0 {
		body = o.AppendUint16(body, 14)
		body = o.AppendUint16(body, 8)
		body = o.AppendUint64(body, uint64(tsoffset))
	}
	if tsresol != 0 || tsoffset != 0 {
		body = o.AppendUint32(body, 0) // opt_endofopt
	}
	return ngBlock(o, 1, body)
}

// ngPacket is an Enhanced (typ 6) or obsolete (typ 2) Packet Block.
func ngPacket(o binary.AppendByteOrder, typ uint32, ifc uint32, ts uint64, data []byte, wire uint32) []byte {
	var body []byte
	if typ == 6 {
		body = o.AppendUint32(body, ifc)
	} else {
		body = o.AppendUint16(body, uint16(ifc))
		body = o.AppendUint16(body, 0)
	}
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(data)))
	body = o.AppendUint32(body, wire)
	return ngBlock(o, typ, append(body, data...))
}

// ngSPB is a Simple Packet Block.
func ngSPB(o binary.AppendByteOrder, data []byte) []byte {
	return ngBlock(o, 3, append(o.AppendUint32(nil, uint32(len(data))), data...))
}

// TestSeveralSectionsAndBigEndianPcapng reads a pcapng whose second section
// is big-endian with its own interface (mergecap of captures from two
// machines), with a nanosecond interface, a Simple Packet Block, an
// obsolete Packet Block and an unknown block in between.
func TestSeveralSectionsAndBigEndianPcapng(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	us := uint64(t0.UnixMicro())
	ns := uint64(t0.UnixNano())
	var b []byte
	b = append(b, ngSHB(le)...)
	b = append(b, ngIDB(le, layers.LinkTypeEthernet, 0, 0)...)
	b = append(b, ngPacket(le, 6, 0, us, payloadOf(1, 60), 60)...)
	b = append(b, ngSPB(le, payloadOf(2, 61))...)
	b = append(b, ngBlock(le, 0x80000123, []byte("local-use block, skipped"))...)
	b = append(b, ngSHB(be)...)
	b = append(b, ngIDB(be, layers.LinkTypeRaw, 9, 0)...)
	b = append(b, ngPacket(be, 6, 0, ns+5, payloadOf(3, 40), 1500)...)
	b = append(b, ngPacket(be, 2, 0, ns+7, payloadOf(4, 41), 41)...)
	read, r := openAll(t, writeFile(t, "sections.pcapng", b))
	checkRecords(t, read, []frame{
		{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(1, 60)},
		{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(2, 61)}, // no time: the previous record's
		{at: t0.Add(5), link: layers.LinkTypeRaw, data: payloadOf(3, 40), wireLen: 1500},
		{at: t0.Add(7), link: layers.LinkTypeRaw, data: payloadOf(4, 41)},
	}, 0)
	if st := r.Stats(); st.Corrupt != 0 || st.CutShort != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestPcapngTimestampResolutionsAndOffset: if_tsresol in powers of 10
// and of 2, and if_tsoffset (seconds added to every timestamp).
func TestPcapngTimestampResolutionsAndOffset(t *testing.T) {
	le := binary.LittleEndian
	for _, c := range []struct {
		name    string
		tsresol byte
		offset  int64
		ts      uint64
		want    time.Time
	}{
		{"default microseconds", 0, 0, 1_700_000_000_250_000, time.Unix(1_700_000_000, 250_000_000)},
		{"milliseconds", 3, 0, 1_700_000_000_250, time.Unix(1_700_000_000, 250_000_000)},
		{"nanoseconds", 9, 0, 1_700_000_000_000_000_001, time.Unix(1_700_000_000, 1)},
		// 2^-10 s units: 512 of them are half a second.
		{"binary 2^-10", 0x80 | 10, 0, 1_700_000_000<<10 | 512, time.Unix(1_700_000_000, 500_000_000)},
		{"seconds with an offset", 0x80 | 0, 1_000, 1_699_999_000, time.Unix(1_700_000_000, 0)},
		{"negative offset", 6, -3600, 1_700_003_600_000_000, time.Unix(1_700_000_000, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b []byte
			b = append(b, ngSHB(le)...)
			b = append(b, ngIDB(le, layers.LinkTypeRaw, c.tsresol, c.offset)...)
			b = append(b, ngPacket(le, 6, 0, c.ts, payloadOf(0x45, 20), 20)...)
			read, _ := openAll(t, writeFile(t, "ts.pcapng", b))
			checkRecords(t, read, []frame{{at: c.want, link: layers.LinkTypeRaw, data: payloadOf(0x45, 20)}}, 0)
		})
	}
}

// TestModifiedPcapIsRead reads the 24-byte record headers of Alexey
// Kuznetzov's patched libpcap (magic 0xa1b2cd34), which libpcap reads too.
func TestModifiedPcapIsRead(t *testing.T) {
	le := binary.LittleEndian
	b := pcapHeader(le, 0xa1b2cd34, 2, 4, layers.LinkTypeEthernet)
	for i := range 2 {
		data := payloadOf(byte(i+1), 60)
		b = append(b, pcapRecordHeader(le, t0.Add(time.Duration(i)*time.Second), 60, 60)...)
		b = append(b, 2, 0, 0, 0, 0, 8, 0, 0) // ifindex, protocol, pkt_type, pad
		b = append(b, data...)
	}
	read, _ := openAll(t, writeFile(t, "kuznetzov.pcap", b))
	checkRecords(t, read, []frame{
		{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(1, 60)},
		{at: t0.Add(time.Second), link: layers.LinkTypeEthernet, data: payloadOf(2, 60)},
	}, 0)
}

// TestInterfaceBlockFloodIsBounded: gzip makes millions of identical
// interface blocks cost a few KB; the reader must refuse a section with
// more interfaces than a packet block can name instead of growing its
// interface table without bound.
func TestInterfaceBlockFloodIsBounded(t *testing.T) {
	le := binary.LittleEndian
	idb := ngIDB(le, layers.LinkTypeEthernet, 0, 0)
	b := append(ngSHB(le), ngIDB(le, layers.LinkTypeEthernet, 0, 0)...)
	b = append(b, ngPacket(le, 6, 0, uint64(t0.UnixMicro()), payloadOf(1, 60), 60)...)
	b = append(b, bytes.Repeat(idb, 1<<18)...)
	path := writeFile(t, "idb-flood.pcapng.gz", gzipped(t, b))
	var errs []error
	var read []got
	alloc := allocatedBy(func() {
		r, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var rec capture.Record
		for err = r.Next(&rec); err != io.EOF; err = r.Next(&rec) {
			if err == nil {
				read = append(read, got{data: bytes.Clone(rec.Data)})
			}
		}
		errs = r.Errs()
		r.Close()
	})
	if len(read) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "interfaces") || !strings.Contains(errs[0].Error(), path) {
		t.Errorf("read %d records, errors %v; want the one record and an error about interfaces", len(read), errs)
	}
	// The table ends at 65536 × 32 B = 2 MiB; TotalAlloc also counts its
	// growth copies (append grows by 1.25× at this size: about 5× in all).
	// Without the cap, the 5 MB of blocks here would cost 8 MiB (40 in all),
	// and a 4 MB gzip of them 200 million entries.
	if alloc > 16<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
}

// TestPacketsOfALostInterfaceAreSkippedAndTheRestRead: when an interface
// block is lost (a corrupt length resynchronised over) or unusable (too
// short, an unsupported resolution), the packets that name it are skipped
// and counted one by one, and the packets of the other interfaces are read
// with their own link types; before, the first such packet ended the file.
func TestPacketsOfALostInterfaceAreSkippedAndTheRestRead(t *testing.T) {
	le := binary.LittleEndian
	us := uint64(t0.UnixMicro())
	eth, raw := payloadOf(0xe0, 60), payloadOf(0x45, 40)
	build := func(third []byte) []byte {
		var b []byte
		b = append(b, ngSHB(le)...)
		b = append(b, ngIDB(le, layers.LinkTypeEthernet, 0, 0)...)
		b = append(b, ngIDB(le, layers.LinkTypeRaw, 0, 0)...)
		b = append(b, third...)
		for i := range 6 {
			b = append(b, ngPacket(le, 6, uint32(i%3), us+uint64(i), [][]byte{eth, raw, eth}[i%3], 60)...)
		}
		return b
	}
	want := []frame{
		{at: t0, link: layers.LinkTypeEthernet, data: eth, wireLen: 60},
		{at: t0.Add(time.Microsecond), link: layers.LinkTypeRaw, data: raw, wireLen: 60},
		{at: t0.Add(3 * time.Microsecond), link: layers.LinkTypeEthernet, data: eth, wireLen: 60},
		{at: t0.Add(4 * time.Microsecond), link: layers.LinkTypeRaw, data: raw, wireLen: 60},
	}
	lost := build(ngIDB(le, layers.LinkTypeEthernet, 0, 0))
	at := len(ngSHB(le)) + 2*len(ngIDB(le, layers.LinkTypeEthernet, 0, 0))
	binary.LittleEndian.PutUint32(lost[at+4:], 0xfff0)
	for _, c := range []struct {
		name        string
		content     []byte
		wantCorrupt int64
	}{
		// One region resynchronised over, then the two packets naming
		// interface 2.
		{"interface block with a corrupt length", lost, 3},
		// A well-framed but too short description, and one with a
		// resolution of 10^-30 s: the block, then the two packets.
		{"interface block too short", build(ngBlock(le, 1, []byte{1, 0})), 3},
		{"unsupported resolution", build(ngIDB(le, layers.LinkTypeEthernet, 30, 0)), 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "lost-if.pcapng", c.content)
			read, r := openAll(t, path)
			checkRecords(t, read, want, 0)
			if st := r.Stats(); st.Corrupt != c.wantCorrupt || len(r.Errs()) != 0 {
				t.Errorf("stats %+v, errors %v; want Corrupt %d and no error", st, r.Errs(), c.wantCorrupt)
			}
			if len(r.Warnings) == 0 || !strings.Contains(strings.Join(r.Warnings, "\n"), "interface 2") {
				t.Errorf("warnings %q do not name interface 2", r.Warnings)
			}
		})
	}
}

// TestFIFOIsReadOnce reads a capture from a named pipe, as
// `minerwatch flows -r <(zcat x.pcap.gz)` or a FIFO fed by tcpdump does:
// the bytes can be read once only, so a reader that opens the input
// twice hangs or sees nothing.
func TestFIFOIsReadOnce(t *testing.T) {
	want := threeEthernetFrames()
	for _, c := range []struct {
		name    string
		content []byte
	}{
		{"pcap", pcapBytes(t, layers.LinkTypeEthernet, false, want...)},
		{"pcap.gz", gzipped(t, pcapBytes(t, layers.LinkTypeEthernet, false, want...))},
	} {
		t.Run(c.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "in.fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			done := make(chan error, 1)
			go func() {
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					done <- err
					return
				}
				_, err = w.Write(c.content)
				w.Close()
				done <- err
			}()
			read, _ := openAll(t, fifo)
			checkRecords(t, read, want, 0)
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("writer still blocked")
			}
		})
	}
}

func TestDirectoryIsRefusedAsADirectory(t *testing.T) {
	dir := t.TempDir()
	r, err := capture.Open(dir)
	if err == nil {
		r.Close()
		t.Fatal("Open of a directory succeeded")
	}
	if !strings.Contains(err.Error(), "is a directory") || !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q, want one naming %s as a directory", err, dir)
	}
}

// TestCorruptGzipMidFileStopsThatFileOnly damages the compressed data of
// one file in the middle: its records up to the damage are kept, Next
// reports its FileError once, and the other file is read to its end.
func TestCorruptGzipMidFileStopsThatFileOnly(t *testing.T) {
	var fr []frame
	for i := range 2000 {
		// Varied bytes so the compressed stream is long enough to damage.
		d := make([]byte, 200)
		for j := range d {
			d[j] = byte(i*7 + j*j)
		}
		fr = append(fr, frame{at: t0.Add(time.Duration(i) * time.Millisecond), link: layers.LinkTypeEthernet, data: d})
	}
	z := gzipped(t, pcapBytes(t, layers.LinkTypeEthernet, false, fr...))
	for i := len(z) / 2; i < len(z)/2+64; i++ {
		z[i] ^= 0x5a
	}
	badPath := writeFile(t, "damaged.pcap.gz", z)
	other := []frame{{at: t0.Add(time.Hour), link: layers.LinkTypeRaw, data: payloadOf(0x45, 40)}}
	okPath := writeFile(t, "ok.pcap", pcapBytes(t, layers.LinkTypeRaw, false, other...))
	r, err := capture.Open(badPath, okPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var (
		rec       capture.Record
		fromBad   int
		fromOK    int
		fileErrs  int
		otherErrs []error
	)
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		var fe *capture.FileError
		switch {
		case errors.As(err, &fe):
			fileErrs++
			if fe.Path != badPath || !strings.Contains(err.Error(), "offset") {
				t.Errorf("file error %q, want one naming %s and the offset", err, badPath)
			}
		case err != nil:
			otherErrs = append(otherErrs, err)
		case rec.File == 0:
			fromBad++
		default:
			fromOK++
		}
	}
	if fileErrs != 1 || len(otherErrs) != 0 || len(r.Errs()) != 1 {
		t.Errorf("%d file errors, other errors %v, Errs %v; want exactly one file error", fileErrs, otherErrs, r.Errs())
	}
	if fromBad == 0 || fromBad >= len(fr) || fromOK != 1 {
		t.Errorf("read %d of %d records before the damage and %d of 1 from the other file", fromBad, len(fr), fromOK)
	}
}

// TestNextAllocatesNothingPerRecord: the reader reuses one buffer per
// file, so reading records costs no allocation in steady state.
func TestNextAllocatesNothingPerRecord(t *testing.T) {
	var fr []frame
	for i := range 3000 {
		fr = append(fr, frame{at: t0.Add(time.Duration(i) * time.Millisecond), link: layers.LinkTypeEthernet, data: payloadOf(byte(i), 60+i%1400)})
	}
	for _, c := range []struct {
		name    string
		content []byte
	}{
		{"pcap", pcapBytes(t, layers.LinkTypeEthernet, false, fr...)},
		{"pcapng", pcapngBytes(t, fr...)},
		{"pcap.gz", gzipped(t, pcapBytes(t, layers.LinkTypeEthernet, false, fr...))},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := writeFile(t, "a", c.content), writeFile(t, "b", c.content)
			r, err := capture.Open(a, b)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var rec capture.Record
			for range 100 { // warm up: buffers grown
				r.Next(&rec)
			}
			allocs := testing.AllocsPerRun(2000, func() {
				if err := r.Next(&rec); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%.2f allocations per record, want 0", allocs)
			}
		})
	}
}

func BenchmarkNext(b *testing.B) {
	var fr []frame
	var bytesTotal int64
	for i := range 10000 {
		d := payloadOf(byte(i), 60+(i*37)%1455)
		bytesTotal += int64(len(d))
		fr = append(fr, frame{at: t0.Add(time.Duration(i) * time.Millisecond), link: layers.LinkTypeEthernet, data: d})
	}
	for _, c := range []struct {
		name    string
		content []byte
	}{
		{"pcap", pcapBytes(b, layers.LinkTypeEthernet, false, fr...)},
		{"pcapng", pcapngBytes(b, fr...)},
		{"pcap.gz", gzipped(b, pcapBytes(b, layers.LinkTypeEthernet, false, fr...))},
	} {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench")
			if err := os.WriteFile(path, c.content, 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for b.Loop() {
				r, err := capture.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				var rec capture.Record
				n := 0
				for r.Next(&rec) == nil {
					n++
				}
				r.Close()
				if n != len(fr) {
					b.Fatalf("read %d records, want %d", n, len(fr))
				}
			}
			runtime.ReadMemStats(&m1)
			recs := float64(len(fr)) * float64(b.N)
			b.ReportMetric(recs/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/recs, "allocs/record")
			b.ReportMetric(float64(bytesTotal)*float64(b.N)*8/b.Elapsed().Seconds()/1e9, "Gbit/s")
		})
	}
}
