package capture

import (
	"errors"
	"io"
)

// MaxRecordLen is the largest captured length the reader returns (256 KiB,
// tcpdump's default snaplen and libpcap's largest for any link type).
// Longer records are skipped and counted in Stats.Oversize: a header that
// claims a 4 GB record must not make the reader allocate 4 GB.
const MaxRecordLen = 256 << 10

const (
	// minChunk is the first buffer size and the unit of reads.
	minChunk = 64 << 10
	// maxPeek bounds what one peek may ask for: a largest record plus
	// room for its block header and options.
	maxPeek = MaxRecordLen + minChunk
	// maxBuf is the largest buffer: twice maxPeek, so that moving unread
	// bytes to the front happens only after half the buffer was consumed
	// (a resync scan that peeks maxPeek ahead at every 4-byte step would
	// otherwise move maxPeek bytes per step).
	maxBuf = 2 * maxPeek
)

// input is a buffered reader that can look ahead (peek) up to maxPeek
// bytes without consuming them, so a record's bytes are returned in place
// (zero copy) and a pcapng reader can look for the next valid block after
// a corrupt one. Unlike bufio.Reader its buffer grows only when more than
// half of it holds bytes that really arrived: a header that claims a large
// record in a short file costs the bytes the file holds, not the bytes it
// claims.
type input struct {
	r      io.Reader
	buf    []byte
	lo, hi int   // buf[lo:hi] is read but not consumed
	off    int64 // stream offset of buf[lo]
	err    error // sticky error of r (io.EOF at the end)
	moved  int64 // bytes copied inside the buffer (compaction, growth)
}

func newInput(r io.Reader) *input { return &input{r: r} }

// peek returns the next n bytes (n <= maxPeek) without consuming them. It
// returns fewer bytes only together with the error that ended the stream.
// The bytes stay valid until the next peek, consume or discard.
func (in *input) peek(n int) ([]byte, error) {
	if n > maxPeek {
		panic("capture: peek beyond maxPeek")
	}
	for in.hi-in.lo < n && in.err == nil {
		if in.hi == len(in.buf) {
			in.makeRoom()
		}
		m, err := in.r.Read(in.buf[in.hi:])
		in.hi += m
		if err != nil {
			in.err = err
		}
	}
	if in.hi-in.lo < n {
		return in.buf[in.lo:in.hi], in.err
	}
	return in.buf[in.lo : in.lo+n], nil
}

// makeRoom frees space at the end of a full buffer: by moving the unread
// bytes to the front when at least half the buffer is consumed (so each
// byte is moved O(1) times), else by doubling the buffer (up to maxBuf),
// which then holds more than half a buffer of bytes that really arrived.
func (in *input) makeRoom() {
	if in.lo > 0 && (in.lo >= len(in.buf)/2 || len(in.buf) >= maxBuf) {
		in.hi = copy(in.buf, in.buf[in.lo:in.hi])
		in.moved += int64(in.hi)
		in.lo = 0
		return
	}
	size := min(max(2*len(in.buf), minChunk), maxBuf)
	nb := make([]byte, size)
	in.hi = copy(nb, in.buf[in.lo:in.hi])
	in.moved += int64(in.hi)
	in.lo = 0
	in.buf = nb
}

// consume drops n bytes that a peek returned.
func (in *input) consume(n int) {
	in.lo += n
	in.off += int64(n)
	if in.lo == in.hi {
		in.lo, in.hi = 0, 0
	}
}

// discard skips n bytes, reading them in buffer-sized chunks. It returns
// how many were skipped and, when fewer than n, the error that ended the
// stream.
func (in *input) discard(n int64) (int64, error) {
	var done int64
	for done < n {
		if in.hi == in.lo {
			if in.err != nil {
				return done, in.err
			}
			if len(in.buf) == 0 {
				in.buf = make([]byte, minChunk)
			}
			in.lo, in.hi = 0, 0
			m, err := in.r.Read(in.buf)
			in.hi = m
			if err != nil {
				in.err = err
			}
			continue
		}
		k := min(int64(in.hi-in.lo), n-done)
		in.consume(int(k))
		done += k
	}
	return done, nil
}

// Read and ReadByte let a gzip reader decompress from the buffered bytes
// (compress/flate reads byte by byte from an io.ByteReader without adding a
// buffer of its own).
func (in *input) Read(p []byte) (int, error) {
	if in.hi == in.lo {
		if in.err != nil {
			return 0, in.err
		}
		if len(p) >= minChunk {
			n, err := in.r.Read(p)
			in.off += int64(n)
			if err != nil {
				in.err = err
			}
			return n, err
		}
		if _, err := in.peek(1); err != nil && in.hi == in.lo {
			return 0, err
		}
	}
	n := copy(p, in.buf[in.lo:in.hi])
	in.consume(n)
	return n, nil
}

func (in *input) ReadByte() (byte, error) {
	if in.lo < in.hi { // the common case, inlined: flate calls this per byte
		c := in.buf[in.lo]
		in.consume(1)
		return c, nil
	}
	b, err := in.peek(1)
	if len(b) == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return 0, err
	}
	c := b[0]
	in.consume(1)
	return c, nil
}

// ended classifies why fewer bytes than asked for came back: a clean end
// of stream (io.EOF), a stream that knows it was cut (a gzip member that
// stops early: io.ErrUnexpectedEOF), or a read error.
func (in *input) ended() error {
	switch {
	case in.err == nil || errors.Is(in.err, io.EOF):
		return io.EOF
	case errors.Is(in.err, io.ErrUnexpectedEOF):
		return io.ErrUnexpectedEOF
	}
	return in.err
}
