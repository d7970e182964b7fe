package jsonrpc

import (
	"bytes"
	"math"
	"strconv"
)

// HTTPInfo is what an HTTPReader keeps of one HTTP message's start line
// and headers. Slices alias the reader's buffer and are valid during the
// Body call only.
type HTTPInfo struct {
	Request   bool   // a request (else a response)
	Method    []byte // request method
	Target    []byte // request target (path and query)
	Status    int    // response status code
	UserAgent []byte
	Host      []byte
	Mining    bool   // the request had an X-Mining-Extensions header
	XStratum  []byte // response X-Stratum header (redirect to Stratum)
}

// HTTPHandler receives each HTTP message body (possibly empty).
type HTTPHandler interface {
	Body(info *HTTPInfo, body []byte)
}

// HTTPStats counts what an HTTPReader saw.
type HTTPStats struct {
	Messages int64 // complete messages
	Broken   int64 // streams given up (bad framing, message over the cap)
}

// DefaultMaxHTTPMessage bounds one buffered HTTP message (headers + body).
// getwork and eth-proxy messages are < 1 KB; a getblocktemplate reply with
// transactions can be far larger and is given up (the request still counts).
const DefaultMaxHTTPMessage = 32 << 10

// HTTPReader splits an HTTP/1.x byte stream (one direction) into messages.
type HTTPReader struct {
	MaxMessage int
	buf        []byte
	broken     bool
	need       int32 // the length of the buffered message, once its head is read (0: not known)
	info       HTTPInfo
	Stats      HTTPStats
}

// LooksLikeHTTP reports whether b starts like an HTTP/1.x request or response.
func LooksLikeHTTP(b []byte) bool {
	// Each prefix a constant, tried only when the first byte fits: the
	// compiler compares a constant in place, where a loop over the four
	// called memequal for each (the signature stage asks this of every
	// TCP flow's first bytes: 200 instructions of a new flow's 11,000).
	if len(b) < 4 {
		return false
	}
	switch b[0] {
	case 'P':
		return len(b) >= 5 && string(b[:5]) == "POST " || string(b[:4]) == "PUT "
	case 'G':
		return string(b[:4]) == "GET "
	case 'H':
		return len(b) >= 7 && string(b[:7]) == "HTTP/1."
	}
	return false
}

// Pending returns the bytes buffered for an incomplete message.
func (r *HTTPReader) Pending() int { return len(r.buf) }

// Broken reports whether the reader gave up on the stream.
func (r *HTTPReader) Broken() bool { return r.broken }

// Gap gives up: HTTP framing cannot resync after a hole.
func (r *HTTPReader) Gap() { r.fail() }

func (r *HTTPReader) fail() {
	if !r.broken {
		r.Stats.Broken++
	}
	r.broken = true
	r.buf = nil
}

// Recycle clears the reader for a new stream, as a zero HTTPReader
// (MaxMessage too), and gives its buffer to l (see Reader.Recycle).
func (r *HTTPReader) Recycle(l Buffers) {
	if l != nil && cap(r.buf) > 0 {
		l.PutBuffer(r.buf[:0])
	}
	*r = HTTPReader{}
}

// Write consumes a chunk of the stream.
func (r *HTTPReader) Write(b []byte, h HTTPHandler) {
	if r.broken {
		return
	}
	max := r.MaxMessage
	if max <= 0 {
		max = DefaultMaxHTTPMessage
	}
	if len(r.buf)+len(b) > max {
		r.fail()
		return
	}
	if len(r.buf) == 0 {
		// Whole messages at the start of the chunk are read where they
		// are: copying each into the buffer first was a third of the
		// signature stage's garbage (getwork flows send one message per
		// packet). Only a partial message, or a chunked one (dechunk joins
		// it in place, and b is not ours to change), is buffered.
		for len(b) > 0 && !r.broken {
			n := r.parse(b, false, h)
			if n <= 0 {
				break
			}
			b = b[n:]
		}
		if r.broken || len(b) == 0 {
			return
		}
	}
	if n := len(r.buf) + len(b); n > cap(r.buf) && int(r.need) >= n {
		// The message's length is known: one buffer of its size, not
		// one per doubling as its segments arrive (a getwork reply
		// split over segments grew two, 2.7 KB on average).
		r.grow(min(int(r.need), max), h)
	} else if n > cap(r.buf) {
		c := 2 * cap(r.buf) // as append would; MaxMessage bounds n, not the capacity
		if c < n {
			c = n
		}
		r.grow(c, h)
	}
	r.buf = append(r.buf, b...)
	for len(r.buf) > 0 && !r.broken {
		n := r.parse(r.buf, true, h)
		if n == 0 {
			return
		}
		rest := copy(r.buf, r.buf[n:])
		r.buf = r.buf[:rest]
	}
	if len(r.buf) == 0 && cap(r.buf) > 0 {
		if l, ok := h.(Buffers); ok { // no partial message: give the buffer back
			l.PutBuffer(r.buf)
			r.buf = nil
		}
	}
}

