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
// make a line oversized: when a partial line would outgrow MaxLine, it is
// squeezed first — whitespace at the start of the line is dropped, a run
// of whitespace between tokens is kept as its first byte, and a run inside
// a string is cut to maxStringPad bytes — and only a line still too long
// after that is skipped. Kilobytes of spaces or blank lines before (or
// inside) a login therefore neither hide it nor grow the buffer past
// MaxLine; the line still parses to the same message (only string values
// with long runs of spaces change). Lines that fit are handed out as they
// came, without a copy when they arrive whole.
type Reader struct {
	MaxLine int
	buf     []byte // partial line carried between chunks, len <= MaxLine
	sq      int32  // buf[:sq] is squeezed; inStr, esc and ws describe buf[sq-1]
	ws      int32  // length of the current whitespace run
	skip    bool   // discarding until the next newline
	inStr   bool   // inside a JSON string (quotes counted since the line start)
	esc     bool   // the previous byte was a backslash inside a string
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
		switch {
		case r.skip:
			r.Stats.OversizeBytes += int64(len(seg))
		case i >= 0 && len(r.buf) == 0 && len(seg) <= max:
			r.emit(seg, h) // a whole line in one chunk: no copy
			r.newLine()
			continue
		default:
			r.add(seg, max, h)
		}
		if i < 0 {
			return
		}
		if !r.skip {
			r.emit(r.buf, h)
		}
		r.newLine()
		r.lend(h)
	}
}

// Buffers lends a reader the buffer of a partial line or message. A
// Handler or HTTPHandler that implements it lends the buffer each time a
// line (message) arrives split, and has it back as soon as the line
// (message) is complete: thousands of concurrent flows whose lines and
// messages are split across segments then share a few buffers, instead
// of each growing and holding its own.
type Buffers interface {
	// GetBuffer returns an empty buffer of capacity n or more.
	GetBuffer(n int) []byte
	// PutBuffer takes back a buffer no longer used.
	PutBuffer(b []byte)
}

// lend gives the empty line buffer back to h if h lends Buffers.
func (r *Reader) lend(h Handler) {
	if cap(r.buf) == 0 {
		return
	}
	if l, ok := h.(Buffers); ok {
		l.PutBuffer(r.buf[:0])
		r.buf = nil
	}
}

// newLine resets the per-line state after a newline.
func (r *Reader) newLine() {
	r.skip, r.inStr, r.esc, r.ws, r.sq = false, false, false, 0, 0
	r.buf = r.buf[:0]
}

// special marks the bytes the padding rules look at; runs of other bytes
// are copied in one piece.
var special = [256]bool{' ': true, '\t': true, '\r': true, '"': true, '\\': true}

// add appends seg to the partial line. If the line would outgrow max,
// the part not yet squeezed and seg are squeezed; a line still too long
// is dropped and the rest of it skipped.
func (r *Reader) add(seg []byte, max int, h Handler) {
	if len(r.buf)+len(seg) <= max {
		r.append(seg, max, h)
		return
	}
	if int(r.sq) < len(r.buf) {
		// Squeeze in place: the write position never passes the read one.
		raw := r.buf[r.sq:]
		r.buf = r.buf[:r.sq]
		r.squeeze(raw, max, h)
	}
	if r.squeeze(seg, max, h) {
		r.sq = int32(len(r.buf))
	}
}

// squeeze appends seg to the line with padding squeezed; false if the
// line outgrew max (it is then dropped and skipped).
func (r *Reader) squeeze(seg []byte, max int, h Handler) bool {
	for i := 0; i < len(seg); {
		j := i
		for j < len(seg) && !special[seg[j]] {
			j++
		}
		if j > i {
			r.ws, r.esc = 0, false
			if !r.put(seg[i:j], max, len(seg)-i, h) {
				return false
			}
			i = j
			continue
		}
		c := seg[i]
		space := c == ' ' || c == '\t' || c == '\r'
		if space {
			r.ws++
		} else {
			r.ws = 0
		}
		keep := true
		if r.inStr {
			switch {
			case r.esc:
				r.esc = false
			case c == '\\':
				r.esc = true
			case c == '"':
				r.inStr = false
			}
			keep = !space || r.ws <= maxStringPad
		} else {
			keep = !space || len(r.buf) > 0 && r.ws == 1
			if c == '"' {
				r.inStr = true
			}
		}
		if !keep {
			r.Stats.Squeezed++
		} else if !r.put(seg[i:i+1], max, len(seg)-i, h) {
			return false
		}
		i++
	}
	return true
}

// put appends b to the line, or drops the line if it would outgrow max
// (rest: the bytes of the chunk from b on, counted as skipped).
func (r *Reader) put(b []byte, max, rest int, h Handler) bool {
	if len(r.buf)+len(b) > max {
		r.Stats.Oversized++
		r.Stats.OversizeBytes += int64(len(r.buf) + rest)
		r.buf = r.buf[:0]
		r.skip = true
		return false
	}
	r.append(b, max, h)
	return true
}

// append adds b (which fits within max) to the partial line. The buffer
// starts at the size of the first partial line and doubles up to max: a
// flow holding a short partial line (a binary record without a newline,
// one of a million concurrent flows) keeps only those bytes, and a long
// line costs a few copies. A handler that lends Buffers lends it (the
// buffer it replaces is dropped, not given back: squeeze may still be
// reading it).
func (r *Reader) append(b []byte, max int, h Handler) {
	if n := len(r.buf) + len(b); n > cap(r.buf) {
		c := min(max, 2*cap(r.buf))
		if c < n {
			c = n
		}
		r.buf = regrow(r.buf, c, h)
	}
	r.buf = append(r.buf, b...)
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

// Discard drops the partial line and starts the next bytes as a new line
// (unlike Gap, which skips to the next newline): the caller knows they
// replace the partial line's bytes.
func (r *Reader) Discard() { r.newLine() }

// Buffered returns the bytes held for a partial line.
func (r *Reader) Buffered() int { return cap(r.buf) }

// Recycle clears the reader for a new stream, as a zero Reader (MaxLine
// too), and gives its line buffer to l (nil: drops it): an engine
// recycles readers with its flows' state, and a recycled reader must not
// keep a buffer that its next flow may never need.
func (r *Reader) Recycle(l Buffers) {
	if l != nil && cap(r.buf) > 0 {
		l.PutBuffer(r.buf[:0])
	}
	*r = Reader{}
}

// Reset frees the line buffer.
func (r *Reader) Reset() {
	r.newLine()
	r.buf = nil
}
