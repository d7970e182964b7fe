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
	Squeezed      int64 // whitespace bytes dropped as padding (see Reader)
}

// DefaultMaxLine fits the largest message in the datasets (an Equihash
// mining.submit, ~2.9 KB; an XMRig login, ~600 B) with room to spare.
const DefaultMaxLine = 16 << 10

// maxStringPad is the longest run of whitespace kept inside a JSON
// string; longer runs are cut to it (no real login, agent or job string
// holds more, and padding must not make a line oversized).
const maxStringPad = 16

// Reader splits a byte stream into newline-terminated lines. The zero
// value uses DefaultMaxLine.
//
// Whitespace is padding to a JSON parser, so the Reader does not let it
// fill the line buffer: whitespace at the start of a line is dropped, a
// run of whitespace between tokens is kept as its first byte, and a run
// inside a string is cut to maxStringPad bytes. Kilobytes of spaces or
// blank lines before (or inside) a login therefore neither make the line
// oversized nor grow a buffer; the line still parses to the same message
// (only string values with long runs of spaces change).
type Reader struct {
	MaxLine int
	buf     []byte // partial line carried between chunks, len <= MaxLine
	skip    bool   // discarding until the next newline
	inStr   bool   // inside a JSON string (quotes counted since the line start)
	esc     bool   // the previous byte was a backslash inside a string
	ws      int    // length of the current whitespace run
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
		seg := b
		i := bytes.IndexByte(b, '\n')
		if i >= 0 {
			seg, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if r.skip {
			r.Stats.OversizeBytes += int64(len(seg))
		} else {
			r.add(seg, max)
		}
		if i < 0 {
			return
		}
		if !r.skip {
			r.emit(r.buf, h)
		}
		r.newLine()
	}
}

// newLine resets the per-line state after a newline.
func (r *Reader) newLine() {
	r.skip, r.inStr, r.esc, r.ws = false, false, false, 0
	r.buf = r.buf[:0]
}

// add appends seg to the partial line, squeezing padding; a line that
// outgrows max is dropped and the rest of it skipped.
func (r *Reader) add(seg []byte, max int) {
	for k, c := range seg {
		space := c == ' ' || c == '\t' || c == '\r'
		if space {
			r.ws++
		} else {
			r.ws = 0
		}
		if r.inStr {
			switch {
			case r.esc:
				r.esc = false
			case c == '\\':
				r.esc = true
			case c == '"':
				r.inStr = false
			}
			if space && r.ws > maxStringPad {
				r.Stats.Squeezed++
				continue
			}
		} else {
			if space && (len(r.buf) == 0 || r.ws > 1) {
				r.Stats.Squeezed++
				continue
			}
			if c == '"' {
				r.inStr = true
			}
		}
		if len(r.buf) >= max {
			r.Stats.Oversized++
			r.Stats.OversizeBytes += int64(len(r.buf) + len(seg) - k)
			r.buf = r.buf[:0]
			r.skip = true
			return
		}
		if r.buf == nil {
			r.buf = make([]byte, 0, 512)
		}
		r.buf = append(r.buf, c)
	}
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
	r.newLine()
	r.skip = true
}

// Buffered returns the bytes held for a partial line.
func (r *Reader) Buffered() int { return cap(r.buf) }

// Reset frees the line buffer.
func (r *Reader) Reset() {
	r.newLine()
	r.buf = nil
}
