package jsonrpc

import "bytes"

// Handler receives complete lines (without the newline or surrounding
// whitespace). line is valid only during the call.
type Handler interface {
	Line(line []byte)
}

// Stats counts what a Reader saw.
type Stats struct {
	Lines         int64 // complete non-empty lines handed out
	Oversized     int64 // lines longer than MaxLine, skipped
	OversizeBytes int64 // bytes of those lines
	Resyncs       int64 // gaps after which the partial line was dropped
}

// DefaultMaxLine fits the largest message in the datasets (an Equihash
// mining.submit, ~2.9 KB; an XMRig login, ~600 B) with room to spare.
const DefaultMaxLine = 16 << 10

// Reader splits a byte stream into newline-terminated lines. The zero
// value uses DefaultMaxLine.
type Reader struct {
	MaxLine int
	buf     []byte // partial line carried between chunks, len <= MaxLine
	skip    bool   // discarding until the next newline
	Stats   Stats
}

func (r *Reader) max() int {
	if r.MaxLine <= 0 {
		return DefaultMaxLine
	}
	return r.MaxLine
}

// Write consumes a chunk, calling h.Line for every line it completes.
func (r *Reader) Write(b []byte, h Handler) {
	max := r.max()
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			r.partial(b, max)
			return
		}
		seg := b[:i]
		b = b[i+1:]
		if r.skip {
			r.skip = false
			r.Stats.OversizeBytes += int64(len(seg))
			continue
		}
		if len(r.buf) > 0 {
			if len(r.buf)+len(seg) > max {
				r.oversized(len(r.buf) + len(seg))
				continue
			}
			r.buf = append(r.buf, seg...)
			line := r.buf
			r.buf = r.buf[:0]
			r.emit(line, h)
			continue
		}
		if len(seg) > max {
			r.oversized(len(seg))
			continue
		}
		r.emit(seg, h)
	}
}

func (r *Reader) partial(b []byte, max int) {
	if r.skip {
		r.Stats.OversizeBytes += int64(len(b))
		return
	}
	if len(r.buf)+len(b) > max {
		r.Stats.OversizeBytes += int64(len(r.buf) + len(b))
		r.Stats.Oversized++
		r.buf = r.buf[:0]
		r.skip = true
		return
	}
	if r.buf == nil {
		r.buf = make([]byte, 0, 512)
	}
	r.buf = append(r.buf, b...)
}

func (r *Reader) oversized(n int) {
	r.Stats.Oversized++
	r.Stats.OversizeBytes += int64(n)
	r.buf = r.buf[:0]
}

func (r *Reader) emit(line []byte, h Handler) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	r.Stats.Lines++
	h.Line(line)
}

// Gap drops the partial line and skips to the next newline: the bytes
// after a hole cannot be joined to the bytes before it.
func (r *Reader) Gap() {
	r.Stats.Resyncs++
	r.buf = r.buf[:0]
	r.skip = true
}

// Buffered returns the bytes held for a partial line.
func (r *Reader) Buffered() int { return cap(r.buf) }

// Reset frees the line buffer.
func (r *Reader) Reset() {
	r.buf = nil
	r.skip = false
}
