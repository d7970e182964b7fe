package capture

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket/layers"
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
	// Records and Bytes count the records delivered by Next (those a
	// filter kept, see SetFilter).
	Records int64
	Bytes   int64
	// Filtered counts records a filter rejected (SetFilter).
	Filtered int64
	// CutShort counts files that ended in the middle of a record (a capture
	// whose writer was killed); the records before the cut are kept.
	CutShort int
	// OutOfOrder counts records whose time is earlier than the previous
	// record's from the same file.
	OutOfOrder int64
	// Oversize counts records longer than MaxRecordLen, skipped.
	Oversize int64
	// Corrupt counts corrupt pcapng regions the reader resynchronised
	// over (a bad block length) and well-framed blocks it could not use
	// (a packet naming an interface the section does not describe).
	Corrupt int64
	// Failed counts files that could not be opened or read to their end
	// (see Reader.Errs).
	Failed int
}

// ErrNotCapture is returned (wrapped) for a file that is neither pcap nor
// pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// FileError is a file that could not be opened, or could not be read to
// its end (Records records were read from it before the error).
type FileError struct {
	Path    string
	Index   int
	Records int64
	Err     error // names the path
}

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// maxWarnings bounds Reader.Warnings; further problems are only counted.
const maxWarnings = 100

// maxFileWarnings bounds the warnings about oversize records and corrupt
// blocks of one file; the file's totals are reported when it ends.
const maxFileWarnings = 5

// format reads one file's records.
type format interface {
	next(f *file, rec *Record) error
}

// file is one open capture file with one record read ahead.
type file struct {
	r       *Reader
	path    string
	index   int
	osf     *os.File
	gz      *gzip.Reader
	in      *input
	src     format
	unread  int // bytes of the pending record still in the input
	pending Record
	has     bool
	done    bool
	last    time.Time
	records int64
	// size is the file's length when it is a regular file (0: unknown, a
	// FIFO); read counts the bytes read from it so far (compressed bytes
	// for a .gz: what the size is measured in).
	size int64
	read int64

	oversized, corrupted int64
}

// Reader merges one or more capture files into one time-ordered stream.
// A file that cannot be opened or read is reported (Errs) and left out;
// the others are read to their end.
type Reader struct {
	files []*file
	stats Stats
	// Warnings collects non-fatal problems (a file cut short, skipped
	// records) in the form "path: problem"; at most 100 are kept.
	Warnings []string
	errs     []error
	cur      *file
	keep     func(*Record) bool
}

// SetFilter makes Next deliver only the records keep accepts, as a
// capture filter does for tcpdump -r FILE EXPR; the others are counted in
// Stats.Filtered. keep sees the record before the caller does and must not
// keep rec.Data. A nil keep delivers every record.
func (r *Reader) SetFilter(keep func(rec *Record) bool) { r.keep = keep }

// Open opens the capture files, each exactly once (so FIFOs and
// `<(zcat x.pcap.gz)` work); "-" is standard input, as for tcpdump -r -.
// A file that cannot be opened or is not a capture is left out and
// reported by Errs; Open fails only when no file can be read, with an
// error naming each.
func Open(paths ...string) (*Reader, error) {
	if len(paths) == 0 {
		return nil, errors.New("no capture files given")
	}
	stdin := 0
	for _, p := range paths {
		if p == Stdin {
			stdin++
		}
	}
	if stdin > 1 {
		return nil, errors.New("standard input (-) given more than once")
	}
	return openFiles(paths, (*file).open)
}

// Stdin is the path that names standard input.
const Stdin = "-"

