package tlshello

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// ErrQUICVersion is returned for QUIC versions whose Initial protection
// this parser does not know (it knows version 1, RFC 9000/9001).
var ErrQUICVersion = errors.New("quic: unsupported version")

// quicV1Salt is RFC 9001 §5.2's initial salt for QUIC version 1.
var quicV1Salt = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}

// QUICParser extracts the ClientHello from a client's QUIC Initial
// packets. Initial packets are encrypted, but with keys derived from the
// client's Destination Connection ID (RFC 9001 §5.2), so any observer can
// read them: it removes header protection, decrypts, and reassembles the
// CRYPTO frames (a hello with a post-quantum key share spans several
// packets). Feed it the client's UDP payloads in order; it returns
// ErrNeedMore until the hello is complete. Bounded by MaxStream.
type QUICParser struct {
	// Hello is the parsed hello once Feed has returned nil.
	Hello ClientHello

	dcid       []byte
	aead       cipher.AEAD
	hp         cipher.Block
	iv         [12]byte
	crypto     []byte // CRYPTO stream bytes by offset
	have       []bool // which crypto bytes were received
	done       bool
	err        error
	sawInitial bool
}

// Reset readies q for another flow.
func (q *QUICParser) Reset() {
	q.Hello.Reset()
	*q = QUICParser{Hello: q.Hello, crypto: q.crypto[:0], have: q.have[:0]}
}

// Done reports whether Feed reached a final result.
func (q *QUICParser) Done() bool { return q.done }

// Feed takes one client→server UDP payload.
func (q *QUICParser) Feed(datagram []byte) error {
	if q.done {
		return q.err
	}
	err := q.feed(datagram)
	if err == nil {
		err = q.tryHello()
	}
	if err == ErrNeedMore {
		if !q.sawInitial {
			q.done, q.err = true, ErrNotTLS
			return ErrNotTLS
		}
		return err
	}
	q.done, q.err = true, err
	return err
}

func (q *QUICParser) feed(b []byte) error {
	for len(b) > 0 {
		if b[0]&0x80 == 0 {
			return nil // short header: 1-RTT data, nothing more for us
		}
		r := reader{b: b}
		first := byte(r.u8())
		version := uint32(r.u16())<<16 | uint32(r.u16())
		dcid := r.sub8()
		r.sub8() // scid
		if r.bad {
			return ErrNeedMore
		}
		if version == 0 {
			return nil // version negotiation
		}
		if version != 1 {
			return ErrQUICVersion
		}
		typ := first >> 4 & 3
		if typ == 0 { // Initial: token
			n, ok := varint(&r)
			if !ok {
				return fmt.Errorf("%w: quic token length", ErrMalformed)
			}
			r.skip(int(n))
		}
		length, ok := varint(&r)
		if !ok || r.bad || int(length) > len(r.b) {
			return fmt.Errorf("%w: quic packet length", ErrMalformed)
		}
		pnOff := len(b) - len(r.b)
		end := pnOff + int(length)
		if typ == 0 {
			if err := q.initial(b[:end], pnOff, dcid.b); err != nil {
				return err
			}
		}
		b = b[end:]
	}
	return nil
}

// initial decrypts one Initial packet (pkt ends with the packet) and
// stores its CRYPTO frames.
func (q *QUICParser) initial(pkt []byte, pnOff int, dcid []byte) error {
	if q.aead == nil {
		if err := q.keys(dcid); err != nil {
			return err
		}
	}
	q.sawInitial = true
	if pnOff+4+16 > len(pkt) {
		return fmt.Errorf("%w: quic packet too short to sample", ErrMalformed)
	}
	var mask [16]byte
	q.hp.Encrypt(mask[:], pkt[pnOff+4:pnOff+4+16])
	hdr := make([]byte, 0, pnOff+4)
	hdr = append(hdr, pkt[:pnOff]...)
	hdr[0] ^= mask[0] & 0x0f
	pnLen := int(hdr[0]&3) + 1
	var pn uint64
	for i := 0; i < pnLen; i++ {
		c := pkt[pnOff+i] ^ mask[1+i]
		hdr = append(hdr, c)
		pn = pn<<8 | uint64(c)
	}
	nonce := q.iv
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= byte(pn >> (56 - 8*i))
	}
	plain, err := q.aead.Open(nil, nonce[:], pkt[pnOff+pnLen:], hdr)
	if err != nil {
		// Not the client's Initial for these keys (a retransmission after
		// Retry, or not QUIC at all): skip it.
		return nil
	}
	return q.frames(plain)
}

