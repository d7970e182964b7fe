package capture_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// pcapgoRecords reads a capture with gopacket's pcapgo, the reader this
// package replaced, as the reference. It returns the records read before
// pcapgo stopped, and pcapgo's error (nil at a clean end).
func pcapgoRecords(t *testing.T, path string) ([]got, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var src io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, err
		}
		src = zr
	}
	br := bufio.NewReader(src)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, err
	}
	var (
		next func() ([]byte, gopacket.CaptureInfo, error)
		link func(ci gopacket.CaptureInfo) layers.LinkType
	)
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, err
		}
		next = ng.ReadPacketData
		link = func(ci gopacket.CaptureInfo) layers.LinkType {
			intf, _ := ng.Interface(ci.InterfaceIndex)
			return intf.LinkType
		}
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, err
		}
		pr.SetSnaplen(capture.MaxRecordLen) // pcapgo refuses records over the header's snaplen; tcpdump does not
		next = pr.ReadPacketData
		link = func(gopacket.CaptureInfo) layers.LinkType { return pr.LinkType() }
	}
	var out []got
	for {
		data, ci, err := next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, err
		}
		out = append(out, got{ci.Timestamp, link(ci), data, ci.Length, 0})
	}
}

// TestEveryDatasetCaptureReadsAsPcapgoReadsIt compares, record by record
// (time, link type, captured bytes, wire length), this package's reader
// with pcapgo on every capture of the shared datasets that pcapgo reads.
func TestEveryDatasetCaptureReadsAsPcapgoReadsIt(t *testing.T) {
	root := shareddata.Require(t)
	var paths []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng") ||
			strings.HasSuffix(p, ".pcap.gz") || strings.HasSuffix(p, ".pcapng.gz")) {
			paths = append(paths, p)
		}
		return nil
	})
	if len(paths) == 0 {
		t.Skip("no captures in the shared datasets")
	}
	compared, records := 0, 0
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		want, refErr := pcapgoRecords(t, p)
		if refErr != nil && len(want) == 0 {
			t.Logf("%s: pcapgo cannot read it (%v); not compared", rel, refErr)
			continue
		}
		r, err := capture.Open(p)
		if err != nil {
			t.Errorf("%s: %v (pcapgo read %d records)", rel, err, len(want))
			continue
		}
		read := readAll(t, r)
		r.Close()
		if refErr != nil {
			// pcapgo stopped early (a cut file); the records it did
			// read must be ours too.
			t.Logf("%s: pcapgo stopped after %d records (%v); we read %d", rel, len(want), refErr, len(read))
			if len(read) < len(want) {
				t.Errorf("%s: read %d records, pcapgo %d", rel, len(read), len(want))
				continue
			}
			read = read[:len(want)]
		}
		if len(read) != len(want) {
			t.Errorf("%s: read %d records, pcapgo %d", rel, len(read), len(want))
			continue
		}
		for i := range want {
			g, w := read[i], want[i]
			if !g.at.Equal(w.at) || g.link != w.link || g.wireLen != w.wireLen || !bytes.Equal(g.data, w.data) {
				t.Errorf("%s record %d: got %v %v %d bytes (wire %d), pcapgo %v %v %d bytes (wire %d)",
					rel, i, g.at, g.link, len(g.data), g.wireLen, w.at, w.link, len(w.data), w.wireLen)
				break
			}
		}
		compared++
		records += len(want)
	}
	t.Logf("%d of %d captures compared, %d records", compared, len(paths), records)
	if compared == 0 {
		t.Error("no capture compared")
	}
}
