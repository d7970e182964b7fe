package tlshello

import (
	"errors"
	"fmt"
)

// MaxStream is how many stream bytes a Parser buffers before giving up.
const MaxStream = 16 << 10

// Errors. ErrNeedMore is not a failure: feed more bytes.
var (
	ErrNeedMore  = errors.New("tls: need more bytes")
	ErrNotTLS    = errors.New("tls: stream does not start with a ClientHello")
	ErrTooLarge  = errors.New("tls: ClientHello larger than the parse limit")
	ErrMalformed = errors.New("tls: malformed ClientHello")
)

// TLS extension numbers the parser reads.
const (
	extServerName          = 0x0000
	extSupportedGroups     = 0x000a
	extECPointFormats      = 0x000b
	extSignatureAlgorithms = 0x000d
	extALPN                = 0x0010
	extSupportedVersions   = 0x002b
)

// ClientHello is a parsed hello. Slices alias the hello's own buffer and
// are valid until the next Parse into the same value.
type ClientHello struct {
	RecordVersion uint16 // version in the first record header
	Version       uint16 // legacy_version of the hello
	SessionIDLen  int

	CipherSuites        []uint16
	Extensions          []uint16 // in wire order, GREASE included
	SupportedVersions   []uint16
	Groups              []uint16
	PointFormats        []uint8
	SignatureAlgorithms []uint16
	// SNI is the first host_name of the server_name extension; HasSNI is
	// true when the extension is present (it can be present and empty).
	SNI    []byte
	HasSNI bool
	ALPN   [][]byte
	// QUIC is set for a hello carried in QUIC Initial packets (JA4 "q").
	QUIC bool

	hs []byte // the handshake message, reassembled from its records
}

// Reset empties h, keeping its buffers.
func (h *ClientHello) Reset() {
	*h = ClientHello{
		CipherSuites:        h.CipherSuites[:0],
		Extensions:          h.Extensions[:0],
		SupportedVersions:   h.SupportedVersions[:0],
		Groups:              h.Groups[:0],
		PointFormats:        h.PointFormats[:0],
		SignatureAlgorithms: h.SignatureAlgorithms[:0],
		ALPN:                h.ALPN[:0],
		hs:                  h.hs[:0],
	}
}

// IsGREASE reports whether v is one of RFC 8701's reserved GREASE values
// (0x0a0a, 0x1a1a, … 0xfafa).
func IsGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// Parse decodes the ClientHello at the start of stream, the client's
// in-order bytes from the first one. It returns ErrNeedMore when stream
// is a proper prefix of a hello, ErrNotTLS when it cannot be one,
// ErrTooLarge past MaxStream, and an error wrapping ErrMalformed for a
// broken hello. stream is not retained.
func Parse(stream []byte, h *ClientHello) error {
	h.Reset()
	// Reassemble the handshake message from consecutive handshake records.
	need := -1 // total handshake bytes (4 + body) once the header is known
	for off := 0; ; {
		if len(stream)-off < 5 {
			if off == 0 && !plausibleStart(stream) {
				return ErrNotTLS
			}
			return tooLargeOr(len(stream))
		}
		rec := stream[off:]
		if rec[0] != 22 || rec[1] != 3 || rec[2] > 4 {
			if off == 0 {
				return ErrNotTLS
			}
			return fmt.Errorf("record at %d: type %d version %#x: %w", off, rec[0], be16(rec[1:]), ErrMalformed)
		}
		n := int(be16(rec[3:]))
		if n == 0 || n > 16384+2048 {
			return fmt.Errorf("record length %d: %w", n, ErrMalformed)
		}
		if off == 0 {
			h.RecordVersion = be16(rec[1:])
		}
		if len(rec) < 5+n {
			// Use what is there to decide early whether this is a hello.
			h.hs = append(h.hs, rec[5:]...)
			if err := checkHeader(h.hs); err != nil {
				return err
			}
			return tooLargeOr(len(stream))
		}
		h.hs = append(h.hs, rec[5:5+n]...)
		off += 5 + n
		if err := checkHeader(h.hs); err != nil {
			return err
		}
		if need < 0 && len(h.hs) >= 4 {
			need = 4 + (int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3]))
			if need > MaxStream {
				return ErrTooLarge
			}
		}
		if need >= 0 && len(h.hs) >= need {
			return h.decodeMessage(need)
		}
	}
}

