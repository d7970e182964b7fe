package capture

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Record is one captured frame.
type Record struct {
	Time     time.Time
	LinkType layers.LinkType
	// Data is the captured bytes; it aliases the reader's buffer and is
	// valid until the next call to Next.
	Data []byte
	// OrigLen is the frame's length on the wire (>= len(Data) when the
	// capture's snaplen cut it).
	OrigLen int
	// File is the index, in the list given to Open, of the file the record
	// came from.
	File int
}

// Stats counts what the reader saw.
type Stats struct {
	Records int64
	Bytes   int64
	// CutShort counts files that ended in the middle of a record (a capture
	// whose writer was killed); the records before the cut are kept.
	CutShort int
	// OutOfOrder counts records whose time is earlier than the previous
	// record's from the same file.
	OutOfOrder int64
}

// ErrNotCapture is returned (wrapped) by Open for a file that is neither
// pcap nor pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// file is one open capture file with one record read ahead.
type file struct {
	path    string
	index   int
	closer  []io.Closer
	r       packetReader
	ng      *pcapgo.NgReader
	gz      *cutReader // the decompressed stream of a gzip file, else nil
	link    layers.LinkType
	pending Record
	has     bool
	done    bool
	last    time.Time
}

// Reader merges one or more capture files into one time-ordered stream.
type Reader struct {
	files []*file
	stats Stats
	// Warnings collects non-fatal problems (a file cut short) in the form
	// "path: problem".
	Warnings []string
	cur      *file
}

// Open opens the capture files. An unreadable or non-capture file fails the
// whole call with an error naming the file.
func Open(paths ...string) (*Reader, error) {
	if len(paths) == 0 {
		return nil, errors.New("no capture files given")
	}
	r := &Reader{}
	for i, p := range paths {
		f, err := openFile(p, i)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.files = append(r.files, f)
	}
	return r, nil
}

func openFile(path string, index int) (*file, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	f := &file{path: path, index: index, closer: []io.Closer{osf}}
	br := bufio.NewReaderSize(osf, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("open capture %s: %w (file too short to be a capture)", path, ErrNotCapture)
	}
	var src io.Reader = br
	if magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			osf.Close()
			return nil, fmt.Errorf("open capture %s: gzip: %w", path, err)
		}
		f.closer = append(f.closer, gz)
		f.gz = &cutReader{r: gz}
		gbr := bufio.NewReaderSize(f.gz, 1<<16)
		if magic, err = gbr.Peek(4); err != nil {
			f.close()
			return nil, fmt.Errorf("open capture %s: %w (gzip content too short)", path, ErrNotCapture)
		}
		src = gbr
	}
	switch {
	case magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a:
		ng, err := pcapgo.NewNgReader(src, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			f.close()
			return nil, fmt.Errorf("open capture %s: pcapng: %w", path, err)
		}
		f.r, f.ng, f.link = ng, ng, ng.LinkType()
	case isPcapMagic(magic):
		pr, err := pcapgo.NewReader(src)
		if err != nil {
			f.close()
			return nil, fmt.Errorf("open capture %s: pcap: %w", path, err)
		}
		f.r, f.link = pr, pr.LinkType()
	default:
		f.close()
		return nil, fmt.Errorf("open capture %s: %w (magic %02x%02x%02x%02x)", path, ErrNotCapture, magic[0], magic[1], magic[2], magic[3])
	}
	return f, nil
}

func isPcapMagic(m []byte) bool {
	le := uint32(m[0]) | uint32(m[1])<<8 | uint32(m[2])<<16 | uint32(m[3])<<24
	be := uint32(m[3]) | uint32(m[2])<<8 | uint32(m[1])<<16 | uint32(m[0])<<24
	for _, v := range []uint32{0xa1b2c3d4, 0xa1b23c4d} {
		if le == v || be == v {
			return true
		}
	}
	return false
}

// cutReader remembers whether the stream beneath it ended early, so a
// cut-short gzip capture is recognised however the pcap/pcapng reader
// reports it (pcapgo's NgReader formats a failed skip of block padding
// with %v, which hides io.ErrUnexpectedEOF from errors.Is).
type cutReader struct {
	r   io.Reader
	cut bool
}

func (c *cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		c.cut = true
	}
	return n, err
}

func (f *file) close() {
	for i := len(f.closer) - 1; i >= 0; i-- {
		f.closer[i].Close()
	}
	f.closer = nil
}

// fill reads the file's next record into pending.
func (f *file) fill(r *Reader) error {
	if f.has || f.done {
		return nil
	}
	data, ci, err := f.r.ZeroCopyReadPacketData()
	if err != nil {
		f.done = true
		// A gzip stream that ended early is a cut file even when the
		// reader above it saw a clean io.EOF at a record boundary.
		if errors.Is(err, io.ErrUnexpectedEOF) || (f.gz != nil && f.gz.cut) {
			r.stats.CutShort++
			r.Warnings = append(r.Warnings, f.path+": capture cut short in the middle of a record; records before the cut were read")
			return nil
		}
		if err == io.EOF {
			return nil
		}
		return fmt.Errorf("read capture %s: %w", f.path, err)
	}
	link := f.link
	if f.ng != nil {
		if iface, err := f.ng.Interface(ci.InterfaceIndex); err == nil {
			link = iface.LinkType
		}
	}
	if !f.last.IsZero() && ci.Timestamp.Before(f.last) {
		r.stats.OutOfOrder++
	}
	f.last = ci.Timestamp
	f.pending = Record{Time: ci.Timestamp, LinkType: link, Data: data, OrigLen: ci.Length, File: f.index}
	f.has = true
	return nil
}

// Next fills rec with the earliest pending record of all files, or returns
// io.EOF when every file is exhausted.
func (r *Reader) Next(rec *Record) error {
	if r.cur != nil {
		r.cur.has = false // the caller is done with the previous record's buffer
		r.cur = nil
	}
	var best *file
	for _, f := range r.files {
		if err := f.fill(r); err != nil {
			return err
		}
		if f.has && (best == nil || f.pending.Time.Before(best.pending.Time)) {
			best = f
		}
	}
	if best == nil {
		return io.EOF
	}
	*rec = best.pending
	r.cur = best
	r.stats.Records++
	r.stats.Bytes += int64(len(rec.Data))
	return nil
}

// Stats returns the counters so far.
func (r *Reader) Stats() Stats { return r.stats }

// Path returns the path of the i-th file given to Open.
func (r *Reader) Path(i int) string { return r.files[i].path }

// Close closes every file.
func (r *Reader) Close() error {
	for _, f := range r.files {
		f.close()
	}
	return nil
}