// grow gives the buffer capacity c (> its length), lent by h if it lends
// Buffers; the old buffer is dropped.
func (r *HTTPReader) grow(c int, h HTTPHandler) {
	r.buf = regrow(r.buf, c, h)
}

// regrow copies buf into a buffer of capacity c, lent by h if h lends
// Buffers (a handler of either reader may), else allocated; the old
// buffer is dropped, never given back: the caller may still read it.
func regrow(buf []byte, c int, h any) []byte {
	var nb []byte
	if l, ok := h.(Buffers); ok {
		nb = l.GetBuffer(c)[:len(buf)]
	} else {
		nb = make([]byte, len(buf), c)
	}
	copy(nb, buf)
	return nb
}

var crlf2 = []byte("\r\n\r\n")

// parse handles one complete message at the start of b and returns its
// length, 0 if it is not complete yet, or -1 if it is chunked and b is
// not owned (the reader's buffer): dechunk would change it.
func (r *HTTPReader) parse(b []byte, owned bool, h HTTPHandler) int {
	r.need = 0
	he := bytes.Index(b, crlf2)
	if he < 0 {
		return 0
	}
	head := b[:he]
	r.info = HTTPInfo{}
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	f0, f1, ok := firstFields(line)
	if !ok {
		r.fail()
		return 0
	}
	if bytes.HasPrefix(f0, []byte("HTTP/1.")) {
		st, err := strconv.Atoi(string(f1))
		if err != nil {
			r.fail()
			return 0
		}
		r.info.Status = st
	} else {
		r.info.Request, r.info.Method, r.info.Target = true, f0, f1
	}
	length, chunked := 0, false
	for len(rest) > 0 {
		var l []byte
		l, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		k, v, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 0 {
				r.fail()
				return 0
			}
			length = n
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(v), []byte("chunked"))
		case bytes.EqualFold(k, []byte("User-Agent")):
			r.info.UserAgent = v
		case bytes.EqualFold(k, []byte("Host")):
			r.info.Host = v
		case bytes.EqualFold(k, []byte("X-Mining-Extensions")):
			r.info.Mining = true
		case bytes.EqualFold(k, []byte("X-Stratum")):
			r.info.XStratum = v
		}
	}
	body := b[he+4:]
	if chunked {
		if !owned {
			return -1
		}
		n, payload, ok := dechunk(body)
		if !ok {
			return 0
		}
		r.Stats.Messages++
		h.Body(&r.info, payload)
		return he + 4 + n
	}
	if len(body) < length {
		r.need = int32(min(he+4+length, math.MaxInt32))
		return 0
	}
	r.Stats.Messages++
	h.Body(&r.info, body[:length])
	return he + 4 + length
}

// asciiSpace is the ASCII whitespace bytes.Fields splits on.
var asciiSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// firstFields returns the first two fields of line as bytes.Fields
// would, and false if it has fewer than two, without building the slice
// of all fields bytes.Fields allocates for every message. A line with a
// non-ASCII byte (whose Unicode spaces also split) goes to bytes.Fields.
func firstFields(line []byte) (f0, f1 []byte, ok bool) {
	var f [2][]byte
	n, i := 0, 0
	for n < 2 {
		for i < len(line) && asciiSpace[line[i]] {
			i++
		}
		j := i
		for j < len(line) && !asciiSpace[line[j]] {
			if line[j] >= 0x80 {
				all := bytes.Fields(line)
				if len(all) < 2 {
					return nil, nil, false
				}
				return all[0], all[1], true
			}
			j++
		}
		if j == i {
			return nil, nil, false
		}
		f[n] = line[i:j:j]
		n++
		i = j
	}
	return f[0], f[1], true
}

// dechunk joins a chunked body in place. It returns the encoded length
// consumed, the joined payload, and false if the body is incomplete.
func dechunk(b []byte) (int, []byte, bool) {
	// Decode into a scratch copy-free way: payload is compacted at the
	// front of b only once the whole body is present, so check first.
	i, total := 0, 0
	for {
		le := bytes.Index(b[i:], []byte("\r\n"))
		if le < 0 {
			return 0, nil, false
		}
		sz, _, _ := bytes.Cut(b[i:i+le], []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(sz)), 16, 31)
		if err != nil {
			return 0, nil, false
		}
		i += le + 2
		if n == 0 {
			te := bytes.Index(b[i:], []byte("\r\n"))
			if te < 0 {
				return 0, nil, false
			}
			i += te + 2 // trailers ignored
			break
		}
		if len(b) < i+int(n)+2 {
			return 0, nil, false
		}
		i += int(n) + 2
		total += int(n)
	}
	// Complete: compact the chunk data to the front.
	out, j := 0, 0
	for {
		le := bytes.Index(b[j:], []byte("\r\n"))
		sz, _, _ := bytes.Cut(b[j:j+le], []byte(";"))
		n, _ := strconv.ParseUint(string(bytes.TrimSpace(sz)), 16, 31)
		j += le + 2
		if n == 0 {
			break
		}
		copy(b[out:], b[j:j+int(n)])
		out += int(n)
		j += int(n) + 2
	}
	_ = total
	return i, b[:out], true
}
