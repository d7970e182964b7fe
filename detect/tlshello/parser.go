package tlshello

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
