package dnsmsg

// MaxTCPMessage is the largest DNS-over-TCP message (the 2-byte length).
const MaxTCPMessage = 65535

// Stream splits one direction of a DNS-over-TCP connection into messages.
// Feed it the in-order bytes in whatever chunks they arrive, then call
// Next until it reports false. It buffers at most one partial message
// (≤ 65537 bytes).
type Stream struct {
	buf []byte
	off int // start of the unconsumed bytes in buf
}

// Write appends a chunk of the in-order stream. It never fails; the error
// is there so a Stream is an io.Writer.
func (s *Stream) Write(chunk []byte) (int, error) {
	if s.off > 0 && s.off == len(s.buf) {
		s.buf, s.off = s.buf[:0], 0
	} else if s.off > 0 && len(s.buf)+len(chunk) > cap(s.buf) {
		// Compact before growing so the buffer stays one message long.
		n := copy(s.buf, s.buf[s.off:])
		s.buf, s.off = s.buf[:n], 0
	}
	s.buf = append(s.buf, chunk...)
	return len(chunk), nil
}

// Next returns the next complete message (without its length prefix),
// valid until the next Write, or false when more bytes are needed.
func (s *Stream) Next() ([]byte, bool) {
	msg, rest, ok := SplitTCP(s.buf[s.off:])
	if !ok {
		return nil, false
	}
	s.off = len(s.buf) - len(rest)
	return msg, true
}

// Reset drops any buffered bytes (for reuse on another connection).
func (s *Stream) Reset() { s.buf, s.off = s.buf[:0], 0 }

// SplitTCP takes the first length-prefixed message off b. ok is false when
// b does not yet hold a whole message.
func SplitTCP(b []byte) (msg, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, b, false
	}
	n := int(be16(b))
	if len(b) < 2+n {
		return nil, b, false
	}
	return b[2 : 2+n], b[2+n:], true
}
