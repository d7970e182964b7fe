package tlshello

import "bytes"

// Parser takes the client's stream chunk by chunk. The zero value is ready;
// Reset it to reuse it for another connection.
type Parser struct {
	// Hello is the parsed hello once Feed has returned nil.
	Hello ClientHello

	buf  []byte
	done bool
	err  error
}

// Feed appends the next in-order chunk of the client's stream and tries to
// parse. It returns ErrNeedMore until the hello is complete, then nil; any
// other error is final (not TLS, too large, malformed). After a final
// result further calls return it again without work.
func (p *Parser) Feed(chunk []byte) error {
	if p.done {
		return p.err
	}
	room := MaxStream - len(p.buf)
	if len(chunk) > room {
		chunk = chunk[:room]
	}
	p.buf = append(p.buf, chunk...)
	err := Parse(p.buf, &p.Hello)
	if err == ErrNeedMore {
		return err
	}
	p.done, p.err = true, err
	return err
}

// Done reports whether Feed reached a final result.
func (p *Parser) Done() bool { return p.done }

// Reset readies p for another stream, keeping its buffers.
func (p *Parser) Reset() {
	p.Hello.Reset()
	p.buf, p.done, p.err = p.buf[:0], false, nil
}

// Find returns the offset of the first plausible ClientHello record in b
// (handshake record, TLS 1.x version, handshake type 1), or -1. It lets a
// caller start the Parser after a plaintext preamble (STARTTLS, SOCKS,
// HTTP CONNECT) whose end it does not know.
func Find(b []byte) int {
	for i := 0; i+6 <= len(b); i++ {
		// Jump to the next 22 (IndexByte scans many bytes at a time):
		// a plaintext preamble or a non-TLS stream holds few of them.
		j := bytes.IndexByte(b[i:len(b)-5], 22)
		if j < 0 {
			return -1
		}
		if i += j; b[i+1] == 3 && b[i+2] <= 4 && b[i+5] == 1 {
			if n := int(be16(b[i+3:])); n > 0 && n <= 16384+2048 {
				return i
			}
		}
	}
	return -1
}
