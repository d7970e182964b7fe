package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// readerOf opens in-memory captures as the files of one Reader.
func readerOf(contents ...[]byte) (*Reader, error) {
	names := make([]string, len(contents))
	for i := range names {
		names[i] = "fuzz"
	}
	return openFiles(names, func(f *file) error { return f.start(bytes.NewReader(contents[f.index])) })
}

// fuzzSeeds are small captures of every shape the reader knows, whole,
// gzipped, cut and damaged.
func fuzzSeeds(tb testing.TB) [][]byte {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	frames := [][]byte{bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{0x45}, 40), bytes.Repeat([]byte{3}, 90)}
	var pc, pcNs, ng bytes.Buffer
	for i, b := range []*bytes.Buffer{&pc, &pcNs} {
		w := pcapgo.NewWriter(b)
		if i == 1 {
			w = pcapgo.NewWriterNanos(b)
		}
		w.WriteFileHeader(65535, layers.LinkTypeEthernet)
		for j, fr := range frames {
			w.WritePacket(gopacket.CaptureInfo{Timestamp: at.Add(time.Duration(j) * time.Millisecond), CaptureLength: len(fr), Length: len(fr) + j}, fr)
		}
	}
	intf := pcapgo.DefaultNgInterface
	nw, err := pcapgo.NewNgWriterInterface(&ng, intf, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		tb.Fatal(err)
	}
	intf.LinkType = layers.LinkTypeRaw
	id, _ := nw.AddInterface(intf)
	for j, fr := range frames {
		nw.WritePacket(gopacket.CaptureInfo{Timestamp: at.Add(time.Duration(j) * time.Second), CaptureLength: len(fr), Length: len(fr), InterfaceIndex: j % (id + 1)}, fr)
	}
	nw.Flush()
	// pcap 2.1 big-endian, as nDPI's nfsv2.pcap.
	be := binary.BigEndian
	old := be.AppendUint32(nil, 0xa1b2c3d4)
	old = be.AppendUint16(old, 2)
	old = be.AppendUint16(old, 1)
	old = append(old, make([]byte, 8)...)
	old = be.AppendUint32(old, 96)
	old = be.AppendUint32(old, 1)
	old = be.AppendUint32(old, uint32(at.Unix()))
	old = be.AppendUint32(old, 5)
	old = be.AppendUint32(old, 60)
	old = be.AppendUint32(old, 40) // swapped lengths
	old = append(old, frames[0]...)
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	corrupt := bytes.Clone(ng.Bytes())
	binary.LittleEndian.PutUint32(corrupt[len(corrupt)-100:], 0x7ffffff0)
	var seeds [][]byte
	for _, whole := range [][]byte{pc.Bytes(), pcNs.Bytes(), ng.Bytes(), old, corrupt} {
		seeds = append(seeds, whole, whole[:len(whole)-7], whole[:len(whole)/2], gz(whole))
	}
	return seeds
}

// FuzzReader reads fuzzed bytes as one capture and, merged with itself,
// as two: nothing may panic, no record may exceed MaxRecordLen, the
// counters must agree with what was returned, and reading must allocate
// a bounded amount whatever the headers claim (the 4 GB record).
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		r, err := readerOf(in, in)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		var rec Record
		n, bytesRead := int64(0), int64(0)
		for {
			err := r.Next(&rec)
			if err == io.EOF {
				break
			}
			var fe *FileError
			if errors.As(err, &fe) {
				continue
			}
			if err != nil {
				t.Fatalf("Next: %v is neither io.EOF nor a FileError", err)
			}
			if len(rec.Data) > MaxRecordLen {
				t.Fatalf("record of %d bytes, over MaxRecordLen", len(rec.Data))
			}
			if rec.File != 0 && rec.File != 1 {
				t.Fatalf("record from file %d", rec.File)
			}
			n++
			bytesRead += int64(len(rec.Data))
		}
		r.Close()
		runtime.ReadMemStats(&m1)
		st := r.Stats()
		if st.Records != n || st.Bytes != bytesRead || st.Failed != len(r.Errs()) || st.Failed > 2 {
			t.Fatalf("stats %+v after %d records of %d bytes, %d errors", st, n, bytesRead, len(r.Errs()))
		}
		// Two files: two look-ahead buffers of at most maxPeek (plus their
		// growth copies) and gzip's state each.
		if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 8<<20 {
			t.Fatalf("reading %d bytes allocated %d bytes", len(in), alloc)
		}
	})
}