// openFiles makes a Reader of the named inputs, each started by open (the
// file's path, or in tests its bytes): an input that fails is left out and
// kept in Errs; only when all fail is there no Reader.
func openFiles(names []string, open func(f *file) error) (*Reader, error) {
	r := &Reader{}
	ok := 0
	for i, name := range names {
		f := &file{r: r, path: name, index: i}
		if err := open(f); err != nil {
			f.close()
			f.done = true
			r.fail(f, err)
		} else {
			ok++
		}
		r.files = append(r.files, f)
	}
	if ok == 0 {
		r.Close()
		return nil, errors.Join(r.errs...)
	}
	return r, nil
}

func (r *Reader) fail(f *file, err error) {
	r.stats.Failed++
	r.errs = append(r.errs, &FileError{Path: f.path, Index: f.index, Records: f.records, Err: err})
}

func (r *Reader) warn(format string, args ...any) {
	if len(r.Warnings) < maxWarnings {
		r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
	}
}

func (f *file) open() error {
	if f.path == Stdin {
		// Not kept in f.osf: closing the reader must not close the
		// process's standard input. Its size is unknown, like a pipe's.
		return f.start(countingReader{os.Stdin, &f.read})
	}
	fi, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("open capture: %w", err)
	}
	if fi.IsDir() {
		return fmt.Errorf("open capture %s: is a directory", f.path)
	}
	if f.osf, err = os.Open(f.path); err != nil {
		return fmt.Errorf("open capture: %w", err)
	}
	if fi.Mode().IsRegular() {
		f.size = fi.Size()
	}
	return f.start(countingReader{f.osf, &f.read})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// Progress is how far a Reader has read its files, for a progress line.
type Progress struct {
	// File is the index of the file the last record came from (-1 before
	// the first); Files is how many were given.
	File, Files int
	// Read is the bytes read from the files so far (compressed bytes for
	// gzip, read ahead by at most a buffer); Size their total, 0 when a
	// file's size is unknown (a FIFO, a pipe).
	Read, Size int64
}

// Progress returns how far the files have been read. Like Next, it is
// for the goroutine that reads.
func (r *Reader) Progress() Progress {
	p := Progress{File: -1, Files: len(r.files)}
	if r.cur != nil {
		p.File = r.cur.index
	}
	known := true
	for _, f := range r.files {
		p.Read += f.read
		p.Size += f.size
		if f.size == 0 && f.read > 0 {
			known = false
		}
	}
	if !known {
		p.Size = 0
	}
	return p
}

// start reads the file header from src: gzip or not, pcap or pcapng.
func (f *file) start(src io.Reader) error {
	f.in = newInput(src)
	magic, err := f.in.peek(4)
	if len(magic) < 4 {
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("open capture %s: %w", f.path, err)
		}
		return fmt.Errorf("open capture %s: %w (file too short to be a capture)", f.path, ErrNotCapture)
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		if f.gz, err = gzip.NewReader(f.in); err != nil {
			return fmt.Errorf("open capture %s: gzip: %w", f.path, err)
		}
		f.in = newInput(f.gz)
		if magic, err = f.in.peek(4); len(magic) < 4 {
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("open capture %s: gzip: %w", f.path, err)
			}
			return fmt.Errorf("open capture %s: %w (gzip content too short)", f.path, ErrNotCapture)
		}
	}
	switch {
	case magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a:
		ng, err := openPcapng(f.in)
		if err != nil {
			return fmt.Errorf("open capture %s: %w", f.path, err)
		}
		ng.path = f.path
		f.src = ng
	default:
		if _, _, ok := pcapMagic(magic); !ok {
			return fmt.Errorf("open capture %s: %w (magic %02x%02x%02x%02x)", f.path, ErrNotCapture, magic[0], magic[1], magic[2], magic[3])
		}
		p, err := openPcap(f.in)
		if err != nil {
			return fmt.Errorf("open capture %s: %w", f.path, err)
		}
		f.src = p
	}
	return nil
}

func (f *file) close() {
	if f.gz != nil {
		f.gz.Close()
		f.gz = nil
	}
	if f.osf != nil {
		f.osf.Close()
		f.osf = nil
	}
}