func (q *QUICParser) keys(dcid []byte) error {
	q.dcid = append(q.dcid[:0], dcid...)
	initial, err := hkdf.Extract(sha256.New, dcid, quicV1Salt)
	if err != nil {
		return err
	}
	client := expandLabel(initial, "client in", 32)
	block, err := aes.NewCipher(expandLabel(client, "quic key", 16))
	if err != nil {
		return err
	}
	if q.aead, err = cipher.NewGCM(block); err != nil {
		return err
	}
	copy(q.iv[:], expandLabel(client, "quic iv", 12))
	q.hp, err = aes.NewCipher(expandLabel(client, "quic hp", 16))
	return err
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context.
func expandLabel(secret []byte, label string, n int) []byte {
	full := "tls13 " + label
	info := append([]byte{byte(n >> 8), byte(n), byte(len(full))}, full...)
	info = append(info, 0)
	out, _ := hkdf.Expand(sha256.New, secret, string(info), n)
	return out
}

func (q *QUICParser) frames(p []byte) error {
	r := reader{b: p}
	for r.len() > 0 {
		typ, ok := varint(&r)
		if !ok {
			return fmt.Errorf("%w: quic frame type", ErrMalformed)
		}
		switch typ {
		case 0x00, 0x01: // PADDING, PING
		case 0x02, 0x03: // ACK
			var n [4]uint64
			for i := range n {
				n[i], ok = varint(&r)
			}
			for i := uint64(0); ok && i < n[2]; i++ {
				_, ok = varint(&r)
				if ok {
					_, ok = varint(&r)
				}
			}
			if typ == 0x03 {
				for i := 0; ok && i < 3; i++ {
					_, ok = varint(&r)
				}
			}
			if !ok {
				return fmt.Errorf("%w: quic ACK frame", ErrMalformed)
			}
		case 0x06: // CRYPTO
			off, ok1 := varint(&r)
			n, ok2 := varint(&r)
			data := r.take(int(n))
			if !ok1 || !ok2 || data.bad {
				return fmt.Errorf("%w: quic CRYPTO frame", ErrMalformed)
			}
			if off+n > MaxStream {
				return ErrTooLarge
			}
			end := int(off + n)
			for len(q.crypto) < end {
				q.crypto = append(q.crypto, 0)
				q.have = append(q.have, false)
			}
			copy(q.crypto[off:end], data.b)
			for i := int(off); i < end; i++ {
				q.have[i] = true
			}
		case 0x1c, 0x1d: // CONNECTION_CLOSE
			return nil
		default:
			return fmt.Errorf("%w: quic frame type %#x in an Initial packet", ErrMalformed, typ)
		}
	}
	return nil
}

// tryHello parses the hello once the CRYPTO stream holds all of it.
func (q *QUICParser) tryHello() error {
	n := 0
	for n < len(q.have) && q.have[n] {
		n++
	}
	if n < 4 {
		return ErrNeedMore
	}
	if q.crypto[0] != 1 {
		return ErrNotTLS
	}
	need := 4 + (int(q.crypto[1])<<16 | int(q.crypto[2])<<8 | int(q.crypto[3]))
	if need > MaxStream {
		return ErrTooLarge
	}
	if n < need {
		return ErrNeedMore
	}
	q.Hello.Reset()
	q.Hello.hs = append(q.Hello.hs, q.crypto[:need]...)
	if err := q.Hello.decodeMessage(need); err != nil {
		return err
	}
	q.Hello.QUIC = true
	return nil
}

// varint reads a QUIC variable-length integer (RFC 9000 §16).
func varint(r *reader) (uint64, bool) {
	if r.len() < 1 {
		r.bad = true
		return 0, false
	}
	n := 1 << (r.b[0] >> 6)
	if r.len() < n {
		r.bad, r.b = true, nil
		return 0, false
	}
	v := uint64(r.b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(r.b[i])
	}
	r.b = r.b[n:]
	return v, true
}