func tooLargeOr(n int) error {
	if n >= MaxStream {
		return ErrTooLarge
	}
	return ErrNeedMore
}

// plausibleStart says whether a stream shorter than a record header could
// still become a handshake record.
func plausibleStart(b []byte) bool {
	return (len(b) < 1 || b[0] == 22) && (len(b) < 2 || b[1] == 3) && (len(b) < 3 || b[2] <= 4)
}

// checkHeader rejects handshake messages that are not a ClientHello as
// soon as the type byte is in.
func checkHeader(hs []byte) error {
	if len(hs) >= 1 && hs[0] != 1 {
		return ErrNotTLS
	}
	return nil
}

// decodeMessage decodes the complete handshake message h.hs[:need].
func (h *ClientHello) decodeMessage(need int) error {
	if err := h.decode(h.hs[4:need]); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// decode reads the ClientHello body (after the 4-byte handshake header).
func (h *ClientHello) decode(b []byte) error {
	r := reader{b: b}
	h.Version = r.u16()
	r.skip(32) // random
	sid := r.u8()
	h.SessionIDLen = sid
	r.skip(sid)
	cs := r.sub16()
	for cs.len() >= 2 {
		h.CipherSuites = append(h.CipherSuites, cs.u16())
	}
	if cs.len() != 0 {
		return errors.New("odd cipher suite list")
	}
	comp := r.u8()
	r.skip(comp)
	if r.bad {
		return errors.New("hello truncated before extensions")
	}
	if r.len() == 0 {
		return nil // SSL 3.0 / TLS 1.0 hellos may have no extensions
	}
	exts := r.sub16()
	if r.bad {
		return errors.New("extension block truncated")
	}
	for exts.len() > 0 {
		typ := exts.u16()
		body := exts.sub16()
		if exts.bad {
			return fmt.Errorf("extension %#04x truncated", typ)
		}
		h.Extensions = append(h.Extensions, typ)
		if err := h.extension(typ, body); err != nil {
			return fmt.Errorf("extension %#04x: %w", typ, err)
		}
	}
	return nil
}

func (h *ClientHello) extension(typ uint16, e reader) error {
	switch typ {
	case extServerName:
		h.HasSNI = true
		list := e.sub16()
		for list.len() > 0 {
			kind := list.u8()
			name := list.sub16()
			if list.bad {
				return errors.New("server_name truncated")
			}
			if kind == 0 && h.SNI == nil {
				h.SNI = name.b
			}
		}
	case extSupportedGroups:
		l := e.sub16()
		for l.len() >= 2 {
			h.Groups = append(h.Groups, l.u16())
		}
	case extECPointFormats:
		l := e.sub8()
		for l.len() >= 1 {
			h.PointFormats = append(h.PointFormats, uint8(l.u8()))
		}
	case extSignatureAlgorithms:
		l := e.sub16()
		for l.len() >= 2 {
			h.SignatureAlgorithms = append(h.SignatureAlgorithms, l.u16())
		}
	case extALPN:
		l := e.sub16()
		for l.len() > 0 {
			p := l.sub8()
			if l.bad {
				return errors.New("alpn truncated")
			}
			h.ALPN = append(h.ALPN, p.b)
		}
	case extSupportedVersions:
		l := e.sub8()
		for l.len() >= 2 {
			h.SupportedVersions = append(h.SupportedVersions, l.u16())
		}
	}
	if e.bad {
		return errors.New("truncated")
	}
	return nil
}

// reader is a bounds-checked cursor: a read past the end sets bad and
// returns zeros, so decoding code stays linear and never panics.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) len() int { return len(r.b) }

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad, r.b = true, nil
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return int(v)
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad, r.b = true, nil
		return 0
	}
	v := be16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) skip(n int) {
	if len(r.b) < n {
		r.bad, r.b = true, nil
		return
	}
	r.b = r.b[n:]
}

func (r *reader) take(n int) reader {
	if len(r.b) < n {
		r.bad, r.b = true, nil
		return reader{bad: true}
	}
	s := reader{b: r.b[:n:n]}
	r.b = r.b[n:]
	return s
}

func (r *reader) sub8() reader  { return r.take(r.u8()) }
func (r *reader) sub16() reader { return r.take(int(r.u16())) }

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