// oversize counts a skipped record over MaxRecordLen at offset at.
func (f *file) oversize(at, n int64) {
	f.r.stats.Oversize++
	f.oversized++
	if f.oversized <= maxFileWarnings {
		f.r.warn("%s: record at offset %d claims %d bytes, over the %d-byte limit; skipped", f.path, at, n, MaxRecordLen)
	}
}

// corrupt counts a corrupt region of n bytes at offset at that the reader
// skipped to the next valid block.
func (f *file) corrupt(at, n int64) {
	f.r.stats.Corrupt++
	f.corrupted++
	if f.corrupted <= maxFileWarnings {
		f.r.warn("%s: corrupt pcapng block at offset %d; resynchronised %d bytes later", f.path, at, n)
	}
}

// badPacket counts a well-framed pcapng block at offset at whose contents
// cannot be used (why), skipped.
func (f *file) badPacket(at int64, why string) {
	f.r.stats.Corrupt++
	f.corrupted++
	if f.corrupted <= maxFileWarnings {
		f.r.warn("%s: pcapng block at offset %d skipped: %s", f.path, at, why)
	}
}

// end closes a file that is read to its end, or that failed with err.
func (f *file) end(err error) {
	f.done = true
	f.close()
	if f.oversized > maxFileWarnings {
		f.r.warn("%s: %d records over the %d-byte limit skipped in all", f.path, f.oversized, MaxRecordLen)
	}
	if f.corrupted > maxFileWarnings {
		f.r.warn("%s: %d corrupt regions skipped in all", f.path, f.corrupted)
	}
}

// fill reads the file's next record into pending. A file that fails is
// closed and its error returned (once).
func (f *file) fill() error {
	if f.has || f.done {
		return nil
	}
	if f.unread > 0 {
		f.in.consume(f.unread)
		f.unread = 0
	}
	err := f.src.next(f, &f.pending)
	switch {
	case err == nil:
	case err == io.EOF:
		f.end(nil)
		return nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		// A plain file that stops inside a record, or a gzip stream that
		// stops early (even on a record boundary).
		f.end(nil)
		f.r.stats.CutShort++
		f.r.warn("%s: capture cut short in the middle of a record; records before the cut were read", f.path)
		return nil
	default:
		what := "offset"
		if f.gz != nil {
			what = "uncompressed offset"
		}
		err = fmt.Errorf("read capture %s at %s %d after %d records: %w", f.path, what, f.in.off, f.records, err)
		f.end(err)
		f.r.fail(f, err)
		return f.r.errs[len(f.r.errs)-1]
	}
	f.pending.File = f.index
	if !f.last.IsZero() && f.pending.Time.Before(f.last) {
		f.r.stats.OutOfOrder++
	}
	f.last = f.pending.Time
	f.records++
	f.has = true
	return nil
}

// Next fills rec with the earliest pending record of all files, or returns
// io.EOF when every file is exhausted. A file that fails while being read
// makes Next return its *FileError once; the file is then left out and
// calling Next again goes on with the others.
func (r *Reader) Next(rec *Record) error {
	if r.cur != nil {
		r.cur.has = false // the caller is done with the previous record's buffer
		r.cur = nil
	}
	var best *file
	for {
		best = nil
		for _, f := range r.files {
			if err := f.fill(); err != nil {
				return err
			}
			if f.has && (best == nil || f.pending.Time.Before(best.pending.Time)) {
				best = f
			}
		}
		if best == nil {
			return io.EOF
		}
		if r.keep == nil || r.keep(&best.pending) {
			break
		}
		best.has = false
		r.stats.Filtered++
	}
	*rec = best.pending
	r.cur = best
	r.stats.Records++
	r.stats.Bytes += int64(len(rec.Data))
	return nil
}

// Errs returns a *FileError for each file that could not be opened or
// read to its end, in the order they happened.
func (r *Reader) Errs() []error { return r.errs }

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
